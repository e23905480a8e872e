"""Micro-benchmark: choosing the functions of one event, at 10, 100 and 1,000 functions.

The registry is a realistic mix: most functions require an exact `type` (some a
`source` too), some a `type` prefix or a CESQL expression naming the type, one
audits every `com.example.` event, and two have filters nothing can index (an
`any_of`, a CESQL test of another attribute). Filters are compiled once when the
functions are declared, so this measures what is left per event: the router's
indexed choice (what every event pays) beside evaluating every filter in turn
(the reference the index must agree with). Run it with the project's virtualenv:

    .venv/bin/python bench/dispatch_micro.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kfn import CloudEvent, Registry
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.filters import any_of, cesql, exact, prefix, suffix
from kfn.metrics import Metrics
from kfn.routing import Router

SIZES = (10, 100, 1000)
EVENT = {
    "type": "com.example.t5.created",
    "source": "/shop/eu",
    "subject": "eu-3",
    "region": "r4",
}


def _handler(event: CloudEvent) -> None:
    return None


def build_registry(count: int) -> Registry:
    """`count` functions: the mix the module docstring describes, in a fixed order."""
    registry = Registry()
    registry.cloudevent(filters=[prefix(type="com.example.")], name="audit")(_handler)
    registry.cloudevent(
        filters=[any_of(suffix(source="/eu"), exact(subject="x"))], name="regional"
    )(_handler)
    registry.cloudevent(filters=[cesql("subject LIKE 'eu-%'")], name="europe")(_handler)
    for i in range(count - 3):
        kind, name = i % 20, f"f{i}"
        if kind < 14:
            declare = registry.cloudevent(type=f"com.example.t{i}.created", name=name)
        elif kind < 16:
            declare = registry.cloudevent(
                type=f"com.example.t{i}.created", source=f"/shop/{i}", name=name
            )
        elif kind < 18:
            declare = registry.cloudevent(filters=[prefix(type=f"com.example.t{i}.")], name=name)
        else:
            declare = registry.cloudevent(
                filters=[cesql(f"type = 'com.example.t{i}.created' AND subject LIKE 'eu-%'")],
                name=name,
            )
        declare(_handler)
    return registry


def _time(choose: Callable[[], object], rounds: int, per_round: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(per_round):
            choose()
        samples.append((time.perf_counter() - started) / per_round * 1e6)
    return samples


def measure(functions: int, rounds: int, per_round: int) -> dict[str, float]:
    dispatcher = Dispatcher(build_registry(functions), Settings(), Metrics())
    router = Router(dispatcher)
    event = CloudEvent(dict(EVENT, id="1"))
    indexed = [t.name for t in router.matching(event)]
    linear = [t.name for t in dispatcher.match(event)]
    samples = _time(lambda: router.matching(event), rounds, per_round)
    reference = _time(lambda: dispatcher.match(event), rounds, max(1, per_round // 10))
    return {
        "functions": functions,
        "matched": len(indexed),
        "same_as_every_filter": indexed == linear,
        "median_us_per_event": round(statistics.median(samples), 2),
        "min_us_per_event": round(min(samples), 2),
        "every_filter_median_us": round(statistics.median(reference), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=2000)
    args = parser.parse_args()
    results = [measure(size, args.rounds, args.per_round) for size in args.sizes]
    report: dict[str, object] = {"sizes": results}
    if len(results) > 1:
        first, last = results[0], results[-1]
        report["largest_vs_smallest"] = round(
            float(last["median_us_per_event"]) / float(first["median_us_per_event"]), 2
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
