"""The targets of the benchmark issues, judged on ratios measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfnbench.systems import EVENTS, HTTP, MIXED_EVENT, SUBJECT


@dataclass(frozen=True)
class Target:
    """`subject` ÷ `anchor` on one metric, against a bound.

    Metrics: rps and p99_ms (throughput; `where` is (workload, connections)), cold_ms
    and rss_mib (cold start; `where` is a group), dispatch_us (the dispatch
    micro-benchmark; subject and anchor are function counts).
    """

    title: str
    metric: str
    where: tuple[str, int] | str
    anchor: str
    op: str  # ">=" or "<="
    bound: float
    subject: str = SUBJECT


BINARY_32 = ("event-binary", 32)
DISPATCH = "dispatch"

TARGETS = (
    Target("binary event, c32, req/s vs floor", "rps", BINARY_32, "floor", ">=", 1.2),
    Target("binary event, c32, req/s vs func-python", "rps", BINARY_32, "func-python", ">=", 4.0),
    Target(
        "binary event, c32, req/s vs functions-framework",
        "rps",
        BINARY_32,
        "functions-framework",
        ">=",
        3.0,
    ),
    Target("binary event, c32, p99 vs floor", "p99_ms", BINARY_32, "floor", "<=", 1.5),
    Target("HTTP GET, c32, req/s vs bare FastAPI", "rps", ("http-get", 32), "fastapi", ">=", 1.1),
    Target(
        "sync function, c32, req/s vs the same as async def",
        "rps",
        BINARY_32,
        "kfn-async",
        ">=",
        0.9,
        subject="kfn-sync",
    ),
    Target(
        "sync function, c32, p99 vs the same as async def",
        "p99_ms",
        BINARY_32,
        "kfn-async",
        "<=",
        1.5,
        subject="kfn-sync",
    ),
    Target(
        "cold start, mixed app, first HTTP answer vs bare FastAPI",
        "cold_ms",
        HTTP,
        "fastapi",
        "<=",
        1.05,
    ),
    Target(
        "cold start, mixed app, first event vs func-python (CloudEvent)",
        "cold_ms",
        MIXED_EVENT,
        "func-python",
        "<=",
        1.1,
    ),
    Target("cold start, event-only app vs floor", "cold_ms", EVENTS, "floor", "<=", 1.25),
    Target(
        "cold start, event-only app vs func-python (CloudEvent)",
        "cold_ms",
        EVENTS,
        "func-python",
        "<=",
        1.0,
    ),
    Target("idle RSS, event-only app vs floor", "rss_mib", EVENTS, "floor", "<=", 1.0),
    Target(
        "dispatch, 1,000 functions vs 10 (µs per event)",
        "dispatch_us",
        DISPATCH,
        "10",
        "<=",
        2.0,
        subject="1000",
    ),
)


def value(
    results: dict[str, Any], metric: str, where: tuple[str, int] | str, system: str
) -> float | None:
    """A system's median for a metric, or None when the run did not measure it."""
    if metric == "dispatch_us":
        for row in results.get("dispatch", []):
            if str(row["functions"]) == system:
                us: float = row["median_us_per_event"]
                return us
        return None
    if isinstance(where, tuple):
        workload, connections = where
        for cell in results.get("throughput", []):
            if (cell["workload"], cell["connections"], cell["system"]) == (
                workload,
                connections,
                system,
            ):
                found: float = cell["median"][metric]
                return found
        return None
    for cold in results.get("coldstart", []):
        if (cold["group"], cold["system"]) == (where, system):
            key = "median_ms" if metric == "cold_ms" else "median_rss_mib"
            found = cold[key]
            return found
    return None


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: the subject's ratio to its anchor, whether it is met, and by how much."""
    verdicts = []
    for target in TARGETS:
        mine = value(results, target.metric, target.where, target.subject)
        theirs = value(results, target.metric, target.where, target.anchor)
        entry: dict[str, Any] = {
            "title": target.title,
            "metric": target.metric,
            "subject": target.subject,
            "anchor": target.anchor,
            "op": target.op,
            "bound": target.bound,
            "ratio": None,
            "met": None,
            "margin_percent": None,
        }
        if mine is not None and theirs:
            ratio = mine / theirs
            met = ratio >= target.bound if target.op == ">=" else ratio <= target.bound
            # Positive margin: room to spare; negative: how far the ratio is from the bound.
            margin = (ratio / target.bound - 1) * (1 if target.op == ">=" else -1) * 100
            entry.update(ratio=round(ratio, 3), met=met, margin_percent=round(margin, 1))
        verdicts.append(entry)
    return verdicts
