"""An event counts in flight from decoding to its answer, and not a moment longer.

The count is what draining waits for and what `/metrics` shows: an event that left
its slot held would keep a SIGTERM waiting for the whole grace period.
"""

from __future__ import annotations

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


def _in_flight_once_settled(server: Server) -> float:
    """kfn_requests_in_flight, polled until it is 0 or 5 s passed (the slot is freed after the answer)."""
    deadline = time.monotonic() + 5
    while True:
        value = counter(httpx.get(server.url + "/metrics").text, "kfn_requests_in_flight")
        if value == 0 or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("type_", "status"),
    [("test.noreply", 202), ("test.echo", 200), ("test.raise", 500), ("test.unknown", 404)],
)
def test_an_answered_event_no_longer_counts_in_flight(
    server: Server, type_: str, status: int
) -> None:
    response = httpx.post(
        server.url + "/",
        headers=binary_headers(type_, **{"content-type": "application/json"}),
        content=b'{"n": 1}',
    )
    assert response.status_code == status
    assert _in_flight_once_settled(server) == 0
