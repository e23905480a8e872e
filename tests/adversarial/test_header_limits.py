"""Headers over the limit are answered 431 as they arrive, before they are buffered whole."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.adversarial.conftest import Ledger
from tests.adversarial.sockets import connect, parse, read_all, rss_mib
from tests.conftest import REPO, Server, free_port, impossible_here, start_server
from tests.helpers import binary_headers

HUGE = 64 * 1024 * 1024

if not os.path.exists("/proc/self/status"):  # pragma: no cover - Linux runs it
    pytest.skip(impossible_here("no /proc to read a process's memory"), allow_module_level=True)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server("tests.adversarial.load_app", {"K_SERVICE": "limits"})
    yield started
    started.stop()


def test_a_64_mib_header_is_answered_431_without_the_memory_to_hold_it(
    server: Server, ledger: Ledger, budget: Callable[[float], float]
) -> None:
    before = rss_mib(server.process.pid)
    sock = connect(server.port)
    answer: list[bytes] = []
    reader = threading.Thread(target=lambda: answer.append(read_all(sock, 20)[0]))
    reader.start()
    try:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: kfn\r\nX-Huge: ")
        chunk = b"a" * (1024 * 1024)
        for _ in range(HUGE // len(chunk)):
            sock.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed after its answer: what matters is the answer
    reader.join(30)
    sock.close()
    after = rss_mib(server.process.pid)
    parsed = parse(answer[0])
    assert parsed is not None
    assert parsed.status == 431
    assert parsed.problem()["type"] == "urn:kfn:problem:headers-too-large"
    assert after - before < 32, f"RSS went from {before:.0f} to {after:.0f} MiB"
    still = httpx.post(server.url + "/", headers=binary_headers("load.work"), content=b"0")
    assert still.status_code == 202
    ledger.record(
        "Header limits",
        "a 64 MiB header answered 431 while it was still arriving",
        huge_headers_sent=1,
        rss_growth_mib=round(after - before, 1),
    )


def test_too_many_headers_are_answered_431(server: Server) -> None:
    sock = connect(server.port)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: kfn\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n")
    parsed = parse(read_all(sock, 10)[0])
    sock.close()
    assert parsed is not None and parsed.status == 431
    assert parsed.problem()["type"] == "urn:kfn:problem:too-many-headers"


def test_headers_just_under_the_limit_are_accepted(server: Server) -> None:
    headers = binary_headers("load.work", note="n" * 60_000)
    response = httpx.post(server.url + "/", headers=headers, content=b"0")
    assert response.status_code == 202


def test_httpx_sees_a_huge_header_refused_as_a_problem(server: Server) -> None:
    response = httpx.get(server.url + "/health/readiness", headers={"x-big": "b" * 2_000_000})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert httpx.get(server.url + "/health/readiness").status_code == 200


def test_a_request_that_is_not_http_is_answered_400_as_a_problem(server: Server) -> None:
    sock = connect(server.port)
    sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
    parsed = parse(read_all(sock, 10)[0])
    sock.close()
    assert parsed is not None and parsed.status == 400
    assert parsed.problem()["type"] == "urn:kfn:problem:invalid-http"


def test_plain_uvicorn_given_the_protocol_reads_the_limits_from_the_environment() -> None:
    port = free_port()
    env = {
        **os.environ,
        "KFN_FUNCTIONS": "tests.adversarial.load_app",
        "KFN_MAX_HEADERS": "10",
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "uvicorn", "kfn.app:app", "--port", str(port)]
    log_file = tempfile.NamedTemporaryFile("w+", prefix="kfn-server-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        [*command, "--http", "kfn._protocol:HttpProtocol"],
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(process, port, log_file)
    try:
        deadline = time.monotonic() + 30
        while not _ready(server) and time.monotonic() < deadline:
            assert process.poll() is None, server.logs()
            time.sleep(0.05)
        sock = connect(port)
        sock.sendall(
            b"GET /health/readiness HTTP/1.1\r\nHost: kfn\r\n" + b"X-N: 1\r\n" * 20 + b"\r\n"
        )
        parsed = parse(read_all(sock, 10)[0])
        sock.close()
    finally:
        server.stop()
    assert parsed is not None and parsed.status == 431
    assert parsed.problem()["detail"] == "the request has more than 10 headers"


def _ready(server: Server) -> bool:
    try:
        return httpx.get(server.url + "/health/readiness", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_too_many_headers_in_a_read_past_the_byte_limit_is_one_quiet_refusal() -> None:
    """The count is over first; the bytes past the limit in the same read refuse nothing more.

    Small limits, so that the whole request arrives in one read. A second answer would
    be written after the first one's end: a fault of the protocol, logged with a trace.
    """
    from prometheus_client.parser import text_string_to_metric_families

    server = start_server(
        "tests.adversarial.load_app",
        {"K_SERVICE": "limits", "KFN_MAX_HEADER_BYTES": "1024", "KFN_MAX_HEADERS": "8"},
    )
    try:
        headers = "".join(f"x-{n}: {n}\r\n" for n in range(20))  # 20 headers of 8 allowed
        padding = "x-pad: " + "p" * 1024 + "\r\n"  # then past the 1 KiB of header bytes
        sock = connect(server.port)
        sock.sendall(f"POST / HTTP/1.1\r\nHost: kfn\r\n{headers}{padding}\r\n".encode())
        raw, _ = read_all(sock, 10)
        sock.close()
        text = httpx.get(server.url + "/metrics").text
    finally:
        server.stop()
    answer = parse(raw)
    assert answer is not None and answer.status == 431
    assert answer.problem()["type"] == "urn:kfn:problem:too-many-headers"
    refused = {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "kfn_http_refused_total"
    }
    assert (refused["too-many-headers"], refused["headers-too-large"]) == (1, 0)
    assert "Traceback" not in server.logs()


@pytest.mark.parametrize(("size", "status"), [(1024, 200), (1025, 431)])
def test_the_second_head_on_a_kept_alive_connection_has_the_whole_limit(
    size: int, status: int
) -> None:
    """The byte count starts again at 0 for each request: the limit is the same, to the byte."""
    server = start_server(
        "tests.adversarial.load_app", {"K_SERVICE": "limits", "KFN_MAX_HEADER_BYTES": "1024"}
    )
    try:
        sock = connect(server.port)
        sock.sendall(b"GET /health/liveness HTTP/1.1\r\nHost: kfn\r\n\r\n")
        first = b""
        while not (b"\r\n\r\n" in first and first.endswith(b"}")):  # liveness's JSON body
            chunk = sock.recv(65536)
            assert chunk, first
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 "), first
        bare = "GET /health/liveness HTTP/1.1\r\nHost: kfn\r\nx-pad: \r\n\r\n"
        head = bare.replace("x-pad: ", "x-pad: " + "p" * (size - len(bare)))
        assert len(head) == size
        sock.sendall(head.encode())
        raw, _ = read_all(sock, 5)
        sock.close()
    finally:
        server.stop()
    assert raw.startswith(f"HTTP/1.1 {status} ".encode()), raw[:200]
