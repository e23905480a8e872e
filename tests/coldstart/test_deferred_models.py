"""Models that defer their build: built for their first event on Knative, at startup elsewhere.

An instance woken by an event for one function does not wait for the validators of
the others. Off Knative (and in `kfn list`) they are built before readiness, so a
model pydantic cannot build is refused before it is deployed; a parameter type
pydantic refuses outright stops the start everywhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx

from kfn.codec import to_http
from kfn.testing import event
from tests.conftest import REPO, Server, free_port

ORDER = {"order_id": "o-1", "quantity": 2}


def _send(server: Server, type_: str, data: Any = None) -> httpx.Response:
    function = {"test.deferred.order": "take", "test.deferred.census": "census"}.get(type_)
    path = f"/events/{function}" if function else "/"
    headers, body = to_http(event(type_, data))
    return httpx.post(f"{server.url}{path}", headers=headers, content=body, timeout=20)


def _built(server: Server) -> dict[str, bool]:
    answer = _send(server, "test.deferred.census")
    assert answer.status_code == 200, answer.text
    built: dict[str, bool] = answer.json()
    return built


def test_on_knative_a_model_is_built_for_the_first_event_that_needs_it(
    kfn_server: Any,
) -> None:
    server: Server = kfn_server("tests.coldstart.deferred_app", {"K_SERVICE": "shop"})
    assert _built(server) == {"Order": False, "Receipt": False}
    taken = _send(server, "test.deferred.order", ORDER)
    assert (taken.status_code, taken.json()) == (200, {"order_id": "o-1"})
    assert _built(server) == {"Order": True, "Receipt": True}


def test_data_that_does_not_fit_a_model_built_late_is_422(kfn_server: Any) -> None:
    server: Server = kfn_server("tests.coldstart.deferred_app", {"K_SERVICE": "shop"})
    refused = _send(server, "test.deferred.order", {"order_id": "", "quantity": 0})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert {error["loc"][0] for error in refused.json()["errors"]} == {"order_id", "quantity"}


def test_off_knative_the_models_functions_take_are_built_before_readiness(
    kfn_server: Any,
) -> None:
    server: Server = kfn_server("tests.coldstart.deferred_app", {"K_SERVICE": ""})
    # Order is a parameter (built at startup); Receipt is only returned (built when made).
    assert _built(server) == {"Order": True, "Receipt": False}


def test_on_knative_a_model_pydantic_cannot_build_fails_only_its_own_events(
    kfn_server: Any,
) -> None:
    server: Server = kfn_server("tests.coldstart.broken_model", {"K_SERVICE": "shop"})
    headers, body = to_http(event("test.broken.ping"))
    assert httpx.post(server.url, headers=headers, content=body).status_code == 202
    headers, body = to_http(event("test.broken.parcel", {"thing": 1}))
    answers = [
        httpx.post(f"{server.url}/events/receive", headers=headers, content=body) for _ in range(2)
    ]
    for answer in answers:
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"].endswith(":function-error")
        assert problem["function"] == "receive"
        assert "Thing" not in answer.text and "Traceback" not in answer.text
    assert httpx.get(f"{server.url}/health/readiness").status_code == 200
    server.stop()
    critical = [
        line
        for line in server.logs().splitlines()
        if line.startswith("{") and json.loads(line)["level"] == "critical"
    ]
    assert len(critical) == 1, server.logs()  # once, not per event
    assert "function 'receive'" in critical[0] and "parameter 'parcel'" in critical[0]


def _refused(command: list[str], module: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kfn", *command, "--functions", module],
        cwd=REPO,
        env={"PATH": "", "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    return f"{result.returncode} {result.stderr}{result.stdout}"


def test_off_knative_a_model_pydantic_cannot_build_stops_startup() -> None:
    output = _refused(["run", "--port", str(free_port())], "tests.coldstart.broken_model")
    assert output.startswith("3 ")
    assert "function 'receive'" in output and "parameter 'parcel'" in output
    assert "pydantic cannot validate" in output


def test_kfn_list_refuses_a_model_pydantic_cannot_build() -> None:
    output = _refused(["list"], "tests.coldstart.broken_model", K_SERVICE="shop")
    assert "parameter 'parcel' has a type pydantic cannot validate" in output


def test_on_knative_a_type_pydantic_refuses_still_stops_startup() -> None:
    output = _refused(
        ["run", "--port", str(free_port())], "tests.coldstart.broken_signature", K_SERVICE="shop"
    )
    assert output.startswith("3 ")
    assert "parameter 'thing' has a type pydantic cannot validate" in output
