"""A caller that stops waiting for a sync call: the call never starts, or stays counted."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kfn._errors import Unavailable
from kfn._inflight import InFlight
from kfn._sync_pool import SyncCall, SyncPool


async def started(event: threading.Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.005)


def test_a_cancelled_caller_of_a_running_call_leaves_it_counted_until_it_ends() -> None:
    async def scenario() -> None:
        in_flight = InFlight()
        pool = SyncPool(1, in_flight)
        running, gate = threading.Event(), threading.Event()

        def work() -> str:
            running.set()
            gate.wait(10)
            return "done"

        caller = asyncio.ensure_future(pool.run(SyncCall("work", "e-1", work, [], {}, 30)))
        await started(running)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert (pool.stuck, in_flight.stuck, in_flight.calls["work"]) == (1, 1, 1)
        assert [(f, e) for f, e, _ in pool.stuck_calls()] == [("work", "e-1")]
        gate.set()
        assert await in_flight.wait_idle(10)
        assert (pool.stuck, in_flight.calls["work"]) == (0, 0)
        pool.stop()

    asyncio.run(scenario())


def test_a_cancelled_caller_of_a_queued_call_means_it_never_runs() -> None:
    async def scenario() -> None:
        pool = SyncPool(1, InFlight())
        running, gate = threading.Event(), threading.Event()
        ran: list[str] = []

        def hold() -> None:
            running.set()
            gate.wait(10)

        holder = asyncio.ensure_future(pool.run(SyncCall("hold", None, hold, [], {}, 30)))
        await started(running)
        queued = asyncio.ensure_future(
            pool.run(SyncCall("late", None, ran.append, ["late"], {}, 30))
        )
        await asyncio.sleep(0.05)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        gate.set()
        await holder
        assert await pool.run(SyncCall("after", None, ran.append, ["after"], {}, 30)) is None
        assert ran == ["after"]
        assert pool.stuck == 0
        pool.stop()

    asyncio.run(scenario())


def test_a_stopped_pool_refuses_new_calls() -> None:
    async def scenario() -> None:
        pool = SyncPool(2, InFlight())
        assert await pool.run(SyncCall("f", None, sum, [[1, 2]], {}, 5)) == 3
        assert pool.stop() == []
        with pytest.raises(Unavailable, match="shutting down"):
            await pool.run(SyncCall("f", None, sum, [[1, 2]], {}, 5))

    asyncio.run(scenario())


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        SyncPool(0, InFlight())
