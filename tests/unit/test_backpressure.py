"""The in-flight limit holds even when the count is already past it.

The local broker (one delivery per matching function) and local schedules enter
events without asking, so the count can pass the limit; a new event must still be
refused while it is at or over it.
"""

from __future__ import annotations

import pytest

from kfn._backpressure import Backpressure
from kfn._errors import Unavailable
from kfn._inflight import InFlight
from kfn.lifecycle import Lifecycle


def _started(limit: int) -> tuple[Backpressure, InFlight]:
    in_flight = InFlight()
    lifecycle = Lifecycle(in_flight)
    lifecycle.started = True
    return Backpressure(lifecycle, in_flight, limit), in_flight


@pytest.mark.parametrize("running", [1, 2, 3])
def test_an_event_is_refused_at_or_over_the_limit(running: int) -> None:
    backpressure, in_flight = _started(1)
    for _ in range(running):
        in_flight.enter(event=True)  # as a local-broker fan-out does, unchecked
    with pytest.raises(Unavailable) as refused:
        backpressure.check(event=True)
    assert refused.value.kind == "overloaded"
    backpressure.check(event=False)  # an @http request is not held to it


def test_an_event_is_taken_under_the_limit() -> None:
    backpressure, in_flight = _started(2)
    in_flight.enter(event=True)
    backpressure.check(event=True)
