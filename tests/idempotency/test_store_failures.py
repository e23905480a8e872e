"""What idempotent functions do when a replica dies or the store goes away, over real HTTP."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Server, free_port
from tests.helpers import binary_headers
from tests.idempotency.conftest import RedisServer, runs, starts
from tests.idempotency.test_replicas import APP, new_id, send, wait_for_start


def while_running(
    server: Server, id_: str, data: dict[str, Any], runs_file: Path, then: Callable[[], Any]
) -> httpx.Response | BaseException:
    """Deliver a test.notify event, call `then()` once the function started; the answer."""

    async def run() -> httpx.Response | BaseException:
        headers = binary_headers("test.notify", id_, **{"content-type": "application/json"})
        async with httpx.AsyncClient(timeout=10) as client:
            first = asyncio.create_task(client.post(f"{server.url}/", headers=headers, json=data))
            await asyncio.to_thread(wait_for_start, runs_file, "notify", id_)
            await asyncio.to_thread(then)
            try:
                return await first
            except httpx.HTTPError as error:
                return error

    return asyncio.run(run())


def test_a_claim_left_by_a_killed_replica_expires_and_a_later_retry_runs(
    kfn_server: Callable[..., Server], start_redis: Callable[[], RedisServer], runs_file: Path
) -> None:
    redis = start_redis()
    env = {"KFN_IDEMPOTENCY_STORE": redis.url, "IDEMPOTENT_RUNS": str(runs_file)}
    a, b = kfn_server(APP, env), kfn_server(APP, env)
    id_ = new_id()
    claimed = time.monotonic()
    answer = while_running(a, id_, {"sleep": 0.9}, runs_file, lambda: a.stop(signal.SIGKILL))
    assert isinstance(answer, httpx.HTTPError)  # the replica died mid-function
    assert send(b, "test.notify", id_).status_code == 409  # its claim still holds
    time.sleep(max(0.0, claimed + 2.2 - time.monotonic()))  # the lease: 1 s timeout + 1 s
    assert send(b, "test.notify", id_).status_code == 202
    steps = runs(runs_file, "notify", id_)
    assert [phase for _, phase in steps] == ["start", "start", "end"]
    assert steps[0][0] == a.process.pid and steps[1][0] == steps[2][0] == b.process.pid


def test_an_unreachable_store_answers_503_and_the_function_never_runs(
    kfn_server: Callable[..., Server], runs_file: Path
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    server = kfn_server(APP, {"KFN_IDEMPOTENCY_STORE": closed, "IDEMPOTENT_RUNS": str(runs_file)})
    id_ = new_id()
    answer = send(server, "test.charge", id_)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:kfn:problem:idempotency-store-unavailable"
    assert "Traceback" not in answer.text and "127.0.0.1" not in answer.text
    assert starts(runs_file, "charge", id_) == 0
    assert send(server, "test.plain", id_).status_code == 202  # other functions still serve


def test_redis_stopped_mid_run_refuses_new_events_then_serves_again_once_it_is_back(
    kfn_server: Callable[..., Server], start_redis: Callable[[], RedisServer], runs_file: Path
) -> None:
    redis = start_redis()
    env = {"KFN_IDEMPOTENCY_STORE": redis.url, "IDEMPOTENT_RUNS": str(runs_file)}
    server = kfn_server(APP, env)
    assert send(server, "test.notify", new_id()).status_code == 202  # connected
    in_flight = new_id()
    answer = while_running(server, in_flight, {"sleep": 0.3}, runs_file, redis.stop)
    # The function finished: its answer stands, though its outcome could not be recorded.
    assert isinstance(answer, httpx.Response) and answer.status_code == 202
    assert "idempotency record failed" in server.logs()
    refused = new_id()
    assert send(server, "test.notify", refused).status_code == 503
    assert starts(runs_file, "notify", refused) == 0
    redis.start()
    assert send(server, "test.notify", refused).status_code == 202
    assert starts(runs_file, "notify", refused) == 1


def test_the_in_memory_store_answers_a_duplicate_under_kfn_run(
    kfn_server: Callable[..., Server], runs_file: Path
) -> None:
    server = kfn_server(APP, {"IDEMPOTENT_RUNS": str(runs_file)})
    id_ = new_id()
    first = send(server, "test.charge", id_)
    again = send(server, "test.charge", id_)
    assert again.status_code == first.status_code == 200
    assert again.headers["ce-id"] == first.headers["ce-id"]
    assert starts(runs_file, "charge", id_) == 1
