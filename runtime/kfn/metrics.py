"""What operators look for on /metrics: events by outcome, durations, in flight, emits, refusals, startup.

Names and units follow the Prometheus conventions (`_total` counters, `_seconds`,
base units). Every label value comes from the code, never from a request: the
function names are the decorated functions', `reason` is the kind of problem the
host answered with (a fixed set), `status` an HTTP status the host chose. Recording
is a few dict operations on the hot path; prometheus_client is imported only when
/metrics is scraped, to render what was recorded.

The refusals of the HTTP layer (`kfn._protocol`: malformed HTTP, timeouts, header
limits, the connection cap) happen before any app sees a request, so they are
counted per process (`HTTP_REFUSALS`, one server per process) and every app's
/metrics shows them.
"""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from kfn._errors import is_retried
from kfn._inflight import InFlight

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def outcome(status: int) -> str:
    """ "ok" (2xx), "failed" (a status Knative retries) or "rejected" (sent to the dead-letter sink)."""
    if status < 300:
        return "ok"
    return "failed" if is_retried(status) else "rejected"


def process_age() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that cannot be read."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        started_ticks = int(stat.rsplit(b")", 1)[1].split()[19])
        return max(0.0, uptime - started_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


_IMPORTED = time.monotonic()


class HttpRefusals:
    """Requests the HTTP layer answered with a refusal, by reason and status.

    The layer declares its closed set of reasons up front, so each is on /metrics
    at 0 from the start and a rate over it needs no first refusal to exist.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def declare(self, reasons: Mapping[str, int]) -> None:
        """Show each reason (to its status) at 0 until it is first counted."""
        for reason, status in reasons.items():
            self.counts.setdefault((reason, status), 0)

    def refuse(self, reason: str, status: int) -> None:
        key = (reason, status)
        self.counts[key] = self.counts.get(key, 0) + 1


HTTP_REFUSALS = HttpRefusals()
"""This process's HTTP layer's refusals (kfn._protocol records them)."""


class Metrics:
    def __init__(
        self, in_flight: InFlight | None = None, http_refusals: HttpRefusals | None = None
    ) -> None:
        self.in_flight = in_flight if in_flight is not None else InFlight()
        """The host's one in-flight tracker: read for the gauges, never written here."""
        self.http_refusals = http_refusals if http_refusals is not None else HTTP_REFUSALS
        """The HTTP layer's refusals: the process's unless given."""
        self.events: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.latency_counts: dict[str, list[int]] = {}
        self.latency_sums: defaultdict[str, float] = defaultdict(float)
        self.emits: defaultdict[str, int] = defaultdict(int)
        self.emit_failures: defaultdict[str, int] = defaultdict(int)
        self.refused: defaultdict[tuple[str, int], int] = defaultdict(int)
        self.startup_seconds: float | None = None

    def finished(self, function: str, status: int, seconds: float) -> None:
        self.events[(function, outcome(status), status)] += 1
        counts = self.latency_counts.get(function)
        if counts is None:
            counts = self.latency_counts[function] = [0] * (len(BUCKETS) + 1)
        counts[bisect_left(BUCKETS, seconds)] += 1
        self.latency_sums[function] += seconds

    def emitted(self, function: str | None, ok: bool) -> None:
        """An emit from `function` (None: outside any function) reached the sink, or did not."""
        key = function or ""
        self.emits[key] += 1
        if not ok:
            self.emit_failures[key] += 1

    def refuse(self, reason: str, status: int) -> None:
        """A request answered before any function ran (overloaded, draining, not an event...)."""
        self.refused[(reason, status)] += 1

    def ready(self) -> None:
        """The host turned ready: its startup time is the process's age (or, failing that, since import)."""
        age = process_age()
        self.startup_seconds = age if age is not None else time.monotonic() - _IMPORTED

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
        events = CounterMetricFamily(
            "kfn_events",
            "Events handled by a function, by outcome (ok, failed: retried by Knative, "
            "rejected: sent to the dead-letter sink) and HTTP status",
            labels=["function", "outcome", "status"],
        )
        for (function, result, status), count in sorted(m.events.items()):
            events.add_metric([function, result, str(status)], count)
        yield events

        duration = HistogramMetricFamily(
            "kfn_event_duration_seconds", "Time a function took on an event", labels=["function"]
        )
        for function, counts in sorted(m.latency_counts.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((repr(bound) if bound != float("inf") else "+Inf", cumulative))
            duration.add_metric([function], buckets, m.latency_sums[function])
        yield duration

        in_flight = GaugeMetricFamily(
            "kfn_events_in_flight", "Events a function is working on", labels=["function"]
        )
        for function, count in sorted(m.in_flight.calls.items()):
            in_flight.add_metric([function], count)
        yield in_flight
        yield GaugeMetricFamily(
            "kfn_requests_in_flight",
            "Requests the host is working on (events and HTTP functions), and sync calls "
            "answered past their timeout whose thread still runs",
            value=m.in_flight.total,
        )
        workers = m.in_flight.workers
        if workers is not None:
            yield GaugeMetricFamily(
                "kfn_sync_workers", "Worker threads sync functions may use", value=workers.size
            )
            yield GaugeMetricFamily(
                "kfn_sync_workers_busy",
                "Worker threads running a sync function (stuck ones included)",
                value=workers.busy,
            )
            yield GaugeMetricFamily(
                "kfn_sync_workers_stuck",
                "Worker threads still running a sync function answered past its timeout",
                value=workers.stuck,
            )

        emits = CounterMetricFamily(
            "kfn_emits", "Events emitted, by the emitting function", labels=["function"]
        )
        failures = CounterMetricFamily(
            "kfn_emit_failures",
            "Emitted events that did not reach the sink, by the emitting function",
            labels=["function"],
        )
        for function, count in sorted(m.emits.items()):
            emits.add_metric([function], count)
            failures.add_metric([function], m.emit_failures.get(function, 0))
        yield emits
        yield failures

        refused = CounterMetricFamily(
            "kfn_refused_requests",
            "Requests refused before any function ran, by reason (the problem type) and status",
            labels=["reason", "status"],
        )
        for (reason, status), count in sorted(m.refused.items()):
            refused.add_metric([reason, str(status)], count)
        yield refused

        http_refused = CounterMetricFamily(
            "kfn_http_refused",
            "Requests the HTTP layer refused before the app saw them (malformed, too slow, "
            "headers over a limit, past the connection cap), by reason and status",
            labels=["reason", "status"],
        )
        for (reason, status), count in sorted(m.http_refusals.counts.items()):
            http_refused.add_metric([reason, str(status)], count)
        yield http_refused

        if m.startup_seconds is not None:
            yield GaugeMetricFamily(
                "kfn_startup_duration_seconds",
                "From process start to ready (the cold start)",
                value=m.startup_seconds,
            )
