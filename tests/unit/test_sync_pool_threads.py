"""The sync pool starts a thread for each call waiting, up to its size, however many ran before.

Its count of outstanding calls decides when a thread is added: a count that ran
low after earlier calls would leave later concurrent calls queued behind one
thread, each waiting for the one before it.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from kfn._inflight import InFlight
from kfn._sync_pool import SyncCall, SyncPool


async def _three_at_once(pool: SyncPool) -> None:
    """Three calls that meet at a barrier: they pass only if each has a thread of its own."""
    meeting = threading.Barrier(3, timeout=5)

    def meet() -> int:
        return meeting.wait()

    calls = [pool.run(SyncCall("f", f"together-{n}", meet, [], {}, 10)) for n in range(3)]
    assert sorted(await asyncio.gather(*calls)) == [0, 1, 2]


def _workers_since(earlier: set[threading.Thread]) -> list[threading.Thread]:
    """The sync pool's worker threads started since `earlier` was taken."""
    return [t for t in set(threading.enumerate()) - earlier if t.name.startswith("kfn-sync-")]


def test_concurrent_calls_after_earlier_ones_each_get_a_thread() -> None:
    async def scenario() -> None:
        pool = SyncPool(3, InFlight())
        for n in range(5):  # one at a time: one thread is enough for these
            assert await pool.run(SyncCall("f", f"before-{n}", lambda: "ok", [], {}, 10)) == "ok"
        await _three_at_once(pool)
        pool.stop()

    asyncio.run(scenario())


def test_concurrent_calls_after_abandoned_ones_each_get_a_thread() -> None:
    """A call whose caller stopped waiting before a worker took it is no longer counted."""
    earlier = set(threading.enumerate())

    async def scenario() -> None:
        pool = SyncPool(3, InFlight())
        for n in range(2):  # each caller gone before its call reaches the workers
            caller = asyncio.ensure_future(
                pool.run(SyncCall("f", f"gone-{n}", lambda: "never", [], {}, 10))
            )
            await asyncio.sleep(0)  # the call is taken, not yet handed to a worker
            caller.cancel()
            await asyncio.gather(caller, return_exceptions=True)
        assert len(_workers_since(earlier)) == 1  # nothing waits for a thread: no second one
        await _three_at_once(pool)
        pool.stop()

    asyncio.run(scenario())


def test_a_call_that_ends_after_its_loop_closed_lets_its_worker_end_quietly() -> None:
    """Shutdown with a stuck call: the thread finishes after the loop is gone, and simply ends."""
    running, gate = threading.Event(), threading.Event()
    pools: list[SyncPool] = []
    earlier = set(threading.enumerate())

    def block() -> str:
        running.set()
        gate.wait(10)
        return "too late"

    async def scenario() -> None:
        pool = SyncPool(1, InFlight())
        pools.append(pool)
        caller = pool.run(SyncCall("f", "stuck", block, [], {}, 0.2))
        with pytest.raises(TimeoutError):
            await caller
        assert running.is_set()

    asyncio.run(scenario())  # the loop is closed; the worker is still in block()
    (pool,) = pools
    pool.stop()
    (worker,) = _workers_since(earlier)
    raised: list[type[BaseException]] = []
    hook, threading.excepthook = threading.excepthook, lambda args: raised.append(args.exc_type)
    try:
        gate.set()
        worker.join(5)
    finally:
        threading.excepthook = hook
    assert not worker.is_alive()
    assert raised == []


def test_calls_one_at_a_time_need_one_thread() -> None:
    """A thread is added only when a call would otherwise wait: idle threads cost memory."""
    earlier = set(threading.enumerate())

    async def scenario() -> None:
        pool = SyncPool(3, InFlight())
        for n in range(5):
            assert await pool.run(SyncCall("f", f"alone-{n}", lambda: "ok", [], {}, 10)) == "ok"
        assert len(_workers_since(earlier)) == 1
        pool.stop()

    asyncio.run(scenario())
