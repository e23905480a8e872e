"""A request body read from ASGI messages as the spec allows them to come.

`more_body` may be left out of a message, and then means False: the body is whole.
uvicorn and kfn's own HTTP layer always set it, another ASGI server need not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kfn._body import ClientDisconnected, read_body
from kfn._errors import BodyTooLarge


def _receive(*messages: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


async def test_a_single_message_without_more_body_is_the_whole_body() -> None:
    receive = _receive({"type": "http.request", "body": b"whole"})
    assert await read_body(receive, 100, None) == b"whole"


async def test_a_last_message_without_more_body_ends_the_body() -> None:
    receive = _receive(
        {"type": "http.request", "body": b"first ", "more_body": True},
        {"type": "http.request", "body": b"and last"},
    )
    assert await read_body(receive, 100, None) == b"first and last"


async def test_a_disconnect_after_part_of_the_body_is_no_body() -> None:
    receive = _receive(
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    )
    with pytest.raises(ClientDisconnected):
        await read_body(receive, 100, None)


async def test_chunks_past_the_limit_are_refused_as_they_arrive() -> None:
    receive = _receive(
        {"type": "http.request", "body": b"x" * 60, "more_body": True},
        {"type": "http.request", "body": b"y" * 60, "more_body": True},
    )
    with pytest.raises(BodyTooLarge):
        await read_body(receive, 100, None)
