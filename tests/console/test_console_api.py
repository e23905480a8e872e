"""The console's JSON, and its absence in production."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.conftest import Server
from tests.helpers import binary_headers

TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_the_console_is_served_under_kfn_run(console_shop: Server) -> None:
    page = httpx.get(console_shop.url + "/_kfn/")
    assert page.status_code == 200 and "kfn dev console" in page.text
    assert httpx.get(console_shop.url + "/_kfn/static/console.js").status_code == 200
    line = next(json.loads(x) for x in console_shop.logs().splitlines() if '"dev console"' in x)
    assert line["url"] == f"http://127.0.0.1:{console_shop.port}/_kfn/"


def test_a_trace_is_a_tree_of_what_caused_what(console_shop: Server) -> None:
    order = {
        "order_id": "o-5",
        "customer": "bo",
        "lines": [{"sku": "a", "quantity": 1, "unit_price": 2}],
    }
    headers = {
        **binary_headers(
            "com.example.order.created", "o-5", **{"content-type": "application/json"}
        ),
        "traceparent": f"00-{TRACE}-b7ad6b7169203331-01",
    }
    assert (
        httpx.post(
            console_shop.url + "/events/bill", headers=headers, content=json.dumps(order)
        ).status_code
        == 200
    )
    for _ in range(100):
        roots = httpx.get(f"{console_shop.url}/_kfn/api/traces/{TRACE}").json()["roots"]
        flat = json.dumps(roots)
        if flat.count('"function": "audit"') >= 3:
            break
    (bill,) = roots
    assert bill["function"] == "bill" and bill["parent_id"] == "b7ad6b7169203331"
    assert {c["function"] for c in bill["children"]} == {"ship", "audit"}
    (ship,) = [c for c in bill["children"] if c["function"] == "ship"]
    assert {c["function"] for c in ship["children"]} == {"notify", "audit"}


def test_firing_an_unknown_schedule_is_a_problem(console_shop: Server) -> None:
    response = httpx.post(console_shop.url + "/_kfn/api/schedules/bill/fire")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_console_is_absent_on_knative(kfn_server: Callable[..., Server]) -> None:
    server = kfn_server("functions", {"K_SERVICE": "shop"})
    response = httpx.get(server.url + "/_kfn/")
    assert response.status_code == 404
    assert "dev console" not in server.logs()
