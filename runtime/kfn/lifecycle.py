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


async def run_hook(hook: Hook) -> Any:
    """Call a sync or async hook; sync ones run in a thread so they cannot block the loop."""
    if inspect.iscoroutinefunction(hook.func):
        return await hook.func()
    return await asyncio.to_thread(hook.func)


class Lifecycle:
    """Started (after the startup hooks) and draining (from shutdown or SIGTERM on)."""

    def __init__(self, in_flight: InFlight | None = None) -> None:
        self.started = False
        self.draining = False
        self.in_flight = in_flight if in_flight is not None else InFlight()

    async def drain(self, grace_period: float, reason: str) -> bool:
        """Turn unready and refuse new work, then wait for in-flight work to finish.

        False when the grace period ran out with work still in flight.
        """
        self.draining = True
        logs.event(
            logging.INFO,
            f"{reason}: draining",
            in_flight=self.in_flight.total,
            grace_period_seconds=grace_period,
        )
        started = time.monotonic()
        finished = await self.in_flight.wait_idle(grace_period)
        logs.event(
            logging.INFO if finished else logging.WARNING,
            "drained" if finished else "grace period over with work in flight",
            in_flight=self.in_flight.total,
            seconds=round(time.monotonic() - started, 3),
        )
        return finished
