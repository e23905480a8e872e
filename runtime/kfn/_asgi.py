"""ASGI types and the two ways the host answers: a body, or a problem."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kfn.problems import Problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON = b"application/json"


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Send one whole answer: through the send's own `answer` when it has one (kfn._event_lane)."""
    headers.append((b"content-length", str(len(body)).encode()))
    answer = getattr(send, "answer", None)
    if answer is not None:
        answer(status, headers, body)
        return
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_problem(
    send: Send, problem: Problem, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = problem.headers()
    if extra_headers:
        headers.extend(extra_headers)
    await respond(send, problem.status, headers, problem.body())
