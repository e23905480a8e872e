"""An async function's call under a timeout, with the loop timer only when it waits.

Most event functions return without ever waiting: they check, compute and return.
`asyncio.timeout` arms a loop timer for each call all the same (a handle, a heap
push, a cancel). Here the coroutine's first step runs at once; only a coroutine
that suspends is awaited on further, under `asyncio.timeout_at` with the deadline
counted from the call's start. One that never suspends could not have been
interrupted either: asyncio's timeout cancels a task at an await, and there is none.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


async def call_with_timeout(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """`await coro` within `timeout` seconds (TimeoutError past them).

    The start is read from `time.monotonic`, and the loop only asked for once the
    coroutine waits: on Python 3.11 `asyncio.get_running_loop` costs a system call
    (`getpid`, its check for a fork), which most calls need not pay.
    """
    started = time.monotonic()
    try:
        waiting_on = coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    deadline = asyncio.get_running_loop().time() + timeout - (time.monotonic() - started)
    async with asyncio.timeout_at(deadline):
        return await _resume(coro, waiting_on)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, T], waiting_on: Any) -> Generator[Any, Any, T]:
    """Go on awaiting `coro`, whose first step yielded `waiting_on`, as `await` does.

    What the task sends (its wake-up) or throws (a cancellation) goes on to the
    coroutine; its return value is ours.
    """
    while True:
        try:
            sent = yield waiting_on
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as error:
            try:
                waiting_on = coro.throw(error)
            except StopIteration as done:
                result: T = done.value
                return result
        else:
            try:
                waiting_on = coro.send(sent)
            except StopIteration as done:
                result = done.value
                return result
