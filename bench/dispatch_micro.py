"""Micro-benchmark: matching one event against 100 functions with mixed filters.

Filters (CESQL included) are compiled once when the functions are declared, so
dispatch does no parsing; this measures what is left per event. Run it with the
project's virtualenv:  .venv/bin/python bench/dispatch_micro.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kfn import CloudEvent, Registry
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.filters import any_of, cesql, exact, not_, prefix, suffix
from kfn.metrics import Metrics


def build_registry(count: int) -> Registry:
    """`count` functions cycling through every kind of filter."""
    registry = Registry()
    for i in range(count):
        kind = i % 5
        if kind == 0:
            declare = registry.cloudevent(type=f"com.example.kind{i}", name=f"f{i}")
        elif kind == 1:
            declare = registry.cloudevent(filters=[prefix(type=f"com.example.k{i}.")], name=f"f{i}")
        elif kind == 2:
            declare = registry.cloudevent(
                filters=[any_of(suffix(source=f"/s{i}"), exact(subject=f"x{i}"))], name=f"f{i}"
            )
        elif kind == 3:
            declare = registry.cloudevent(
                filters=[cesql(f"type LIKE 'com.example.%' AND subject = 'eu-{i}'")], name=f"f{i}"
            )
        else:
            declare = registry.cloudevent(
                filters=[prefix(type="com.example."), not_(exact(region=f"r{i}"))], name=f"f{i}"
            )

        def handler(event: CloudEvent) -> None:
            return None

        declare(handler)
    return registry


def measure(functions: int, rounds: int, per_round: int) -> dict[str, float]:
    dispatcher = Dispatcher(build_registry(functions), Settings(), Metrics())
    event = CloudEvent(
        {
            "type": "com.example.order.created",
            "source": "/shop/eu",
            "subject": "eu-3",
            "region": "r4",
        }
    )
    matched = len(dispatcher.match(event))
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(per_round):
            dispatcher.match(event)
        samples.append((time.perf_counter() - started) / per_round * 1e6)
    return {
        "functions": functions,
        "matched": matched,
        "median_us_per_event": round(statistics.median(samples), 2),
        "min_us_per_event": round(min(samples), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(measure(args.functions, args.rounds, args.per_round)))


if __name__ == "__main__":
    main()
