"""Startup, readiness, limits and graceful shutdown of a real `kfn run` process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest

from kfn import CloudEvent, Registry
from kfn.app import App
from kfn.config import Settings
from kfn.server import EXIT_MARGIN, STOP_SECONDS
from tests.conftest import Server
from tests.helpers import binary_headers, counter, start_failure, wait_until

Start = Callable[..., Server]


def test_liveness_is_200(contract_server: Server) -> None:
    response = httpx.get(contract_server.url + "/health/liveness")
    assert response.status_code == 200


async def test_readiness_is_503_until_startup_hooks_finish() -> None:
    # Under uvicorn the port opens only after the lifespan startup, so the "starting"
    # answers are seen where they can be: on the ASGI app while its startup runs.
    async with starting_app() as (client, release):
        starting = await client.get("/health/readiness")
        assert (starting.status_code, starting.json()["reason"]) == (503, "starting")
        await release()
        assert (await client.get("/health/readiness")).status_code == 200


async def test_events_and_http_functions_are_refused_while_starting() -> None:
    async with starting_app() as (client, release):
        event = await client.post("/", headers=binary_headers("test.any"))
        page = await client.get("/page")
        for response in (event, page):
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.json()["type"].endswith(":starting")
        await release()
        assert (await client.post("/", headers=binary_headers("test.any"))).status_code == 202
        assert (await client.get("/page")).json() == {"page": True}


@contextlib.asynccontextmanager
async def starting_app() -> AsyncIterator[tuple[httpx.AsyncClient, Callable[[], Awaitable[None]]]]:
    """An app whose startup hook waits for `release()`, with a client bound to it over ASGI."""
    registry = Registry()
    hook_started, hook_may_finish = asyncio.Event(), asyncio.Event()

    @registry.on_startup
    async def wait_for_the_test() -> None:
        hook_started.set()
        await hook_may_finish.wait()

    @registry.cloudevent(type="test.any")
    async def handle(event: CloudEvent) -> None:
        return None

    @registry.http("/page", methods=["GET"])
    async def page() -> dict[str, bool]:
        return {"page": True}

    app = App(Settings(), registry, load=False)
    lifespan: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    answers: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    await lifespan.put({"type": "lifespan.startup"})
    previous = signal.getsignal(signal.SIGTERM)  # the app hooks SIGTERM; the test keeps its own
    server = asyncio.create_task(app({"type": "lifespan"}, lifespan.get, answers.put))

    async def release() -> None:
        hook_may_finish.set()
        assert (await asyncio.wait_for(answers.get(), 10))["type"] == "lifespan.startup.complete"

    transport = httpx.ASGITransport(app=app)
    try:
        await asyncio.wait_for(hook_started.wait(), 10)
        async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as client:
            yield client, release
    finally:
        hook_may_finish.set()
        await lifespan.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(server, 10)
        signal.signal(signal.SIGTERM, previous)


def test_a_readiness_check_returning_false_makes_readiness_503(guards_server: Server) -> None:
    try:
        assert httpx.put(guards_server.url + "/gate/closed").status_code == 200
        response = httpx.get(guards_server.url + "/health/readiness")
        assert response.status_code == 503
        assert response.json()["reason"] == "readiness check 'gate' returned False"
    finally:
        httpx.put(guards_server.url + "/gate/open")
    assert httpx.get(guards_server.url + "/health/readiness").status_code == 200


def test_a_readiness_check_raising_makes_readiness_503_without_its_message(
    guards_server: Server,
) -> None:
    try:
        assert httpx.put(guards_server.url + "/gate/raise").status_code == 200
        response = httpx.get(guards_server.url + "/health/readiness")
        assert response.status_code == 503
        assert response.json()["reason"] == "readiness check 'gate' raised RuntimeError"
        assert "secret readiness detail" not in response.text
    finally:
        httpx.put(guards_server.url + "/gate/open")


def in_flight(server: Server, function: str) -> float:
    return counter(
        httpx.get(server.url + "/metrics").text, "kfn_events_in_flight", function=function
    )


def test_the_in_flight_limit_answers_503_with_retry_after(kfn_server: Start) -> None:
    server = kfn_server("tests.apps.contract", {"KFN_MAX_IN_FLIGHT": "2"})

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            slow = [
                asyncio.create_task(
                    client.post(
                        "/", headers=binary_headers("test.sleep", id_=f"s{i}"), content=b"1"
                    )
                )
                for i in range(2)
            ]
            await asyncio.to_thread(
                wait_until, lambda: in_flight(server, "sleeper") == 2, "two events in flight"
            )
            extra = await client.post("/", headers=binary_headers("test.noreply"))
            assert extra.headers["retry-after"] == "1"
            assert extra.json()["type"].endswith(":overloaded")
            return [extra.status_code] + [(await t).status_code for t in slow]

    assert asyncio.run(scenario()) == [503, 202, 202]


def test_sigterm_drains_in_flight_events_and_exits_zero(kfn_server: Start) -> None:
    server = kfn_server("tests.apps.contract", {"KFN_GRACE_PERIOD": "10"})

    async def scenario() -> tuple[int, int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            in_flight_event = asyncio.create_task(
                client.post("/", headers=binary_headers("test.sleep", id_="slow"), content=b"1.5")
            )
            await asyncio.to_thread(
                wait_until, lambda: in_flight(server, "sleeper") == 1, "the event in flight"
            )
            server.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(wait_until, lambda: unready(server), "readiness to turn 503")
            assert not in_flight_event.done()  # unready while the event is still being handled
            new = await client.post("/", headers=binary_headers("test.noreply", id_="late"))
            assert new.headers.get("retry-after") == "1"
            return (await in_flight_event).status_code, new.status_code

    slow_status, new_status = asyncio.run(scenario())
    assert slow_status == 202  # the in-flight event finished and was acknowledged
    assert new_status == 503
    assert server.process.wait(15) == 0
    assert "shutdown hook ran" in server.logs()
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    draining = [line for line in lines if line["message"] == "SIGTERM: draining"]
    assert [(line["in_flight"], line["grace_period_seconds"]) for line in draining] == [(1, 10.0)]
    (drained,) = [line for line in lines if line["message"] == "drained"]
    assert drained["in_flight"] == 0
    assert 0 < drained["seconds"] < 10
    assert round(drained["seconds"], 3) == drained["seconds"]  # milliseconds, no finer


@pytest.mark.parametrize(
    ("functions", "type_", "function", "exits"),
    [
        ("tests.apps.contract", "test.sleep", "sleeper", {0}),
        # A thread cannot be cut off: 0 when it no longer holds the interpreter's exit,
        # 1 when the watchdog ended the process.
        ("tests.adversarial.load_app", "load.block", "block", {0, 1}),
    ],
    ids=["async", "sync"],
)
def test_work_past_the_grace_period_is_cut_off_with_503_and_named_once(
    kfn_server: Start, functions: str, type_: str, function: str, exits: set[int]
) -> None:
    server = kfn_server(functions, {"KFN_GRACE_PERIOD": "1"})

    async def scenario() -> tuple[httpx.Response, float, float]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            stuck = asyncio.create_task(
                client.post("/", headers=binary_headers(type_, id_="stuck-1"), content=b"60")
            )
            await asyncio.to_thread(
                wait_until, lambda: in_flight(server, function) == 1, "the work in flight"
            )
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            response = await stuck
            answered = time.monotonic() - signalled
            await asyncio.to_thread(server.process.wait, 30)
            return response, answered, time.monotonic() - signalled

    response, answered, seconds = asyncio.run(scenario())
    # The host cuts off at the grace period itself, not uvicorn's backstop a second later.
    assert answered < 1 + STOP_SECONDS, answered
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"] == "urn:kfn:problem:shutting-down"
    assert server.process.returncode in exits
    assert seconds < 1 + EXIT_MARGIN + 2, seconds  # slack for a busy machine
    logs = server.logs()
    assert "shutdown hook ran" in logs
    cut_off = [line for line in logs.splitlines() if "grace period over" in line]
    assert len(cut_off) == 1 and function in cut_off[0] and "stuck-1" in cut_off[0]


def unready(server: Server) -> bool:
    return httpx.get(server.url + "/health/readiness").status_code == 503


def test_http_functions_are_refused_while_draining(kfn_server: Start) -> None:
    server = kfn_server("tests.apps.guards", {"KFN_GRACE_PERIOD": "10"})
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/ping").status_code == 200

        async def hold_and_drain() -> int:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as events:
                held = asyncio.create_task(
                    events.post("/", headers=binary_headers("test.hold"), content=b"1.5")
                )
                await asyncio.to_thread(
                    wait_until, lambda: in_flight(server, "hold") == 1, "the event in flight"
                )
                server.process.send_signal(signal.SIGTERM)
                await asyncio.to_thread(wait_until, lambda: unready(server), "draining")
                refused = client.get("/ping")
                assert refused.status_code == 503
                assert refused.headers["retry-after"] == "1"
                assert refused.json()["type"].endswith(":draining")
                return (await held).status_code

        assert asyncio.run(hold_and_drain()) == 202
    assert server.process.wait(15) == 0


def test_an_invalid_setting_stops_startup_naming_the_variable() -> None:
    output = start_failure("tests.apps.contract", {"KFN_TIMEOUT": "soon"}, code=2)
    assert "KFN_TIMEOUT='soon'" in output


def test_duplicate_function_names_stop_startup_naming_the_function() -> None:
    output = start_failure("tests.apps.broken.duplicate")
    assert "'handle'" in output and "already taken" in output


def test_a_reserved_path_stops_startup() -> None:
    output = start_failure("tests.apps.broken.reserved")
    assert "/health/status" in output and "reserved" in output


def test_a_return_value_without_reply_type_stops_startup() -> None:
    output = start_failure("tests.apps.broken.no_reply_type")
    assert "'answers'" in output and "reply_type" in output


def test_a_failing_startup_hook_stops_startup() -> None:
    output = start_failure("tests.apps.broken.hook_fails")
    assert "'connect'" in output and "database unreachable" in output


def test_a_missing_functions_module_is_a_clear_error() -> None:
    output = start_failure("no_such_functions_module")
    assert "no_such_functions_module" in output and "does not exist" in output


@pytest.mark.parametrize("path", ["/items/3?q=x"])
def test_http_functions_are_fastapi_routes(contract_server: Server, path: str) -> None:
    response = httpx.get(contract_server.url + path)
    assert response.json() == {"item_id": 3, "q": "x"}
    invalid = httpx.get(contract_server.url + "/items/three")
    assert invalid.status_code == 422  # FastAPI's own validation
    assert "/items/{item_id}" in httpx.get(contract_server.url + "/openapi.json").json()["paths"]


def test_an_http_function_error_is_500_without_a_trace(contract_server: Server) -> None:
    response = httpx.get(contract_server.url + "/boom")
    assert response.status_code == 500
    assert "secret http detail" not in response.text
    assert "Traceback" not in response.text


def test_an_unknown_path_is_404(contract_server: Server) -> None:
    assert httpx.get(contract_server.url + "/nowhere").status_code == 404
