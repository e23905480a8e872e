"""A mixed app on Knative turns ready without FastAPI; its HTTP side is built for the first request.

The event path needs none of FastAPI, so an event that wakes a scaled-to-zero
Service does not wait for it. An HTTP request that comes first waits for the build
and is answered, never 404 or 503; what FastAPI could refuse is built, and refused,
before readiness.
"""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from kfn import Registry
from kfn.app import App
from kfn.codec import to_http
from kfn.config import Settings
from kfn.testing import event
from tests.conftest import Server
from tests.helpers import cold_start, start_failure


def _started(**env: str) -> dict[str, object]:
    """In a fresh process: FastAPI imported or not at readiness, after an event, after HTTP."""
    headers, body = to_http(event("test.mixed.ping"))
    started = cold_start(
        "tests.apps.mixed",
        env,
        [
            httpx.Request("GET", "/health/readiness"),
            httpx.Request("POST", "/events/ping", headers=headers, content=body),
            httpx.Request("GET", "/hello", params={"name": "kfn"}),
        ],
    )
    readiness, ping, hello = started.answers
    return {
        "at_readiness": "fastapi" in started.modules,
        "readiness": readiness.status,
        "event": ping.status,
        "after_event": "fastapi" in ping.modules,
        "http": [hello.status, hello.json()],
        "after_http": "fastapi" in hello.modules,
    }


def test_on_knative_fastapi_waits_for_the_first_http_request() -> None:
    assert _started(K_SERVICE="shop") == {
        "at_readiness": False,
        "readiness": 200,
        "event": 202,
        "after_event": False,
        "http": [200, {"greeting": "hello kfn"}],
        "after_http": True,
    }


def test_off_knative_the_http_side_is_built_before_readiness() -> None:
    seen = _started()
    assert seen["at_readiness"] is True
    assert seen["http"] == [200, {"greeting": "hello kfn"}]


def test_a_public_service_without_event_endpoints_builds_before_readiness() -> None:
    seen = _started(K_SERVICE="shop", KFN_EVENT_ENDPOINTS="false")
    assert seen["at_readiness"] is True
    assert seen["event"] == 403
    assert seen["http"] == [200, {"greeting": "hello kfn"}]


def _listening(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.005)
    raise AssertionError("the server did not listen in time")


def test_http_requests_racing_the_build_are_answered(
    kfn_server: object,
) -> None:
    assert callable(kfn_server)
    server: Server = kfn_server("tests.apps.mixed", {"K_SERVICE": "shop"}, wait_ready=False)
    _listening(server.port, time.monotonic() + 20)

    async def race() -> list[httpx.Response]:
        headers, body = to_http(event("test.mixed.ping"))
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
            return list(
                await asyncio.gather(
                    client.get("/hello"),
                    client.get("/sizes/large", params={"count": "2"}),
                    client.post("/events/ping", headers=headers, content=body),
                    client.get("/hello", params={"name": "again"}),
                    client.get("/nowhere"),
                )
            )

    hello, sized, ping, again, nowhere = asyncio.run(race())
    assert (hello.status_code, hello.json()) == (200, {"greeting": "hello world"})
    assert (sized.status_code, sized.json()) == (200, {"size": "large", "count": 2})
    assert ping.status_code == 202
    assert again.json() == {"greeting": "hello again"}
    assert nowhere.status_code == 404  # FastAPI's own answer, once built: a problem
    assert nowhere.headers["content-type"] == "application/problem+json"
    invalid = httpx.get(f"{server.url}/sizes/medium")
    assert invalid.status_code == 422
    assert invalid.json()["type"].endswith(":invalid-request")


def test_on_knative_a_route_fastapi_refuses_still_stops_startup() -> None:
    output = start_failure("tests.apps.broken.http_type", {"K_SERVICE": "shop"})
    assert "'thing'" in output and "FastAPI cannot route it" in output


def test_on_knative_two_routes_on_one_path_still_stop_startup() -> None:
    output = start_failure("tests.apps.broken.http_duplicate", {"K_SERVICE": "shop"})
    assert "GET /same is already served by 'first'" in output


registry = Registry()


@registry.http("/hello")
async def hello() -> dict[str, str]:
    return {"greeting": "hello"}


@registry.cloudevent(type="lazy.ping")
async def ping(received: object) -> None:
    return None


async def test_a_lazy_build_that_fails_is_a_500_problem_and_unready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(registry: Registry) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("kfn.http_routes.build_http_app", broken)
    # In this process FastAPI is imported already, which would build it at startup.
    monkeypatch.setattr("kfn._startup.builds_lazily", lambda registry, on_knative: True)
    app = App(Settings(k_service="shop"), registry, load=False)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as client:
            assert (await client.get("/health/readiness")).status_code == 200
            first, second = await asyncio.gather(client.get("/hello"), client.get("/hello"))
            readiness = await client.get("/health/readiness")
            headers, body = to_http(event("lazy.ping"))
            delivered = await client.post("/", headers=headers, content=body)
    finally:
        await app.shutdown()
    for answer in (first, second):
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith(":http-unavailable")
        assert "secret detail" not in answer.text
    assert readiness.status_code == 503
    assert readiness.json()["reason"] == "the HTTP functions cannot be served"
    assert delivered.status_code == 202
