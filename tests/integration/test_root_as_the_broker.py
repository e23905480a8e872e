"""Under `kfn run`, `POST /` stands for the Broker: an event enters as its ingress takes it.

The ingress counts the hop limit (`knativebrokerttl`) down and refuses an event whose
limit is spent. A function's own endpoint is what a Trigger delivers to, after the
ingress: there the limit is not counted again.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = start_server("tests.apps.contract")
    yield started
    started.stop()


def _post(server: Server, path: str, ttl: str) -> httpx.Response:
    headers = binary_headers("test.noreply", id_=f"ttl-{ttl}", knativebrokerttl=ttl)
    return httpx.post(server.url + path, headers=headers)


def test_an_event_whose_hop_limit_is_spent_is_refused_at_root(server: Server) -> None:
    response = _post(server, "/", "1")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(":hop-limit")


def test_an_event_with_hops_left_is_taken_at_root(server: Server) -> None:
    assert _post(server, "/", "2").status_code == 202


def test_a_functions_endpoint_does_not_count_the_hop_limit_again(server: Server) -> None:
    assert _post(server, "/events/noreply", "1").status_code == 202
