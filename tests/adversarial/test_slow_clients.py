"""Slow and stalled clients: timed out with 408 where an answer can be sent, and never holding slots."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.adversarial.conftest import Ledger
from tests.adversarial.sockets import connect, parse, read_all
from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter

TIMEOUT = 1.0
TRICKLERS = 1000
"""As many clients as the default KFN_MAX_IN_FLIGHT: each once held a slot for ever."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server(
        "tests.adversarial.load_app",
        {"K_SERVICE": "slow", "KFN_HEADER_TIMEOUT": str(TIMEOUT), "KFN_BODY_TIMEOUT": str(TIMEOUT)},
    )
    yield started
    started.stop()


def test_headers_sent_a_byte_at_a_time_are_answered_408_and_closed(
    server: Server, ledger: Ledger
) -> None:
    sock = connect(server.port)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: kfn\r\n")
    started = time.monotonic()
    closed = False
    while time.monotonic() - started < TIMEOUT + 5:
        try:
            sock.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        sock.settimeout(0.2)
        try:
            if sock.recv(65536, socket.MSG_PEEK):  # the answer stays for read_all
                break
        except TimeoutError:
            continue
    raw, _ = read_all(sock, 5)
    sock.close()
    answer = parse(raw)
    assert answer is not None or closed
    if answer is not None:
        assert answer.status == 408
        assert answer.problem()["type"] == "urn:kfn:problem:header-timeout"
    assert time.monotonic() - started < TIMEOUT + 5
    ledger.record("Slow clients", "slow-loris headers answered 408 and closed", slow_loris=1)


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: Server) -> None:
    sock = connect(server.port)
    raw, seconds = read_all(sock, TIMEOUT + 5)
    sock.close()
    assert raw == b""
    assert seconds < TIMEOUT + 5


def test_a_stalled_body_is_answered_408(server: Server) -> None:
    sock = connect(server.port)
    head = "".join(f"{k}: {v}\r\n" for k, v in binary_headers("load.work").items())
    sock.sendall(
        f"POST / HTTP/1.1\r\nHost: kfn\r\nContent-Length: 100\r\n{head}\r\n".encode() + b"0.0"
    )
    answer = parse(read_all(sock, TIMEOUT + 5)[0])
    sock.close()
    assert answer is not None and answer.status == 408
    assert answer.problem()["type"] == "urn:kfn:problem:body-timeout"


def test_a_thousand_trickling_bodies_hold_no_slot_while_events_succeed(
    budget: Callable[[float], float], ledger: Ledger
) -> None:
    # Bodies that would take minutes to arrive: the body timeout must not end them here.
    server = start_server(
        "tests.adversarial.load_app",
        {"K_SERVICE": "trickle", "KFN_BODY_TIMEOUT": "10m", "KFN_HEADER_TIMEOUT": "10m"},
    )
    try:
        statuses, ready, in_flight = asyncio.run(_trickle_while_sending(server, budget(3.0)))
    finally:
        server.stop()
    ledger.record(
        "Slow clients",
        f"{TRICKLERS} bodies trickling one byte at a time while events were sent",
        trickling_clients=TRICKLERS,
        events_during_trickle=sum(statuses.values()),
    )
    assert statuses and set(statuses) == {202}, statuses
    assert ready == {200}
    assert in_flight == {0.0}


async def _trickle_while_sending(
    server: Server, seconds: float
) -> tuple[dict[int, int], set[int], set[float]]:
    head = "".join(f"{k}: {v}\r\n" for k, v in binary_headers("load.work").items())
    request = f"POST / HTTP/1.1\r\nHost: kfn\r\nContent-Length: 1000000\r\n{head}\r\n".encode()
    writers = []
    for _ in range(TRICKLERS):
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request + b"0")
        writers.append(writer)
    statuses: dict[int, int] = {}
    ready: set[int] = set()
    in_flight: set[float] = set()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            deadline = time.monotonic() + seconds
            n = 0
            while time.monotonic() < deadline or not statuses:
                for writer in writers:
                    writer.write(b" ")  # one more byte of each body
                response = await client.post(
                    "/", headers=binary_headers("load.work", id_=f"real-{n}"), content=b"0"
                )
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                ready.add((await client.get("/health/readiness")).status_code)
                metrics = (await client.get("/metrics")).text
                in_flight.add(counter(metrics, "kfn_events_in_flight"))
                n += 1
    finally:
        for writer in writers:
            writer.close()
    return statuses, ready, in_flight


