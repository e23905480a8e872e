"""Process lifecycle: hooks, whether the host is started or draining, and draining itself."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any

from kfn import logs
from kfn._inflight import InFlight
from kfn.registry import Hook

CUT_OFF_IDS_LOGGED = 50
"""At most this many event ids in the one line that names the work a shutdown cut off."""


async def run_hook(hook: Hook) -> Any:
    """Call a sync or async hook; sync ones run in a thread so they cannot block the loop."""
    if inspect.iscoroutinefunction(hook.func):
        return await hook.func()
    return await asyncio.to_thread(hook.func)


class Lifecycle:
    """Started (after the startup hooks) and draining (from shutdown or SIGTERM on).

    Draining has one deadline, set when it begins: a later call (the server's
    shutdown after SIGTERM's drain) waits only for what is left of it.
    """

    def __init__(self, in_flight: InFlight | None = None) -> None:
        self.started = False
        self.draining = False
        self.in_flight = in_flight if in_flight is not None else InFlight()
        self.deadline: float | None = None
        """When draining gives up waiting (time.monotonic()); None until it begins."""

    async def drain(self, grace_period: float, reason: str) -> bool:
        """Turn unready and refuse new work, then wait for in-flight work to finish.

        False when the grace period ran out with work still in flight; that work is
        logged once, by function and event id.
        """
        self.draining = True
        first = self.deadline is None
        if self.deadline is None:
            self.deadline = time.monotonic() + grace_period
            logs.event(
                logging.INFO,
                f"{reason}: draining",
                in_flight=self.in_flight.total,
                grace_period_seconds=grace_period,
            )
        started = time.monotonic()
        finished = await self.in_flight.wait_idle(max(0.0, self.deadline - started))
        if not first:
            return finished
        if finished:
            logs.event(
                logging.INFO,
                "drained",
                in_flight=0,
                seconds=round(time.monotonic() - started, 3),
            )
        else:
            self.log_cut_off(grace_period)
        return finished

    def log_cut_off(self, grace_period: float) -> None:
        """The one line naming the work still running when the grace period ran out."""
        in_flight = self.in_flight
        functions = sorted(name for name, count in in_flight.calls.items() if count > 0)
        if not functions:  # between decoding and calling: name the endpoints
            functions = sorted({f or "/" for f, _ in in_flight.handling.values()})
        event_ids = in_flight.event_ids()
        logs.event(
            logging.WARNING,
            "grace period over: cutting off the work still in flight",
            in_flight=in_flight.total,
            functions=functions,
            event_ids=event_ids[:CUT_OFF_IDS_LOGGED],
            more_event_ids=max(0, len(event_ids) - CUT_OFF_IDS_LOGGED) or None,
            grace_period_seconds=grace_period,
        )
