"""Events straight from the connection: an event POST served without the ASGI app stack.

uvicorn hands every request to the app in a task, through its proxy-headers
middleware and the app's own routing, and writes the answer through a send that
checks and rewrites every header. That machinery costs an event about as much as
decoding it. Under `kfn run` the protocol (kfn._protocol) gives a POST to `/` or
`/events/<function>` to the event endpoint itself, in an `EventCycle`: uvicorn's
request/response cycle (body, flow control, disconnects, keep-alive are unchanged)
whose send writes the head kfn built and the body in one write. Every other
request, and every event under plain `uvicorn kfn.app:app`, goes through ASGI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

from kfn import logs
from kfn._asgi import Message, respond_problem
from kfn.problems import Problem

if TYPE_CHECKING:
    from kfn.app import App

INTERNAL_ERROR = Problem(500, "internal-error", "the host failed to handle the event")


class EventCycle(RequestResponseCycle):
    """One event request, answered by the event endpoint with a start and one whole body."""

    app: App
    function: str | None
    _head: bytes = b""

    async def run_event(self) -> None:
        """The endpoint on this request, as the app's own routing would call it."""
        try:
            await self.app.deliver(
                self.scope,  # type: ignore[arg-type]
                self.receive,  # type: ignore[arg-type]
                self,  # an ASGI send with `answer` beside it (kfn._asgi.respond uses it)
                self.function,
            )
        except Exception as bug:  # the endpoint answers its own errors; this is a fault in it
            logs.event(logging.ERROR, "internal error", bug, function=self.function)
        if self.response_complete or self.disconnected:
            return
        if self.response_started:
            self.transport.close()  # an answer begun and never finished: nothing else to do
        else:
            await respond_problem(self, INTERNAL_ERROR)

    def answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """The whole answer at once, as `send` would write its two messages, with no await.

        Unlike `send`, it does not wait for a paused transport to drain: the answer is
        one small write, buffered like any other.
        """
        if self.disconnected:
            return
        if self.response_started:
            raise RuntimeError("the answer has already begun")
        self._start(status, headers)
        self._finish(body)

    async def send(self, message: Message) -> None:  # type: ignore[override]
        """uvicorn's send for what the endpoint writes: the head is written with the body.

        The endpoint always gives a Content-Length and the whole body in one message,
        so there is no chunking and no HEAD (events are POSTs). Header names and values
        are still checked, as uvicorn checks them, before anything is written.
        """
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(f"expected http.response.start, got {message['type']!r}")
            self._start(message["status"], message.get("headers", ()))
            return
        if self.response_complete:
            raise RuntimeError(f"unexpected ASGI message {message['type']!r} after the answer")
        if message["type"] != "http.response.body" or message.get("more_body", False):
            raise RuntimeError("an event answer is one whole http.response.body")
        self._finish(message.get("body", b""))

    __call__ = send
    """The cycle itself is the send it gives the endpoint, so that `answer` comes with it."""

    def _finish(self, body: bytes) -> None:
        if len(body) != self.expected_content_length:
            raise RuntimeError("the answer's body does not match its Content-Length")
        self.transport.write(self._head + body if body else self._head)
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            self.transport.close()
        self.on_response()

    def _start(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """The head, kept for the body's write; started only once it is known to be valid.

        A header that cannot be written (a reply's value with a line break) raises
        before the answer counts as begun, so the endpoint can still answer 500.
        """
        head: list[bytes] = [STATUS_LINE[status]]
        for name, value in self.default_headers:  # the server's own: Server and Date
            head += (name, b": ", value, b"\r\n")
        closes = False
        length: Any = None
        for name, value in headers:
            if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
                raise RuntimeError("invalid HTTP header")
            name = name.lower()
            if name == b"content-length":
                length = value
            elif name == b"connection" and b"close" in value.lower():
                closes = True
            head += (name, b": ", value, b"\r\n")
        if length is None:
            raise RuntimeError("an event answer carries its Content-Length")
        if closes:
            self.keep_alive = False
        elif not self.keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        self.expected_content_length = int(length)
        self._head = b"".join(head)
        self.response_started = True  # (no 100 Continue is due: the lane takes no Expect)
