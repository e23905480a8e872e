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
