"""Startup, readiness, limits and graceful shutdown of a real `kfn run` process."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import REPO, Server, free_port
from tests.helpers import binary_headers

Start = Callable[..., Server]


def test_liveness_is_200(contract_server: Server) -> None:
    response = httpx.get(contract_server.url + "/health/liveness")
    assert response.status_code == 200


def test_readiness_is_503_until_startup_hooks_finish(kfn_server: Start) -> None:
    server = kfn_server("tests.apps.contract", wait_ready=False)
    statuses = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            status = httpx.get(server.url + "/health/readiness", timeout=1).status_code
        except httpx.HTTPError:
            time.sleep(0.01)
            continue
        statuses.append(status)
        if status == 200:
            break
        time.sleep(0.01)
    assert statuses[-1] == 200
    # The port is bound only after the startup hooks ran: uvicorn completes the
    # lifespan first, so no request can ever see a half-started host.
    assert set(statuses) <= {200, 503}


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
            await asyncio.sleep(0.3)
            extra = await client.post("/", headers=binary_headers("test.noreply"))
            assert extra.headers["retry-after"] == "1"
            assert extra.json()["type"].endswith(":overloaded")
            return [extra.status_code] + [(await t).status_code for t in slow]

    assert asyncio.run(scenario()) == [503, 202, 202]


def test_sigterm_drains_in_flight_events_and_exits_zero(kfn_server: Start) -> None:
    server = kfn_server("tests.apps.contract", {"KFN_GRACE_PERIOD": "10"})

    async def scenario() -> tuple[int, int, int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            in_flight = asyncio.create_task(
                client.post("/", headers=binary_headers("test.sleep", id_="slow"), content=b"1.5")
            )
            await asyncio.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            ready = (await client.get("/health/readiness")).status_code
            new = await client.post("/", headers=binary_headers("test.noreply", id_="late"))
            assert new.headers.get("retry-after") == "1"
            return (await in_flight).status_code, ready, new.status_code

    slow_status, readiness, new_status = asyncio.run(scenario())
    assert slow_status == 202  # the in-flight event finished and was acknowledged
    assert readiness == 503
    assert new_status == 503
    assert server.process.wait(15) == 0
    assert "shutdown hook ran" in server.logs()


def _start_failure(module: str, env: dict[str, str] | None = None) -> str:
    """Run `kfn run` expecting it to refuse to start; return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "kfn", "run", "--port", str(free_port()), "--functions", module],
        cwd=REPO,
        env={"PATH": "", "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    return result.stderr + result.stdout


def test_an_invalid_setting_stops_startup_naming_the_variable() -> None:
    output = _start_failure("tests.apps.contract", {"KFN_TIMEOUT": "soon"})
    assert "KFN_TIMEOUT='soon'" in output


def test_duplicate_function_names_stop_startup_naming_the_function() -> None:
    output = _start_failure("tests.apps.broken.duplicate")
    assert "'handle'" in output and "already taken" in output


def test_a_reserved_path_stops_startup() -> None:
    output = _start_failure("tests.apps.broken.reserved")
    assert "/health/status" in output and "reserved" in output


def test_a_return_value_without_reply_type_stops_startup() -> None:
    output = _start_failure("tests.apps.broken.no_reply_type")
    assert "'answers'" in output and "reply_type" in output


def test_a_failing_startup_hook_stops_startup() -> None:
    output = _start_failure("tests.apps.broken.hook_fails")
    assert "'connect'" in output and "database unreachable" in output


def test_a_missing_functions_module_is_a_clear_error() -> None:
    output = _start_failure("no_such_functions_module")
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
