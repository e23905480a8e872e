"""Too many open connections: answered 503 with Retry-After and logged, not dropped unseen."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx
import pytest

from kfn._protocol import FD_RESERVE
from tests.adversarial.conftest import Ledger
from tests.adversarial.sockets import connect, parse, read_all
from tests.conftest import REPO, Server, free_port, impossible_here, start_server

FILE_LIMIT = 256


PROBE = b"GET /health/readiness HTTP/1.1\r\nHost: kfn\r\n\r\n"
EVENT = (
    b"POST /events/work HTTP/1.1\r\nHost: kfn\r\nContent-Length: 3\r\n"
    b"ce-specversion: 1.0\r\nce-id: over-the-cap\r\nce-source: /tests\r\n"
    b"ce-type: load.work\r\n\r\n0.0"
)
"""An event, which `kfn run` serves without ASGI (kfn._event_lane): refused all the same."""


def _refused_request(
    port: int, request: bytes = PROBE
) -> tuple[int, dict[str, object], dict[str, str]]:
    sock = connect(port)
    sock.sendall(request)
    answer = parse(read_all(sock, 10)[0])
    sock.close()
    assert answer is not None, "closed without an answer"
    return answer.status, answer.problem(), answer.headers


def _hold(port: int, count: int) -> list[socket.socket]:
    held = [connect(port) for _ in range(count)]
    time.sleep(0.3)  # let the server accept them all
    return held


def test_connections_past_the_cap_are_answered_503_and_logged_once(ledger: Ledger) -> None:
    server = start_server("tests.adversarial.load_app", {"KFN_MAX_CONNECTIONS": "50"})
    try:
        held = _hold(server.port, 60)
        refusals = [_refused_request(server.port, (PROBE, EVENT)[i % 2]) for i in range(20)]
        for sock in held:
            sock.close()
        time.sleep(0.3)
        after = httpx.get(server.url + "/health/readiness")
    finally:
        server.stop()
    for status, problem, headers in refusals:
        assert status == 503
        assert problem["type"] == "urn:kfn:problem:too-many-connections"
        assert headers["retry-after"] == "1"
    assert after.status_code == 200
    assert "finished over-the-cap" not in server.logs()  # no refused event ran
    lines = [line for line in server.logs().splitlines() if "too many open connections" in line]
    assert 1 <= len(lines) <= 2, lines  # a storm of refusals is one line every few seconds
    ledger.record("Connection cap", "connections past the cap answered 503", refused=len(refusals))


@pytest.fixture
def limited_server() -> Iterator[Server]:
    """A `kfn run` whose file limit is FILE_LIMIT, soft and hard."""
    if sys.platform != "linux":  # pragma: no cover - Linux runs it
        pytest.skip(impossible_here("no RLIMIT_NOFILE to lower"))
    port = free_port()
    program = (
        "import resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FILE_LIMIT}, {FILE_LIMIT})); "
        "from kfn.cli import main; sys.exit(main(['run', '--host', '127.0.0.1']))"
    )
    env = {
        **os.environ,
        "KFN_FUNCTIONS": "tests.adversarial.load_app",
        "PORT": str(port),
        "PYTHONPATH": str(REPO),
    }
    log_file = tempfile.NamedTemporaryFile("w+", prefix="kfn-server-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(process, port, log_file)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(server.url + "/health/readiness", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server did not start:\n{server.logs()}")
        time.sleep(0.05)
    yield server
    server.stop()


def test_the_cap_stays_below_the_file_limit_so_the_last_clients_still_get_an_answer(
    limited_server: Server,
) -> None:
    cap = max(FILE_LIMIT // 2, FILE_LIMIT - FD_RESERVE)
    held = _hold(limited_server.port, cap + 10)
    try:
        status, problem, headers = _refused_request(limited_server.port)
    finally:
        for sock in held:
            sock.close()
    assert (status, problem["type"]) == (503, "urn:kfn:problem:too-many-connections")
    assert headers["retry-after"] == "1"
    logs = limited_server.logs()
    assert "open connections capped below the file limit" in logs
    assert f'"max_connections": {cap}' in logs
