"""`@http` routes answer every error as application/problem+json, the format events use;
GET / may be the user's home page while POST / stays the event endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def web() -> Iterator[Server]:
    server = start_server("tests.apps.web")
    yield server
    server.stop()  # SIGTERM: the server writes its coverage data


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:kfn:problem:{kind}"
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


def test_get_root_is_the_users_home_page(web: Server) -> None:
    response = httpx.get(web.url + "/")
    assert response.status_code == 200
    assert response.json() == {"page": "home"}


def test_post_root_still_takes_events(web: Server) -> None:
    response = httpx.post(web.url + "/", headers=binary_headers("test.web.ping"))
    assert response.status_code == 202


def test_an_unknown_path_is_a_not_found_problem(web: Server) -> None:
    body = problem(httpx.get(web.url + "/nowhere"), 404, "not-found")
    assert body["detail"] == "no route for /nowhere"


def test_an_event_only_app_answers_an_unknown_path_in_the_same_format(
    web: Server, kfn_server: Callable[..., Server]
) -> None:
    events_only = kfn_server("tests.apps.loop")
    expected = problem(httpx.get(web.url + "/nowhere"), 404, "not-found")
    assert problem(httpx.get(events_only.url + "/nowhere"), 404, "not-found") == expected


def test_a_method_not_allowed_is_a_problem_with_allow(web: Server) -> None:
    response = httpx.delete(web.url + "/items")
    body = problem(response, 405, "method-not-allowed")
    assert body["detail"] == "DELETE is not allowed on /items"
    assert response.headers["allow"] == "POST"


def test_root_allows_the_home_page_methods_and_post(web: Server) -> None:
    response = httpx.put(web.url + "/")
    problem(response, 405, "method-not-allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_an_event_endpoint_takes_only_post_beside_a_home_page(web: Server) -> None:
    """GET / is the home page's; GET /events/<fn> is still the event endpoint's 405."""
    response = httpx.get(web.url + "/events/ping")
    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


def test_a_validation_error_is_a_problem_with_fastapis_details(web: Server) -> None:
    response = httpx.post(web.url + "/items", json={"name": "tea", "quantity": 0})
    body = problem(response, 422, "invalid-request")
    assert body["function"] == "add_item"
    (error,) = body["errors"]
    assert error["loc"] == ["body", "quantity"]
    assert error["type"] == "greater_than"
    assert error["input"] == 0
    assert "msg" in error


def test_an_exception_in_a_function_is_a_500_problem_without_its_message(web: Server) -> None:
    response = httpx.get(web.url + "/crash")
    body = problem(response, 500, "function-error")
    assert body["detail"] == "function 'crash' raised RuntimeError"
    assert "secret crash detail" not in response.text


def test_an_exception_in_a_function_is_logged_once_by_the_host_not_by_uvicorn(
    kfn_server: Callable[..., Server],
) -> None:
    """One line, kfn's own with the path; uvicorn's "Exception in ASGI application" never.

    A server of its own: another test's crash would be logged in the same file.
    """
    server = kfn_server("tests.apps.web")
    problem(httpx.get(server.url + "/crash"), 500, "function-error")
    deadline = time.monotonic() + 5
    while "http function failed" not in server.logs() and time.monotonic() < deadline:
        time.sleep(0.02)
    server.stop()  # every line it will write is written
    (line,) = [x for x in server.logs().splitlines() if "http function failed" in x]
    assert "/crash" in line
    assert "Exception in ASGI application" not in server.logs()


def test_an_http_exception_keeps_its_status_and_detail(web: Server) -> None:
    body = problem(httpx.get(web.url + "/teapot"), 418, "http-error")
    assert body["detail"] == "short and stout"
    assert body["function"] == "teapot"
