"""The one count of work in flight: what backpressure, draining and the in-flight gauge read."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol


class SyncWorkers(Protocol):
    """What the sync functions' worker pool shows of itself (kfn._sync_pool)."""

    @property
    def size(self) -> int: ...

    @property
    def busy(self) -> int: ...

    @property
    def stuck(self) -> int: ...

    @property
    def exhausted(self) -> bool: ...

    def stuck_calls(self) -> list[tuple[str, str | None, float]]:
        """(function, event id, seconds running) of each stuck call, oldest first."""
        ...


class InFlight:
    """Events and HTTP requests being handled, and calls per function.

    `events` is what the in-flight limit applies to; draining waits for
    `events + requests + stuck` to reach zero; `calls` is the per-function gauge;
    `handling` holds the events of each event request in flight (by `hold`), so that
    the work a shutdown cuts off can be named.
    `stuck` counts sync calls answered past their timeout whose thread still runs:
    their sender has its 504, but the work goes on, so it stays in flight (and in
    `calls`) until the thread ends. `workers` is the sync pool, once there is one.
    """

    def __init__(self) -> None:
        self.events = 0
        self.requests = 0
        self.stuck = 0
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.handling: dict[int, tuple[str | None, Sequence[Any]]] = {}
        self.workers: SyncWorkers | None = None
        self._idle: asyncio.Event | None = None

    @property
    def total(self) -> int:
        return self.events + self.requests + self.stuck

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
        if self._idle is not None and self.total == 0:
            self._idle.set()

    def stuck_started(self, function: str) -> None:
        """A sync call of `function` was answered past its timeout; its thread runs on."""
        self.stuck += 1
        self.calls[function] += 1

    def stuck_ended(self, function: str) -> None:
        """The thread of a stuck call of `function` ended."""
        self.stuck -= 1
        self.calls[function] -= 1
        if self._idle is not None and self.total == 0:
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
