"""The example app in functions/, driven from outside as the README shows it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter

ORDER = b'{"order_id": "o-1", "customer": "ann", "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}]}'


@pytest.fixture(scope="module")
def example() -> Iterator[Server]:
    server = start_server("functions")
    yield server
    server.stop()


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
    def ok(function: str) -> float:
        metrics = httpx.get(example.url + "/metrics").text
        return counter(metrics, "kfn_events_total", function=function, outcome="ok")

    billed, audited = ok("bill"), ok("audit")
    response = httpx.post(
        example.url + "/",
        headers=binary_headers("com.example.order.created", **{"content-type": "application/json"}),
        content=ORDER,
    )
    assert response.status_code == 200
    assert ok("bill") == billed + 1
    # The order itself is audited before the answer; the invoice reply, later, through
    # the local broker.
    assert ok("audit") >= audited + 1


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
