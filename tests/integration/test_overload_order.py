"""Over the in-flight limit, an event is refused 503 when the host knows it, body or not.

The limit is checked when the request arrives, before its body is read (an overloaded
host does not read a body it will refuse: the answer is 503, never 413), and again
with the whole events in hand, because a body that is still arriving holds no slot.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server(
        "tests.apps.guards", {"KFN_MAX_IN_FLIGHT": "1", "KFN_MAX_BODY_BYTES": "1000"}
    )
    yield started
    started.stop()


class Hold:
    """An event that stays in flight for `seconds`, taking the one slot; its status when done."""

    def __init__(self, server: Server, seconds: float) -> None:
        self.status: int | None = None
        headers = binary_headers("test.hold", id_="holding", **{"content-type": "application/json"})

        def post() -> None:
            response = httpx.post(
                server.url + "/", headers=headers, content=str(seconds), timeout=30
            )
            self.status = response.status_code

        self.thread = threading.Thread(target=post)
        self.thread.start()
        deadline = time.monotonic() + 10
        while counter(httpx.get(server.url + "/metrics").text, "kfn_requests_in_flight") < 1:
            assert time.monotonic() < deadline, "the held event never got in flight"
            time.sleep(0.02)

    def done(self) -> int | None:
        self.thread.join(30)
        return self.status


def test_an_overloaded_host_answers_503_before_reading_a_body_over_the_limit(
    server: Server,
) -> None:
    hold = Hold(server, 2)
    response = httpx.post(
        server.url + "/", headers=binary_headers("test.hold", id_="big"), content=b"x" * 5000
    )
    assert response.status_code == 503
    assert response.json()["type"].endswith(":overloaded")
    assert response.headers["retry-after"] == "1"
    assert hold.done() == 202


def test_an_event_whose_body_arrived_after_the_last_slot_was_taken_is_503(
    server: Server,
) -> None:
    body = b"0"
    head = (
        "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
        "ce-specversion: 1.0\r\nce-id: late\r\nce-source: /tests\r\nce-type: test.hold\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body) + 1}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head + b" ")  # the headers and a first byte: the request holds no slot yet
        time.sleep(0.3)
        hold = Hold(server, 2)
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"503", answer
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["type"].endswith(":overloaded")
    assert hold.done() == 202


def test_an_http_request_takes_no_event_slot_and_is_served_while_they_are_full(
    server: Server,
) -> None:
    """The in-flight limit is for events: an @http request neither takes nor frees a slot."""
    assert httpx.get(server.url + "/ping").status_code == 200  # before: it must leave none held
    hold = Hold(server, 1.5)
    assert httpx.get(server.url + "/ping").json() == {"pong": True}
    second = httpx.post(server.url + "/", headers=binary_headers("test.hold", id_="second"))
    assert second.status_code == 503
    assert second.json()["type"].endswith(":overloaded")
    assert hold.done() == 202
    after = httpx.post(
        server.url + "/",
        headers=binary_headers("test.hold", id_="after", **{"content-type": "application/json"}),
        content=b"0",
    )
    assert after.status_code == 202
