"""The HTTP layer's refusals on /metrics: every reason there at 0, each answer counted once.

One `kfn run` with low limits is provoked over raw sockets with every refusal the
HTTP layer answers (kfn._protocol): not HTTP, headers or a body too slow, headers
too large or too many, a connection past the cap. The counts on /metrics and in
the log lines must match the answers the clients read, reason by reason.
"""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.adversarial.sockets import Answer, connect, parse, read_all
from tests.conftest import Server, start_server
from tests.helpers import binary_headers

TIMEOUT = 0.5
CAP = 6
LIMITS = {
    "K_SERVICE": "refusals",
    "KFN_LOG_FORMAT": "json",
    "KFN_HEADER_TIMEOUT": str(TIMEOUT),
    "KFN_BODY_TIMEOUT": str(TIMEOUT),
    "KFN_MAX_HEADER_BYTES": "1024",
    "KFN_MAX_HEADERS": "8",
    "KFN_MAX_CONNECTIONS": str(CAP),
}
REASONS = {
    "invalid-http": "400",
    "header-timeout": "408",
    "body-timeout": "408",
    "headers-too-large": "431",
    "too-many-headers": "431",
    "too-many-connections": "503",
}
METRIC = "kfn_http_refused_total"
LIVENESS = b"GET /health/liveness HTTP/1.1\r\nHost: kfn\r\nConnection: close\r\n\r\n"
PROBLEM = "urn:kfn:problem:"

Counts = dict[tuple[str, str], float]


@dataclass
class Provoked:
    """What the server counted before and after the refusals, what the clients read, its log."""

    first: Counts
    last: Counts
    answered: Counter[tuple[str, str]]
    logs: str


def _scrape(server: Server) -> Counts:
    response = httpx.get(server.url + "/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.labels["reason"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == METRIC
    }


def _send(port: int, data: bytes) -> socket.socket:
    sock = connect(port)
    sock.sendall(data)
    return sock


def _answer(sock: socket.socket) -> Answer:
    answer = parse(read_all(sock, TIMEOUT + 10)[0])
    sock.close()
    assert answer is not None, "closed without an answer"
    return answer


def _event(data: bytes, length: int | None = None, **extra: str) -> bytes:
    """A binary-mode load.work event; `length` larger than the data leaves the body unfinished."""
    headers = {**binary_headers("load.work"), **extra}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    size = len(data) if length is None else length
    return f"POST / HTTP/1.1\r\nHost: kfn\r\nContent-Length: {size}\r\n{head}\r\n".encode() + data


def _refusals(port: int) -> list[Answer]:
    """Every refusal but the connection cap's, the slow ones waiting side by side."""
    slow = [_send(port, b"POST / HTTP/1.1\r\nHost: kfn\r\n") for _ in range(2)]
    slow += [_send(port, _event(b"0.0", length=100)) for _ in range(3)]
    fast = [b"\x16\x03\x01 not http at all\r\n\r\n"] * 3
    fast += [
        b"GET /health/liveness HTTP/1.1\r\nHost: kfn\r\nX-Big: " + b"b" * 2000 + b"\r\n\r\n"
    ] * 2
    fast += [b"GET /health/liveness HTTP/1.1\r\nHost: kfn\r\n" + b"X-Many: 1\r\n" * 20 + b"\r\n"]
    answers = [_answer(_send(port, data)) for data in fast]
    return answers + [_answer(sock) for sock in slow]


def _past_the_cap(port: int, refusals: int) -> list[Answer]:
    """Hold CAP connections with events in flight, then ask on new ones until `refusals` 503s."""
    held = [_send(port, _event(b"2", connection="close")) for _ in range(CAP)]
    answers: list[Answer] = []
    deadline = time.monotonic() + 1.5
    while len(answers) < refusals and time.monotonic() < deadline:
        answer = _answer(_send(port, LIVENESS))
        if answer.status == 503:
            answers.append(answer)
        else:  # the held connections were not all accepted yet
            assert answer.status == 200
            time.sleep(0.05)
    assert [_answer(sock).status for sock in held] == [202] * CAP
    return answers


@pytest.fixture(scope="module")
def provoked() -> Iterator[Provoked]:
    server = start_server("tests.adversarial.load_app", LIMITS)
    try:
        first = _scrape(server)
        answers = _refusals(server.port) + _past_the_cap(server.port, refusals=2)
        last = _scrape(server)
    finally:
        server.stop()
    answered: Counter[tuple[str, str]] = Counter()
    for answer in answers:
        kind = answer.problem()["type"].removeprefix(PROBLEM)
        answered[(kind, str(answer.status))] += 1
    yield Provoked(first, last, answered, server.logs())


def test_every_reason_is_on_metrics_at_zero_from_the_start(provoked: Provoked) -> None:
    assert provoked.first == {(reason, status): 0 for reason, status in REASONS.items()}


def test_each_refusal_is_counted_once_by_reason_and_status(provoked: Provoked) -> None:
    assert provoked.answered == {
        ("invalid-http", "400"): 3,
        ("header-timeout", "408"): 2,
        ("body-timeout", "408"): 3,
        ("headers-too-large", "431"): 2,
        ("too-many-headers", "431"): 1,
        ("too-many-connections", "503"): 2,
    }
    counted = {key: provoked.last[key] - provoked.first.get(key, 0) for key in provoked.last}
    assert counted == provoked.answered


def test_refusals_are_logged_once_per_kind_with_the_count_held_back(provoked: Provoked) -> None:
    lines = [json.loads(line) for line in provoked.logs.splitlines() if line.startswith("{")]
    for (reason, status), count in provoked.answered.items():
        logged = [line for line in lines if line.get("problem") == reason]
        assert 1 <= len(logged) <= 2, logged  # the first line, then one with the count
        assert {(line["level"], str(line["status"])) for line in logged} == {("warning", status)}
        assert 1 + sum(line.get("suppressed", 0) for line in logged) == count
        if reason != "too-many-connections":  # answered by the app, which names no client
            assert {line["client"] for line in logged} == {"127.0.0.1"}
