"""Per-function invocation counts, errors, latency and in-flight events.

Recording is a few dict operations on the hot path; prometheus_client is imported
only when /metrics is scraped, to render what was recorded.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from kfn._inflight import InFlight

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class Metrics:
    def __init__(self, in_flight: InFlight | None = None) -> None:
        self.in_flight = in_flight if in_flight is not None else InFlight()
        self.invocations: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.latency_counts: dict[str, list[int]] = {}
        self.latency_sums: defaultdict[str, float] = defaultdict(float)

    def finished(self, function: str, status: int, seconds: float) -> None:
        outcome = "ok" if status < 400 else str(status)
        self.invocations[(function, outcome)] += 1
        counts = self.latency_counts.get(function)
        if counts is None:
            counts = self.latency_counts[function] = [0] * (len(BUCKETS) + 1)
        counts[bisect_left(BUCKETS, seconds)] += 1
        self.latency_sums[function] += seconds

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of everything recorded, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        from prometheus_client.registry import CollectorRegistry

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        return generate_latest(registry), CONTENT_TYPE_LATEST


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        m = self.metrics
        invocations = CounterMetricFamily(
            "kfn_invocations", "Function invocations by outcome", labels=["function", "outcome"]
        )
        errors = CounterMetricFamily("kfn_errors", "Failed invocations", labels=["function"])
        failed: defaultdict[str, int] = defaultdict(int)
        for (function, outcome), count in sorted(m.invocations.items()):
            invocations.add_metric([function, outcome], count)
            if outcome != "ok":
                failed[function] += count
        for function, count in sorted(failed.items()):
            errors.add_metric([function], count)
        latency = HistogramMetricFamily(
            "kfn_duration_seconds", "Function duration", labels=["function"]
        )
        for function, counts in sorted(m.latency_counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((repr(bound) if bound != float("inf") else "+Inf", cumulative))
            latency.add_metric([function], buckets, m.latency_sums[function])
        in_flight = GaugeMetricFamily("kfn_in_flight", "Events being handled", labels=["function"])
        for function, count in sorted(m.in_flight.calls.items()):
            in_flight.add_metric([function], count)
        yield from (invocations, errors, latency, in_flight)
