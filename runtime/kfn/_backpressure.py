"""Whether the host takes new work now: not while starting or draining, not over the limit."""

from __future__ import annotations

from kfn._errors import Unavailable
from kfn._inflight import InFlight
from kfn.lifecycle import Lifecycle


class Backpressure:
    def __init__(
        self, lifecycle: Lifecycle, in_flight: InFlight, max_in_flight_events: int
    ) -> None:
        self.lifecycle = lifecycle
        self.in_flight = in_flight
        self.max_in_flight_events = max_in_flight_events

    def check(self, event: bool) -> None:
        """Raise Unavailable unless one more event (or HTTP request) may start."""
        if self.lifecycle.draining:
            raise Unavailable("draining", "the host is shutting down")
        if not self.lifecycle.started:
            raise Unavailable("starting", "the host is still starting")
        if event and self.in_flight.events >= self.max_in_flight_events:
            raise Unavailable(
                "overloaded",
                f"{self.in_flight.events} events in flight, the limit is "
                f"{self.max_in_flight_events}",
            )