def _event_request(seconds: float) -> bytes:
    """A whole binary-mode `load.work` request that keeps its function busy `seconds`."""
    body = str(seconds).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in binary_headers("load.work").items())
    return (
        f"POST / HTTP/1.1\r\nHost: kfn\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body
    )


def _one_answer(sock: socket.socket, timeout: float) -> bytes:
    """One whole answer on a kept-alive connection (its head and Content-Length body)."""
    sock.settimeout(timeout)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"the connection ended before an answer: {raw!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"the connection ended inside an answer: {raw!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_part_of_a_head_then_nothing_is_408_then_the_connection_ends_after_lingering(
    server: Server,
) -> None:
    from kfn._protocol import LINGER_SECONDS

    sock = connect(server.port)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: kfn\r\n")
    answer = parse(_one_answer(sock, TIMEOUT + 5))
    assert answer is not None and answer.status == 408
    assert answer.problem()["type"] == "urn:kfn:problem:header-timeout"
    rest, seconds = read_all(sock, LINGER_SECONDS)
    assert (rest, seconds < LINGER_SECONDS / 2) == (b"", True)  # the answer ends at once
    answered = time.monotonic()
    with pytest.raises((BrokenPipeError, ConnectionResetError)):  # read and dropped, then shut
        while time.monotonic() - answered < LINGER_SECONDS + 3:
            sock.sendall(b"X")
            time.sleep(0.05)
    sock.close()


def test_the_next_request_on_a_kept_alive_connection_has_its_own_header_timeout(
    server: Server,
) -> None:
    sock = connect(server.port)
    sock.sendall(_event_request(0))
    first = parse(_one_answer(sock, 10))
    assert first is not None and first.status == 202
    sock.sendall(b"POST / HTTP/1.1\r\nHost: kfn\r\n")  # and nothing more
    answer = parse(read_all(sock, TIMEOUT + 5)[0])
    sock.close()
    assert answer is not None and answer.status == 408
    assert answer.problem()["type"] == "urn:kfn:problem:header-timeout"


@pytest.mark.parametrize(("rest", "status"), [("all", 202), ("some", 408)])
def test_a_slow_answer_is_not_cut_off_by_the_header_timeout_of_the_request_after_it(
    server: Server, rest: str, status: int
) -> None:
    """The next request's head started while the first was still being answered.

    Its own clock starts again at its next bytes: the rest of it is answered, and a
    part that stalls again is timed out.
    """
    sock = connect(server.port)
    sock.sendall(_event_request(TIMEOUT * 2.5))
    time.sleep(0.2)
    second = _event_request(0)
    sock.sendall(second[:20])  # its clock starts, and runs out while the first still works
    first = parse(_one_answer(sock, 10))
    assert first is not None and first.status == 202, first
    sock.sendall(second[20:] if rest == "all" else second[20:40])
    answer = parse(_one_answer(sock, TIMEOUT + 5))
    sock.close()
    assert answer is not None and answer.status == status


def test_a_kept_alive_connection_idle_past_a_few_sweeps_still_serves(server: Server) -> None:
    sock = connect(server.port)
    sock.sendall(_event_request(0))
    first = parse(_one_answer(sock, 10))
    time.sleep(TIMEOUT * 0.6)  # under the keep-alive timeout, over two sweep intervals
    sock.sendall(_event_request(0))
    second = parse(_one_answer(sock, 10))
    sock.close()
    assert (first and first.status, second and second.status) == (202, 202)


def test_a_body_in_parts_within_the_body_timeout_is_delivered(server: Server) -> None:
    """Half the timeout between its parts: past a sweep or two, not past its deadline."""
    request = _event_request(0)
    sock = connect(server.port)
    sock.sendall(request[:-1])
    time.sleep(TIMEOUT / 2)
    sock.sendall(request[-1:])
    answer = parse(_one_answer(sock, 10))
    sock.close()
    assert answer is not None and answer.status == 202


def test_a_body_the_host_answered_early_is_not_waited_for_past_its_timeout(
    server: Server,
) -> None:
    """Refused on its Content-Length (413) while the client still owes the body."""
    head = "".join(f"{k}: {v}\r\n" for k, v in binary_headers("load.work").items())
    sock = connect(server.port)
    sock.sendall(
        f"POST / HTTP/1.1\r\nHost: kfn\r\nContent-Length: 100000000\r\n{head}\r\n".encode()
    )
    answer = parse(_one_answer(sock, 10))
    assert answer is not None and answer.status == 413
    rest, seconds = read_all(sock, TIMEOUT + 5)  # the body never comes: closed at its timeout
    sock.close()
    assert rest == b""
    assert seconds < TIMEOUT + 2, seconds  # not at uvicorn's keep-alive timeout (5 s)
