"""Sync functions past their timeout, seen from outside a real `kfn run`.

Their sender gets 504 at once, but their thread runs on: it stays in flight and on
/metrics until it ends; once every worker thread is stuck, readiness is 503 and
new sync events get 503 + Retry-After while async ones are still served; SIGTERM
does not wait for such threads past the grace period.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.conftest import Server
from tests.helpers import binary_headers, counter, wait_until

PROBLEM = "application/problem+json"
APP = "tests.apps.stuck"

StartServer = Callable[..., Server]


def post(server: Server, type_: str, id_: str = "e-1") -> httpx.Response:
    return httpx.post(server.url + "/", headers=binary_headers(type_, id_=id_), timeout=10)


def metric(server: Server, name: str, **labels: str) -> float:
    return counter(httpx.get(server.url + "/metrics", timeout=5).text, name, **labels)


def readiness(server: Server) -> httpx.Response:
    return httpx.get(server.url + "/health/readiness", timeout=5)


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(":" + kind)
    assert "Traceback" not in response.text
    return body


def release(server: Server) -> None:
    assert post(server, "test.release").status_code == 202


def test_a_stuck_sync_function_is_504_and_in_flight_until_its_thread_ends(
    kfn_server: StartServer,
) -> None:
    server = kfn_server(APP, {"KFN_SYNC_THREADS": "2"})
    body = problem(post(server, "test.block", id_="stuck-1"), 504, "function-timeout")
    assert body["function"] == "blocked"
    assert metric(server, "kfn_events_in_flight", function="blocked") == 1
    assert metric(server, "kfn_requests_in_flight") == 1
    assert metric(server, "kfn_sync_workers_stuck") == 1
    assert metric(server, "kfn_sync_workers_busy") == 1
    assert metric(server, "kfn_sync_workers") == 2
    assert readiness(server).status_code == 200  # one of two threads is still free

    release(server)
    wait_until(lambda: metric(server, "kfn_sync_workers_stuck") == 0, "the thread to end")
    assert metric(server, "kfn_events_in_flight", function="blocked") == 0
    assert metric(server, "kfn_requests_in_flight") == 0
    assert metric(server, "kfn_sync_workers_busy") == 0
    wait_until(lambda: "a sync function past its timeout ended" in server.logs(), "its log line")
    (line,) = [
        json.loads(raw)
        for raw in server.logs().splitlines()
        if "a sync function past its timeout ended" in raw
    ]
    assert (line["function"], line["event_id"]) == ("blocked", "stuck-1")
    assert line["seconds"] > line["timeout_seconds"] > 0
    assert line["seconds"] == round(line["seconds"], 3)  # milliseconds, as every duration logged


def test_exhausted_sync_workers_turn_readiness_503_and_refuse_sync_events(
    kfn_server: StartServer,
) -> None:
    server = kfn_server(APP, {"KFN_SYNC_THREADS": "2"})
    for n in range(2):
        problem(post(server, "test.block", id_=f"stuck-{n}"), 504, "function-timeout")

    ready = readiness(server)
    assert ready.status_code == 503
    assert "sync workers exhausted" in ready.json()["reason"]
    refused = post(server, "test.quick", id_="never-ran")
    body = problem(refused, 503, "sync-workers-exhausted")
    assert refused.headers["retry-after"] == "1"
    assert body["function"] == "quick"
    assert metric(server, "kfn_events_total", function="quick", status="503") == 1
    assert post(server, "test.async").status_code == 202  # async functions need no thread

    release(server)
    wait_until(lambda: readiness(server).status_code == 200, "readiness to return")
    assert post(server, "test.quick").status_code == 202


def test_a_sync_event_that_found_no_free_thread_in_time_is_503_not_504(
    kfn_server: StartServer,
) -> None:
    server = kfn_server(APP, {"KFN_SYNC_THREADS": "1"})
    held: list[int] = []
    holder = threading.Thread(target=lambda: held.append(post(server, "test.hold").status_code))
    holder.start()
    try:
        wait_until(lambda: metric(server, "kfn_sync_workers_busy") == 1, "the thread to be busy")
        assert readiness(server).status_code == 200  # busy within its timeout is not stuck
        refused = post(server, "test.quick", id_="queued")
        problem(refused, 503, "sync-workers-busy")
        assert refused.headers["retry-after"] == "1"
    finally:
        release(server)
        holder.join(10)
    assert held == [202]
    assert post(server, "test.quick").status_code == 202


def test_sigterm_does_not_wait_for_a_stuck_thread_past_the_grace_period(
    kfn_server: StartServer,
) -> None:
    grace = 1.0
    server = kfn_server(APP, {"KFN_SYNC_THREADS": "2", "KFN_GRACE_PERIOD": f"{grace}s"})
    problem(post(server, "test.block"), 504, "function-timeout")
    assert metric(server, "kfn_sync_workers_stuck") == 1

    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(30)
    elapsed = time.monotonic() - started
    # The thread would block for a minute; the process is gone within the grace period
    # plus a margin for the server's own shutdown.
    assert elapsed < grace + 3, f"exit took {elapsed:.1f}s"
    assert "grace period over" in server.logs()
