"""The worker threads that run sync (`def`) functions, off the event loop.

A call is handed to the workers through a SimpleQueue and comes back with one
`call_soon_threadsafe`; its timeout is one loop timer, cancelled when the call
returns. The calls made during one turn of the event loop are queued together
when it ends: waking a worker while the loop still holds the GIL only makes both
threads switch back and forth, so workers are woken once per turn, not per call. A thread cannot be cancelled, so a call past its timeout is answered at
once (TimeoutError, the 504) while its thread runs on: it is "stuck", counted in
flight until the thread ends. When every worker is stuck the pool is exhausted:
new calls are refused with `Unavailable` (503 + Retry-After, retried elsewhere)
instead of waiting for a worker that may never come back, and readiness says so.
A call whose timeout runs out before any worker picked it up never ran: it gets
the same 503, not a 504.

Workers are daemon threads, started as calls need them up to `size`, and never
joined: a stuck thread does not hold the process past its shutdown.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

from kfn import logs
from kfn._errors import Unavailable
from kfn._inflight import InFlight

_QUEUED, _RUNNING, _DONE, _ABANDONED = range(4)


@dataclass(slots=True)
class SyncCall:
    """What to run on a worker, for which function and event, within how many seconds.

    Built once per sync call and never changed; not `frozen`, whose `__init__` is
    several times dearer, on every call of the event path.
    """

    function: str
    event_id: str | None
    func: Callable[..., Any]
    args: list[Any]
    kwargs: dict[str, Any]
    timeout: float


class _Call:
    """One call on its way through the pool; `state` changes under the pool's lock."""

    __slots__ = ("context", "future", "loop", "request", "started", "state", "stuck", "timer")

    def __init__(
        self,
        request: SyncCall,
        loop: asyncio.AbstractEventLoop,
        expire: Callable[[_Call], None],
    ) -> None:
        self.request = request
        self.loop = loop
        self.context = contextvars.copy_context()
        self.future: asyncio.Future[Any] = loop.create_future()
        self.timer = loop.call_later(request.timeout, expire, self)
        """Armed from the start: every call has its timeout, cancelled when it ends."""
        self.state = _QUEUED
        self.stuck = False
        self.started = 0.0


class SyncPool:
    """Up to `size` daemon threads for sync functions; shows itself on `in_flight.workers`."""

    def __init__(self, size: int, in_flight: InFlight) -> None:
        if size < 1:
            raise ValueError(f"a sync pool needs at least one thread, not {size}")
        self._size = size
        self.in_flight = in_flight
        self._queue: SimpleQueue[_Call | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._busy = 0  # workers running a call: written by workers, under the lock
        self._outstanding = 0  # calls holding or waiting for a worker: loop thread only
        self._stuck: set[_Call] = set()  # loop thread only
        self._stopped = False
        self._batch: list[_Call] = []
        in_flight.workers = self

    # -- what the pool shows (SyncWorkers) ------------------------------------------------

    @property
    def size(self) -> int:
        return self._size

    @property
    def busy(self) -> int:
        """Workers running a call, stuck ones included."""
        return self._busy

    @property
    def stuck(self) -> int:
        """Workers still running a call that was answered past its timeout."""
        return len(self._stuck)

    @property
    def exhausted(self) -> bool:
        """Every worker is stuck: no new call could start until a thread ends."""
        return len(self._stuck) >= self._size

    def stuck_calls(self) -> list[tuple[str, str | None, float]]:
        """(function, event id, seconds running) of every stuck call, oldest first."""
        now = time.monotonic()
        calls = sorted(self._stuck, key=lambda call: call.started)
        return [(c.request.function, c.request.event_id, round(now - c.started, 3)) for c in calls]

    # -- calling ------------------------------------------------------------------------

    async def run(self, request: SyncCall) -> Any:
        """The request's `func(*args, **kwargs)` on a worker, in a copy of the caller's context.

        Raises TimeoutError when it runs past its `timeout` (its thread runs on), and
        Unavailable when no worker can take it (all stuck) or none picked it up
        within the timeout.
        """
        if self._stopped:
            raise Unavailable("draining", "the host is shutting down")
        if len(self._stuck) >= self._size:
            raise Unavailable(
                "sync-workers-exhausted",
                f"all {self._size} sync worker threads are stuck in calls past their "
                "timeout; the event did not run",
            )
        loop = asyncio.get_running_loop()
        call = _Call(request, loop, self._expire)
        self._outstanding += 1
        if self._outstanding > len(self._threads) and len(self._threads) < self._size:
            self._spawn()
        if not self._batch:
            loop.call_soon(self._flush)
        self._batch.append(call)
        try:
            return await call.future
        except asyncio.CancelledError:
            self._expire(call)  # the caller stopped waiting: as if its time ran out
            raise

    def _flush(self) -> None:
        """Hand this loop turn's calls to the workers."""
        batch, self._batch = self._batch, []
        put = self._queue.put
        for call in batch:
            put(call)

    def stop(self) -> list[tuple[str, str | None, float]]:
        """Let idle workers end and refuse new calls; never waits for a thread.

        Returns what is still stuck (as `stuck_calls`), for the shutdown's log.
        """
        self._stopped = True
        for _ in self._threads:
            self._queue.put(None)
        return self.stuck_calls()

    # -- the loop's side ----------------------------------------------------------------

    def _expire(self, call: _Call) -> None:
        """The call's time ran out (or its caller went away): answer it, keep the count."""
        with self._lock:
            state = call.state
            if state == _QUEUED:
                call.state = _ABANDONED
        if state in (_DONE, _ABANDONED) or call.stuck:
            return  # finished (its result is on its way), or already given up on
        call.timer.cancel()
        future = call.future
        if state == _QUEUED:
            self._outstanding -= 1
            if not future.done():
                future.set_exception(
                    Unavailable(
                        "sync-workers-busy",
                        f"no sync worker thread was free within {call.request.timeout:g}s; "
                        "the event did not run",
                    )
                )
            return
        call.stuck = True
        self._stuck.add(call)
        self.in_flight.stuck_started(call.request.function)
        if not future.done():
            future.set_exception(TimeoutError())

    def _finish(self, call: _Call, result: Any, error: BaseException | None) -> None:
        """A worker is done with the call (runs on the loop, once per call)."""
        self._outstanding -= 1
        if call.stuck:
            request = call.request
            self._stuck.discard(call)
            self.in_flight.stuck_ended(request.function)
            logs.event(
                logging.WARNING,
                "a sync function past its timeout ended",
                function=request.function,
                event_id=request.event_id,
                seconds=round(time.monotonic() - call.started, 3),
                timeout_seconds=request.timeout,
            )
            return
        call.timer.cancel()
        future = call.future
        if future.done():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    # -- the workers' side --------------------------------------------------------------

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"kfn-sync-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        get = self._queue.get
        lock = self._lock
        while True:
            call = get()
            if call is None:
                return
            with lock:
                if call.state != _QUEUED:
                    continue  # given up on before it started: it never runs
                call.state = _RUNNING
                self._busy += 1
            call.started = time.monotonic()
            request = call.request
            error: BaseException | None = None
            result: Any = None
            try:
                result = call.context.run(request.func, *request.args, **request.kwargs)
            except BaseException as raised:
                error = raised
            with lock:
                call.state = _DONE
                self._busy -= 1
            try:  # noqa: SIM105 (suppress() would cost a context manager per call)
                call.loop.call_soon_threadsafe(self._finish, call, result, error)
            except RuntimeError:
                pass  # the loop is closed: the process is shutting down
            del call, request, result, error
