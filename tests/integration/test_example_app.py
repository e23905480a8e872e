"""The example app in functions/, driven from outside as the README shows it."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers

ORDER = b'{"order_id": "o-1", "customer": "ann", "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}]}'


@pytest.fixture(scope="module")
def example() -> Iterator[Server]:
    server = start_server("functions")
    yield server
    server.stop(signal.SIGKILL)


def test_hello(example: Server) -> None:
    assert (
        httpx.get(example.url + "/hello", params={"name": "kfn"}).json()["greeting"] == "hello kfn"
    )


def test_an_order_is_billed_with_an_invoice_reply(example: Server) -> None:
    response = httpx.post(
        example.url + "/events/bill",
        headers=binary_headers("com.example.order.created", **{"content-type": "application/json"}),
        content=ORDER,
    )
    assert response.status_code == 200
    assert response.headers["ce-type"] == "com.example.invoice.created"
    assert response.json() == {
        "invoice_id": "inv-o-1",
        "order_id": "o-1",
        "customer": "ann",
        "total": 6.5,
    }


def test_at_root_the_order_is_billed_and_audited(example: Server) -> None:
    response = httpx.post(
        example.url + "/",
        headers=binary_headers("com.example.order.created", **{"content-type": "application/json"}),
        content=ORDER,
    )
    assert response.status_code == 200
    metrics = httpx.get(example.url + "/metrics").text
    assert 'kfn_events_total{function="audit",outcome="ok",status="202"}' in metrics


def test_a_blocked_customer_is_dropped_for_good(example: Server) -> None:
    response = httpx.post(
        example.url + "/events/bill",
        headers=binary_headers("com.example.order.created", **{"content-type": "application/json"}),
        content=ORDER.replace(b'"ann"', b'"blocked"'),
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith(":dropped")


def test_other_shop_events_are_only_audited(example: Server) -> None:
    response = httpx.post(example.url + "/", headers=binary_headers("com.example.cart.updated"))
    assert response.status_code == 202
