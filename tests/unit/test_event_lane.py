"""The event lane's cycle on a transport that records what it is given: the answer's bytes exactly.

Under `kfn run` every event passes through it (the integration tests drive it over
sockets); here are the cases no sender can cause: a fault in the endpoint, a head
that cannot be written, an answer for a sender that has gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from uvicorn.protocols.http.flow_control import FlowControl

from kfn._asgi import Receive, Scope, Send, respond
from kfn._event_lane import EventCycle

DEFAULT_HEADERS = [(b"server", b"uvicorn"), (b"date", b"Wed, 02 Dec 2026 01:00:00 GMT")]


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class App:
    """Stands for kfn.app.App: `deliver` runs `handler` with the cycle's receive and send."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    async def deliver(
        self, scope: Scope, receive: Receive, send: Send, function: str | None
    ) -> None:
        await self.handler(send)


def _cycle(handler: Any, *, keep_alive: bool = True) -> tuple[EventCycle, Transport, list[int]]:
    transport = Transport()
    completed: list[int] = []
    cycle = EventCycle(
        scope={"type": "http", "method": "POST", "headers": []},  # type: ignore[typeddict-item]
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test"),
        access_log=False,
        default_headers=DEFAULT_HEADERS,
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: completed.append(1),
    )
    cycle.app = App(handler)  # type: ignore[assignment]
    cycle.function = "fn"
    return cycle, transport, completed


def _head_and_body(transport: Transport) -> tuple[list[bytes], bytes]:
    assert len(transport.written) == 1, transport.written  # one write: head and body together
    head, _, body = transport.written[0].partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


def test_an_answer_is_one_write_of_the_head_and_the_body() -> None:
    async def handler(send: Send) -> None:
        await respond(send, 200, [(b"content-type", b"application/json")], b'{"a":1}')

    cycle, transport, completed = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, body = _head_and_body(transport)
    assert lines == [
        b"HTTP/1.1 200 OK",
        b"server: uvicorn",
        b"date: Wed, 02 Dec 2026 01:00:00 GMT",
        b"content-type: application/json",
        b"content-length: 7",
    ]
    assert body == b'{"a":1}'
    assert (cycle.response_complete, completed, transport.closed) == (True, [1], False)


def test_asgi_messages_are_written_as_one_answer_too() -> None:
    async def handler(send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 202, "headers": [(b"Content-Length", b"0")]}
        )
        assert transport.written == []  # the head waits for the body
        await send({"type": "http.response.body", "body": b""})

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, body = _head_and_body(transport)
    assert lines[0] == b"HTTP/1.1 202 Accepted" and b"content-length: 0" in lines
    assert body == b""


def test_a_connection_not_kept_alive_is_told_and_closed() -> None:
    async def handler(send: Send) -> None:
        await respond(send, 202, [], b"")

    cycle, transport, _ = _cycle(handler, keep_alive=False)
    asyncio.run(cycle.run_event())
    lines, _ = _head_and_body(transport)
    assert lines[-1] == b"connection: close"
    assert transport.closed


def test_an_answer_asking_to_close_closes_without_a_second_header() -> None:
    async def handler(send: Send) -> None:
        await respond(send, 503, [(b"connection", b"close")], b"")

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, _ = _head_and_body(transport)
    assert lines.count(b"connection: close") == 1
    assert transport.closed and not cycle.keep_alive


def test_a_fault_in_the_endpoint_is_a_500_problem_and_the_connection_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(send: Send) -> None:
        raise KeyError("secret detail")

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, body = _head_and_body(transport)
    assert lines[0] == b"HTTP/1.1 500 Internal Server Error"
    assert b"content-type: application/problem+json" in lines
    problem = json.loads(body)
    assert problem["status"] == 500 and problem["type"].endswith(":internal-error")
    assert b"secret" not in body
    assert not transport.closed


def test_a_head_that_cannot_be_written_is_not_begun_so_a_500_can_follow() -> None:
    async def handler(send: Send) -> None:
        try:
            await respond(send, 200, [(b"content-type", b"text/plain\r\nx-injected: 1")], b"x")
        except RuntimeError:
            await respond(send, 500, [], b"")

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, _ = _head_and_body(transport)
    assert lines[0] == b"HTTP/1.1 500 Internal Server Error"
    assert not any(b"injected" in line for line in lines)


