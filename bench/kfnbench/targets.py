"""The targets of the benchmark issue, judged on ratios measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfnbench.systems import SUBJECT


@dataclass(frozen=True)
class Target:
    title: str
    metric: str  # rps, p99_ms (throughput) or cold_ms, rss_mib (cold start)
    where: tuple[str, int] | str  # (workload, connections) or a cold-start group
    anchor: str
    op: str  # ">=" or "<="
    bound: float


TARGETS = (
    Target("binary event, c32, req/s vs floor", "rps", ("event-binary", 32), "floor", ">=", 0.8),
    Target(
        "binary event, c32, req/s vs func-python",
        "rps",
        ("event-binary", 32),
        "func-python",
        ">=",
        2.5,
    ),
    Target(
        "binary event, c32, req/s vs functions-framework",
        "rps",
        ("event-binary", 32),
        "functions-framework",
        ">=",
        3.0,
    ),
    Target("binary event, c32, p99 vs floor", "p99_ms", ("event-binary", 32), "floor", "<=", 1.5),
    Target("HTTP GET, c32, req/s vs bare FastAPI", "rps", ("http-get", 32), "fastapi", ">=", 1.0),
    Target("cold start, event-only app vs floor", "cold_ms", "events", "floor", "<=", 1.25),
    Target(
        "cold start, event-only app vs func-python (CloudEvent)",
        "cold_ms",
        "events",
        "func-python",
        "<=",
        1.1,
    ),
    Target(
        "cold start, app with HTTP functions vs bare FastAPI",
        "cold_ms",
        "http",
        "fastapi",
        "<=",
        1.1,
    ),
    Target("idle RSS, event-only app vs floor", "rss_mib", "events", "floor", "<=", 1.0),
)


def value(
    results: dict[str, Any], metric: str, where: tuple[str, int] | str, system: str
) -> float | None:
    """A system's median for a metric, or None when the run did not measure it."""
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
    """Each target: kfn's ratio to its anchor, whether it is met, and by how much."""
    verdicts = []
    for target in TARGETS:
        mine = value(results, target.metric, target.where, SUBJECT)
        theirs = value(results, target.metric, target.where, target.anchor)
        entry: dict[str, Any] = {
            "title": target.title,
            "metric": target.metric,
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
