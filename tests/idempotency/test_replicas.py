"""Idempotent functions on two `kfn run` processes sharing one real Redis, driven over HTTP."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, free_port, start_server
from tests.helpers import binary_headers
from tests.idempotency.conftest import RedisServer, redis_binary, starts

APP = "tests.apps.idempotent"
Shared = tuple[Server, Server, Path]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """Replicas A and B of one app, with their claims in one redis-server."""
    redis = RedisServer(redis_binary(), free_port())
    redis.start()
    runs_file = tmp_path_factory.mktemp("idempotency") / "runs.log"
    env = {"KFN_IDEMPOTENCY_STORE": redis.url, "IDEMPOTENT_RUNS": str(runs_file)}
    servers: list[Server] = []
    try:
        servers.append(start_server(APP, env))
        servers.append(start_server(APP, env))
        yield servers[0], servers[1], runs_file
    finally:
        for server in servers:
            server.stop(signal.SIGKILL)
        redis.stop()


def send(server: Server, type_: str, id_: str, data: Any = None) -> httpx.Response:
    """Deliver one event (JSON data) to the server's `/` and return the answer."""
    headers = binary_headers(type_, id_, **{"content-type": "application/json"})
    return httpx.post(f"{server.url}/", headers=headers, json=data or {}, timeout=10)


def new_id() -> str:
    return uuid.uuid4().hex


def wait_for_start(runs_file: Path, function: str, key: str, count: int = 1) -> None:
    deadline = time.monotonic() + 5
    while starts(runs_file, function, key) < count:
        assert time.monotonic() < deadline, f"{function} never started on {key}"
        time.sleep(0.01)


def test_a_sequential_duplicate_on_the_other_replica_gets_the_same_reply_event(
    shared: Shared,
) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    first = send(a, "test.charge", id_)
    again = send(b, "test.charge", id_)
    assert first.status_code == again.status_code == 200
    assert again.headers["ce-id"] == first.headers["ce-id"]
    assert again.headers["ce-type"] == "test.charged"
    assert again.json() == first.json() == {"charged": id_}
    assert starts(runs_file, "charge", id_) == 1


def test_a_duplicate_of_a_function_without_reply_gets_202_without_a_run(shared: Shared) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    assert send(a, "test.notify", id_).status_code == 202
    again = send(b, "test.notify", id_)
    assert (again.status_code, again.content) == (202, b"")
    assert starts(runs_file, "notify", id_) == 1


def test_a_duplicate_in_flight_on_the_other_replica_gets_409_with_retry_after(
    shared: Shared,
) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    result: dict[str, httpx.Response] = {}

    async def both() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            headers = binary_headers("test.notify", id_, **{"content-type": "application/json"})
            slow = asyncio.create_task(
                client.post(f"{a.url}/", headers=headers, json={"sleep": 0.6})
            )
            await asyncio.to_thread(wait_for_start, runs_file, "notify", id_)
            result["duplicate"] = await client.post(f"{b.url}/", headers=headers, json={})
            result["first"] = await slow

    asyncio.run(both())
    duplicate = result["duplicate"]
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert 1 <= int(duplicate.headers["retry-after"]) <= 3
    assert duplicate.json()["type"] == "urn:kfn:problem:duplicate-in-flight"
    assert "Traceback" not in duplicate.text
    assert result["first"].status_code == 202
    assert starts(runs_file, "notify", id_) == 1


def test_concurrent_duplicates_across_both_replicas_run_the_function_once(shared: Shared) -> None:
    a, b, runs_file = shared
    id_ = new_id()

    async def burst() -> list[httpx.Response]:
        headers = binary_headers("test.charge", id_, **{"content-type": "application/json"})
        async with httpx.AsyncClient(timeout=10) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{server.url}/", headers=headers, json={"sleep": 0.3})
                    for server in (a, b) * 4
                )
            )

    answers = asyncio.run(burst())
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}
    replies = {answer.headers["ce-id"] for answer in answers if answer.status_code == 200}
    assert len(replies) == 1
    assert starts(runs_file, "charge", id_) == 1


def test_a_failure_knative_retries_releases_the_claim_so_the_retry_runs(shared: Shared) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    data = {"fail": "raise", "fail_times": 1}
    failed = send(a, "test.charge", id_, data)
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    retried = send(b, "test.charge", id_, data)
    assert retried.status_code == 200 and retried.json() == {"charged": id_}
    assert starts(runs_file, "charge", id_) == 2


def test_a_timeout_releases_the_claim_so_the_retry_runs(shared: Shared) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    data = {"sleep": 1.5, "sleep_times": 1}
    assert send(a, "test.notify", id_, data).status_code == 504
    assert send(b, "test.notify", id_, data).status_code == 202
    assert starts(runs_file, "notify", id_) == 2


def test_a_dropped_event_is_recorded_and_a_duplicate_gets_the_same_drop(shared: Shared) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    dropped = send(a, "test.notify", id_, {"fail": "drop"})
    again = send(b, "test.notify", id_, {"fail": "drop"})
    assert dropped.status_code == again.status_code == 422
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["detail"] == dropped.json()["detail"] == "the card is not valid"
    assert starts(runs_file, "notify", id_) == 1


def test_a_custom_key_makes_events_with_different_ids_duplicates(shared: Shared) -> None:
    a, b, runs_file = shared
    order = new_id()
    assert send(a, "test.order", new_id(), {"order": order}).status_code == 202
    assert send(b, "test.order", new_id(), {"order": order}).status_code == 202
    assert starts(runs_file, "ship", order) == 1


def test_a_function_that_is_not_idempotent_runs_on_every_delivery(shared: Shared) -> None:
    a, b, runs_file = shared
    id_ = new_id()
    assert send(a, "test.plain", id_).status_code == 202
    assert send(b, "test.plain", id_).status_code == 202
    assert starts(runs_file, "plain", id_) == 2