def test_an_endpoint_that_returns_without_answering_gets_a_500_for_its_sender() -> None:
    async def handler(send: Send) -> None:
        return None

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, _ = _head_and_body(transport)
    assert lines[0] == b"HTTP/1.1 500 Internal Server Error"


def test_an_answer_begun_and_never_finished_closes_the_connection() -> None:
    async def handler(send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"0")]}
        )

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    assert transport.written == [] and transport.closed


def test_a_sender_that_went_away_gets_nothing() -> None:
    async def handler(send: Send) -> None:
        cycle.disconnected = True
        await respond(send, 200, [], b"late")

    cycle, transport, completed = _cycle(handler)
    asyncio.run(cycle.run_event())
    assert transport.written == [] and completed == []


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"type": "http.response.body", "body": b""}], "expected http.response.start"),
        ([{"type": "http.response.trailers", "headers": []}], "expected http.response.start"),
        (
            [
                {"type": "http.response.start", "status": 200, "headers": []},
            ],
            "carries its Content-Length",
        ),
        (
            [
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"2")],
                },
                {"type": "http.response.body", "body": b"a", "more_body": True},
            ],
            "one whole http.response.body",
        ),
        (
            [
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"2")],
                },
                {"type": "http.response.body", "body": b"abc"},
            ],
            "does not match its Content-Length",
        ),
        (
            [
                {
                    "type": "http.response.start",
                    "status": 202,
                    "headers": [(b"content-length", b"0")],
                },
                {"type": "http.response.body", "body": b""},
                {"type": "http.response.body", "body": b""},
            ],
            "after the answer",
        ),
    ],
)
def test_messages_an_event_answer_cannot_be_are_refused(
    messages: list[dict[str, Any]], error: str
) -> None:
    cycle, _, _ = _cycle(None)

    async def send_all() -> None:
        for message in messages:
            await cycle.send(message)

    with pytest.raises(RuntimeError, match=error):
        asyncio.run(send_all())


def test_a_second_answer_is_refused() -> None:
    cycle, transport, _ = _cycle(None)
    cycle.answer(202, [(b"content-length", b"0")], b"")
    with pytest.raises(RuntimeError, match="already begun"):
        cycle.answer(202, [(b"content-length", b"0")], b"")
    assert len(transport.written) == 1


def test_a_connection_header_that_does_not_close_keeps_the_connection() -> None:
    async def handler(send: Send) -> None:
        await respond(send, 202, [(b"connection", b"keep-alive")], b"")

    cycle, transport, _ = _cycle(handler)
    asyncio.run(cycle.run_event())
    lines, _ = _head_and_body(transport)
    assert b"connection: keep-alive" in lines and b"connection: close" not in lines
    assert cycle.keep_alive and not transport.closed


def test_a_send_waits_while_the_sender_reads_nothing_and_writes_once_it_does() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        cycle, transport, _ = _cycle(None)
        cycle.flow.pause_writing()  # the transport's buffer is full
        start = {
            "type": "http.response.start",
            "status": 202,
            "headers": [(b"content-length", b"0")],
        }
        sending = asyncio.ensure_future(cycle.send(start))
        await asyncio.sleep(0.01)
        waiting = list(transport.written)
        assert not sending.done()
        cycle.flow.resume_writing()
        await sending
        await cycle.send({"type": "http.response.body", "body": b""})
        return waiting, transport.written

    waiting, written = asyncio.run(scenario())
    assert waiting == [] and len(written) == 1


def test_a_send_for_a_sender_gone_while_paused_returns_at_once() -> None:
    async def scenario() -> list[bytes]:
        cycle, transport, _ = _cycle(None)
        cycle.flow.pause_writing()
        cycle.disconnected = True
        start = {
            "type": "http.response.start",
            "status": 202,
            "headers": [(b"content-length", b"0")],
        }
        await asyncio.wait_for(cycle.send(start), 1)
        return transport.written

    assert asyncio.run(scenario()) == []
