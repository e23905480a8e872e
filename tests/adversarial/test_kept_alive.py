"""One connection, many requests: pipelined ones answered in order, an idle one closed in time.

Events are served on the connection without ASGI (kfn._event_lane), other requests
through it; both kinds share one connection's order, keep-alive and close.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.adversarial.sockets import Answer, connect, parse, read_all
from tests.conftest import Server, start_server
from tests.helpers import binary_headers

HEADER_TIMEOUT = 1.0
KEEP_ALIVE = 5.0
"""uvicorn's keep-alive timeout, which `kfn run` keeps."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server(
        "tests.adversarial.load_app",
        {"K_SERVICE": "kept", "KFN_HEADER_TIMEOUT": str(HEADER_TIMEOUT)},
    )
    yield started
    started.stop()


def _event(seconds: float, event_id: str, extra: str = "") -> bytes:
    body = str(seconds).encode()
    headers = {**binary_headers("load.work"), "ce-id": event_id}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST /events/work HTTP/1.1\r\nHost: kfn\r\nContent-Length: {len(body)}\r\n"
        f"{extra}{head}\r\n"
    ).encode() + body


def _answers(sock: socket.socket, count: int, timeout: float) -> list[Answer]:
    """`count` whole answers (each by its Content-Length) read from a kept-alive connection."""
    sock.settimeout(timeout)
    raw = b""
    answers: list[Answer] = []
    while len(answers) < count:
        head_end = raw.find(b"\r\n\r\n")
        if head_end >= 0:
            answer = parse(raw)
            assert answer is not None
            length = int(answer.headers["content-length"])
            if len(raw) >= head_end + 4 + length:
                answers.append(answer)
                raw = raw[head_end + 4 + length :]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"the connection ended after {len(answers)} answers"
        raw += chunk
    return answers


def test_pipelined_events_and_a_probe_are_answered_in_order(server: Server) -> None:
    """The first event is the slowest: the ones behind it wait for it, the probe among them."""
    sock = connect(server.port)
    sock.sendall(
        _event(0.3, "slow")
        + b"GET /health/liveness HTTP/1.1\r\nHost: kfn\r\n\r\n"
        + _event(0.0, "fast")
        + _event(0.0, "last")
    )
    answers = _answers(sock, 4, 10)
    sock.close()
    assert [a.status for a in answers] == [202, 200, 202, 202]
    assert answers[1].headers["content-type"].startswith("application/json")


def test_an_event_asking_to_close_is_answered_then_the_connection_ends(server: Server) -> None:
    sock = connect(server.port)
    sock.sendall(_event(0.0, "closing", "Connection: close\r\n") + _event(0.0, "never"))
    raw, seconds = read_all(sock, 10)
    sock.close()
    answer = parse(raw)
    assert answer is not None and answer.status == 202
    assert answer.headers["connection"] == "close"
    assert raw.count(b"HTTP/1.1 ") == 1, raw  # the request after it is not served
    assert seconds < 5


def test_an_idle_kept_alive_connection_is_closed_at_the_keep_alive_timeout(
    server: Server,
) -> None:
    """Not at the header timeout (1 s here): the next request's clock starts at its bytes."""
    sock = connect(server.port)
    sock.sendall(_event(0.0, "idle"))
    assert _answers(sock, 1, 10)[0].status == 202
    raw, seconds = read_all(sock, KEEP_ALIVE + 3)
    sock.close()
    assert raw == b""
    assert KEEP_ALIVE - 0.5 < seconds < KEEP_ALIVE + 2, seconds


def test_a_head_begun_on_an_idle_connection_has_the_header_timeout_not_the_keep_alive(
    server: Server,
) -> None:
    """Once the next request's first bytes come, its clock is the header timeout (1 s here)."""
    sock = connect(server.port)
    sock.sendall(_event(0.0, "first"))
    assert _answers(sock, 1, 10)[0].status == 202
    time.sleep(0.3)  # idle: the keep-alive's deadline, 5 s away
    sock.sendall(b"POST /events/work HTTP/1.1\r\nHost: kfn\r\n")  # and then nothing
    raw, seconds = read_all(sock, KEEP_ALIVE + 3)
    sock.close()
    answer = parse(raw)
    assert answer is not None and answer.status == 408, raw
    assert answer.problem()["type"] == "urn:kfn:problem:header-timeout"
    assert seconds < HEADER_TIMEOUT + 1.5, seconds


def test_an_event_that_expects_100_continue_is_told_to_send_its_body(server: Server) -> None:
    """Expect: 100-continue is answered before the body; the event is then acknowledged."""
    body = b"0.0"
    headers = "".join(f"{k}: {v}\r\n" for k, v in binary_headers("load.work").items())
    sock = connect(server.port)
    sock.sendall(
        f"POST /events/work HTTP/1.1\r\nHost: kfn\r\nContent-Length: {len(body)}\r\n"
        f"Expect: 100-continue\r\n{headers}\r\n".encode()
    )
    sock.settimeout(5)
    interim = sock.recv(65536)
    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
    sock.sendall(body)
    answer = _answers(sock, 1, 10)[0]
    sock.close()
    assert answer.status == 202
