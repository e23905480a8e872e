"""Process lifecycle: startup hooks, readiness, the in-flight count and draining on SIGTERM.

Knative sends SIGTERM after its queue-proxy has drained, but a direct `kill` or a
local Ctrl+C may come mid-request. On SIGTERM the host turns unready at once,
answers new work 503, lets in-flight work finish within the grace period, and only
then hands the signal to the server (uvicorn), which closes the socket and runs
the shutdown hooks.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from kfn import logs
from kfn.registry import Hook

SignalHandler = Callable[[int, FrameType | None], Any] | int | None


async def run_hook(hook: Hook) -> Any:
    """Call a sync or async hook; sync ones run in a thread so they cannot block the loop."""
    if inspect.iscoroutinefunction(hook.func):
        return await hook.func()
    return await asyncio.to_thread(hook.func)


class Lifecycle:
    def __init__(self, grace_period: float) -> None:
        self.grace_period = grace_period
        self.started = False
        self.draining = False
        self.in_flight = 0
        self.in_flight_events = 0
        self._idle: asyncio.Event | None = None

    # -- in-flight accounting ------------------------------------------------------

    def enter(self, event: bool) -> None:
        self.in_flight += 1
        if event:
            self.in_flight_events += 1
        if self._idle is not None:
            self._idle.clear()

    def leave(self, event: bool) -> None:
        self.in_flight -= 1
        if event:
            self.in_flight_events -= 1
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is in flight; False when the timeout ran out first."""
        if self.in_flight == 0:
            return True
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    # -- draining ------------------------------------------------------------------

    def install_sigterm_drain(self) -> None:
        """Put a draining step in front of whatever SIGTERM handler the server has."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        previous: SignalHandler = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(self._on_sigterm, previous, signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)

    def _on_sigterm(self, previous: SignalHandler, signum: int, frame: FrameType | None) -> None:
        if self.draining:  # a second SIGTERM: stop waiting
            self._hand_over(previous, signum, frame)
            return
        self.draining = True
        logs.event(
            logging.INFO,
            "SIGTERM: draining",
            in_flight=self.in_flight,
            grace_period_seconds=self.grace_period,
        )
        asyncio.get_running_loop().create_task(self._drain_then_exit(previous, signum, frame))

    async def _drain_then_exit(
        self, previous: SignalHandler, signum: int, frame: FrameType | None
    ) -> None:
        started = time.monotonic()
        finished = await self.wait_idle(self.grace_period)
        logs.event(
            logging.INFO if finished else logging.WARNING,
            "drained" if finished else "grace period over with work in flight",
            in_flight=self.in_flight,
            seconds=round(time.monotonic() - started, 3),
        )
        self._hand_over(previous, signum, frame)

    @staticmethod
    def _hand_over(previous: SignalHandler, signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            os.kill(os.getpid(), signum)
