"""An event counts in flight from decoding to its answer, and not a moment longer.

The count is what draining waits for and what `/metrics` shows: an event that left
its slot held would keep a SIGTERM waiting for the whole grace period.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server("tests.apps.contract")
    yield started
    started.stop()


def _in_flight_once_settled(server: Server, name: str = "kfn_requests_in_flight") -> float:
    """A gauge, polled until it is 0 or 5 s passed (the slot is freed after the answer).

    The sum over its labels: for kfn_events_in_flight, every function's count.
    """
    deadline = time.monotonic() + 5
    while True:
        value = counter(httpx.get(server.url + "/metrics").text, name)
        if value == 0 or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def _calls_of(server: Server) -> dict[str, float]:
    """kfn_events_in_flight by function, as /metrics shows it now."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(server.url + "/metrics").text
    return {
        sample.labels["function"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "kfn_events_in_flight"
    }


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
    assert _in_flight_once_settled(server, "kfn_events_in_flight") == 0
    assert all(count == 0 for count in _calls_of(server).values()), _calls_of(server)


def test_running_calls_count_for_their_function_until_they_return(server: Server) -> None:
    """kfn_events_in_flight{function}: 2 while two calls sleep, 0 once both answered."""
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(2) as pool:
        answers = [
            pool.submit(
                client.post,
                server.url + "/",
                headers=binary_headers("test.sleep", **{"content-type": "text/plain"}),
                content=b"1.5",
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 10
        while _calls_of(server).get("sleeper", 0) != 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _calls_of(server).get("sleeper") == 2
        assert [answer.result().status_code for answer in answers] == [202, 202]
    assert _calls_of(server)["sleeper"] == 0
