"""An async function's call under a timeout: at once when it never waits, timed when it does."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from kfn._eager import call_with_timeout

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="")


async def returns_at_once() -> str:
    return "done"


async def waits(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "waited"


async def test_a_function_that_never_waits_returns_its_value_and_arms_no_timer() -> None:
    loop = asyncio.get_running_loop()
    timers: list[float] = []
    real_call_at = loop.call_at

    def spy(when: float, *args: object, **kwargs: object) -> asyncio.TimerHandle:
        timers.append(when)
        return real_call_at(when, *args, **kwargs)  # type: ignore[arg-type]

    loop.call_at = spy  # type: ignore[method-assign]
    try:
        assert await call_with_timeout(returns_at_once(), 1.0) == "done"
        assert timers == []
        assert await call_with_timeout(waits(0.001), 1.0) == "waited"
        assert len(timers) >= 1  # the timeout's timer, once the function waited
    finally:
        del loop.call_at


async def test_a_function_that_waits_past_its_timeout_raises_timeout_error() -> None:
    with pytest.raises(TimeoutError):
        await call_with_timeout(waits(10.0), 0.05)


async def test_the_deadline_counts_from_the_call_not_from_the_first_wait() -> None:
    async def busy_then_wait() -> str:
        until = asyncio.get_running_loop().time() + 0.06
        while asyncio.get_running_loop().time() < until:  # no await: the loop is blocked
            pass
        await asyncio.sleep(0.2)
        return "late"

    with pytest.raises(TimeoutError):
        await call_with_timeout(busy_then_wait(), 0.05)


async def test_errors_before_and_after_the_first_wait_reach_the_caller() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("later")

    with pytest.raises(ValueError, match="at once"):
        await call_with_timeout(fails_at_once(), 1.0)
    with pytest.raises(KeyError, match="later"):
        await call_with_timeout(fails_later(), 1.0)


async def test_a_cancellation_from_outside_reaches_the_function_and_is_not_a_timeout() -> None:
    cleaned: list[str] = []

    async def long() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append("finally ran")

    task = asyncio.create_task(call_with_timeout(long(), 5.0))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally ran"]


async def test_a_function_may_catch_the_timeout_cancellation_and_answer() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "caught"
        return "slept"

    # Caught inside, the cancellation is gone: asyncio's own timeout returns the value too.
    assert await call_with_timeout(stubborn(), 0.02) == "caught"


async def test_the_function_runs_in_the_callers_context_before_and_after_waiting() -> None:
    async def reads_and_sets() -> tuple[str, str]:
        before = seen.get()
        await asyncio.sleep(0)
        return before, seen.get()

    seen.set("caller")
    assert await call_with_timeout(reads_and_sets(), 1.0) == ("caller", "caller")


async def test_values_sent_and_futures_awaited_pass_through_unchanged() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[int] = loop.create_future()

    async def awaits_future() -> int:
        return await future + 1

    loop.call_later(0.01, future.set_result, 41)
    assert await call_with_timeout(awaits_future(), 1.0) == 42
