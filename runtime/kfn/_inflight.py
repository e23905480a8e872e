"""The one count of work in flight: what backpressure, draining and the in-flight gauge read."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any


class InFlight:
    """Events and HTTP requests being handled, and calls per function.

    `events` is what the in-flight limit applies to; draining waits for
    `events + requests` to reach zero; `calls` is the per-function gauge;
    `handling` holds the events of each event request in flight (by `hold`), so that
    the work a shutdown cuts off can be named.
    """

    def __init__(self) -> None:
        self.events = 0
        self.requests = 0
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.handling: dict[int, tuple[str | None, Sequence[Any]]] = {}
        self._idle: asyncio.Event | None = None

    @property
    def total(self) -> int:
        return self.events + self.requests

    def enter(self, event: bool) -> None:
        if event:
            self.events += 1
        else:
            self.requests += 1
        if self._idle is not None:
            self._idle.clear()

    def leave(self, event: bool) -> None:
        if event:
            self.events -= 1
        else:
            self.requests -= 1
        if self._idle is not None and self.events == 0 and self.requests == 0:
            self._idle.set()

    def hold(self, function: str | None, events: Sequence[Any]) -> int:
        """Enter one event request with its decoded events (to `function`'s endpoint, or `/`)."""
        self.enter(event=True)
        key = id(events)
        self.handling[key] = (function, events)
        return key

    def release(self, key: int) -> None:
        del self.handling[key]
        self.leave(event=True)

    def event_ids(self) -> list[str]:
        """The ids of the events held now, sorted."""
        return sorted({e.get_id() for _, events in self.handling.values() for e in events})

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is in flight; False when the timeout ran out first."""
        if self.total == 0:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False
