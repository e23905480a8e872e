"""A failure at `POST /` after several functions ran is the functions' failure, not a refusal.

When an event fans out, each function runs in a task of its own. What the endpoint
then reports must be what one function's failure reports: counted among the events
(not among the requests refused before any function ran), and logged with the trace
of the function that decided the status.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture(scope="module")
def guards() -> Iterator[Server]:
    server = start_server("tests.apps.guards", {"KFN_LOG_FORMAT": "json"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def contract() -> Iterator[Server]:
    """The contract app, where two functions reply to `test.multi.reply`."""
    server = start_server("tests.apps.contract")
    yield server
    server.stop()


def _metrics(server: Server) -> str:
    return httpx.get(server.url + "/metrics").text


def _answer_line(server: Server, event_id: str) -> dict[str, Any]:
    """The log line the endpoint wrote for the answer to `event_id` (it may lag the response)."""
    deadline = time.monotonic() + 5
    while True:
        for raw in server.logs().splitlines():
            if event_id not in raw or not raw.startswith("{"):
                continue
            line: dict[str, Any] = json.loads(raw)
            if line.get("event_id") == event_id and "status" in line:
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer line for {event_id}:\n{server.logs()}")
        time.sleep(0.05)


def _post(server: Server, event_id: str, **headers: str) -> httpx.Response:
    return httpx.post(
        server.url + "/", headers={**binary_headers("test.split", id_=event_id), **headers}
    )


def test_a_fan_out_failure_is_counted_as_the_events_not_as_a_refusal(guards: Server) -> None:
    before = _metrics(guards)
    response = _post(guards, "split-counted")
    assert response.status_code == 503
    after = _metrics(guards)
    refused = "kfn_refused_requests_total"
    assert counter(after, refused) == counter(before, refused)
    for function, status in (("refuse", "422"), ("postpone", "503")):
        ran = counter(after, "kfn_events_total", function=function, status=status)
        assert ran == counter(before, "kfn_events_total", function=function, status=status) + 1


def test_a_fan_out_failure_is_logged_with_the_trace_of_the_deciding_function(
    guards: Server,
) -> None:
    parent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    response = _post(guards, "split-traced", traceparent=parent)
    assert response.status_code == 503
    line = _answer_line(guards, "split-traced")
    assert (line["status"], line["function"], line["trace_id"]) == (503, "postpone", TRACE_ID)


def test_two_replies_to_one_event_are_the_functions_answer_not_a_refusal(
    contract: Server,
) -> None:
    before = _metrics(contract)
    response = httpx.post(contract.url + "/", headers=binary_headers("test.multi.reply", id_="two"))
    assert response.status_code == 500
    assert response.json()["type"].endswith(":ambiguous-reply")
    refused = "kfn_refused_requests_total"
    assert counter(_metrics(contract), refused) == counter(before, refused)
