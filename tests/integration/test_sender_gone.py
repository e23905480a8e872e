"""A sender that goes away before its body arrived is no fault of the host.

There is no one left to answer, and nothing went wrong: no "internal error" line, no
500 written to a closed connection; the next sender is served as usual.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server("tests.apps.contract")
    yield started
    started.stop()


def _head(event_id: str, content_type: str) -> bytes:
    """The head of an event request whose body, said to be 100 bytes, never all arrives."""
    return (
        b"POST /events/noreply HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"ce-specversion: 1.0\r\nce-id: " + event_id.encode() + b"\r\n"
        b"ce-source: /tests\r\nce-type: test.noreply\r\n"
        b"content-type: " + content_type.encode() + b"\r\ncontent-length: 100\r\n\r\n"
    )


def test_a_sender_gone_mid_body_leaves_no_error_behind(server: Server) -> None:
    head = _head("gone", "application/json")
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(head + b'{"part": ')
            time.sleep(0.05)  # the request reaches the endpoint, which waits for the rest
    after = httpx.post(server.url + "/events/noreply", headers=binary_headers("test.noreply"))
    assert after.status_code == 202
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # the disconnects are handled within moments
        assert "internal error" not in server.logs()
        time.sleep(0.1)


def test_the_function_never_runs_on_the_part_of_a_body_that_arrived(server: Server) -> None:
    """A text body cut off is still a valid body for a function: the host must not deliver it."""
    head = _head("cut", "text/plain")
    ran = {"function": "noreply", "outcome": "ok", "status": "202"}
    before = counter(httpx.get(server.url + "/metrics").text, "kfn_events_total", **ran)
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(head + b"the first half")
            time.sleep(0.05)  # the request reaches the endpoint, which waits for the rest
    time.sleep(0.3)  # the disconnects are handled within moments
    after = counter(httpx.get(server.url + "/metrics").text, "kfn_events_total", **ran)
    assert after == before
