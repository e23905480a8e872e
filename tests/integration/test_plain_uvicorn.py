"""`uvicorn kfn.app:app`, without `kfn run`: what the host does where uvicorn decides more.

uvicorn's own defaults accept websockets (kfn run turns them off), which no function
takes, and `--lifespan off` serves an app whose startup never runs. Neither may end in
a traceback or a 500. The servers are stopped with SIGINT: uvicorn ends on a
re-raised SIGTERM, killed by it before coverage can write what the process ran.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import REPO, Server, free_port, start_process
from tests.helpers import binary_headers


def _uvicorn(functions: str, *options: str) -> Server:
    """`python -m uvicorn kfn.app:app` on 127.0.0.1, once it answers liveness."""
    port = free_port()
    environ = {**os.environ, "KFN_FUNCTIONS": functions, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "uvicorn", "kfn.app:app", "--port", str(port), *options]
    return start_process(
        command, environ, port, ready=lambda response: True, path="/health/liveness"
    )


@pytest.fixture(params=["tests.apps.wire", "tests.apps.web"])
def served(request: pytest.FixtureRequest) -> Iterator[Server]:
    """An events-only app and one with @http functions (FastAPI behind the host)."""
    server = _uvicorn(request.param)
    yield server
    server.stop(signal.SIGINT)


def test_a_websocket_handshake_is_refused_with_403(served: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{served.port}/", open_timeout=10).close()
    assert refused.value.response.status_code == 403
    assert httpx.get(served.url + "/health/readiness").status_code == 200
    served.stop(signal.SIGINT)
    assert "ERROR" not in served.logs()
    assert "Traceback" not in served.logs()


def test_without_a_lifespan_events_are_503_starting_and_counted() -> None:
    server = _uvicorn("tests.apps.contract", "--lifespan", "off")
    try:
        response = httpx.post(server.url + "/", headers=binary_headers("test.noreply"))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"].endswith(":starting")
        assert httpx.get(server.url + "/health/readiness").status_code == 503
        refused = {
            (sample.labels["reason"], sample.labels["status"]): sample.value
            for family in text_string_to_metric_families(httpx.get(server.url + "/metrics").text)
            for sample in family.samples
            if sample.name == "kfn_refused_requests_total"
        }
        assert refused.get(("starting", "503")) == 1, refused
    finally:
        server.stop(signal.SIGINT)
    assert "Traceback" not in server.logs()
