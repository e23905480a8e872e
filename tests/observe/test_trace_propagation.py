"""A reply and an emitted event carry the caller's trace, over a real socket."""

from __future__ import annotations

import json

import httpx

from kfn import tracing
from tests.conftest import Server
from tests.events.conftest import SinkServer
from tests.helpers import STRUCTURED, binary_headers, structured_body

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE}-00f067aa0ba902b7-01"
ORDER = {
    "order_id": "o-1",
    "customer": "ann",
    "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}],
}
INVOICE = {"invoice_id": "inv-o-1", "order_id": "o-1", "customer": "ann", "total": 6.5}


def _child_of_caller(traceparent: str | None) -> tracing.TraceParent:
    parent = tracing.parse_traceparent(traceparent)
    assert parent is not None, traceparent
    assert parent.trace_id == TRACE
    assert parent.span_id != CALLER.split("-")[2]
    return parent


def test_a_binary_reply_keeps_the_trace_id_with_a_new_span_id(shop: Server) -> None:
    headers = {
        **binary_headers(
            "com.example.order.created", "o-1", **{"content-type": "application/json"}
        ),
        "traceparent": CALLER,
        "tracestate": "vendor=abc",
    }
    response = httpx.post(shop.url + "/events/bill", headers=headers, content=json.dumps(ORDER))
    assert response.status_code == 200
    header = _child_of_caller(response.headers["traceparent"])
    assert response.headers["ce-traceparent"] == response.headers["traceparent"]
    assert response.headers["tracestate"] == response.headers["ce-tracestate"] == "vendor=abc"
    assert header.sampled


def test_tracestate_sent_in_two_headers_is_one_list_in_the_reply(shop: Server) -> None:
    """W3C Trace Context: several `tracestate` headers are one list, joined in their order.

    The trace headers come first and the event's after them (headers have no order
    that matters): the host must pick them by name wherever they are.
    """
    headers = [
        ("traceparent", CALLER),
        ("tracestate", "vendor=abc"),
        *binary_headers(
            "com.example.order.created", "o-1", **{"content-type": "application/json"}
        ).items(),
        ("tracestate", "other=def"),
    ]
    response = httpx.post(shop.url + "/events/bill", headers=headers, content=json.dumps(ORDER))
    assert response.status_code == 200
    _child_of_caller(response.headers["traceparent"])
    assert response.headers["ce-tracestate"] == "vendor=abc,other=def"


def test_a_structured_reply_carries_the_trace_from_the_event_extension(shop: Server) -> None:
    body = structured_body(
        "com.example.order.created",
        "o-2",
        data=ORDER,
        traceparent=CALLER,
        datacontenttype="application/json",
    )
    response = httpx.post(shop.url + "/events/bill", headers=STRUCTURED, content=body)
    assert response.status_code == 200
    reply = response.json()
    assert _child_of_caller(reply["traceparent"]) == _child_of_caller(
        response.headers["traceparent"]
    )


def test_an_emitted_event_carries_the_trace_of_the_invocation_that_emitted_it(
    shop: Server, sink: SinkServer
) -> None:
    headers = {
        **binary_headers(
            "com.example.invoice.created", "i-1", **{"content-type": "application/json"}
        ),
        "traceparent": CALLER,
    }
    sink.requests.clear()
    response = httpx.post(shop.url + "/events/ship", headers=headers, content=json.dumps(INVOICE))
    assert response.status_code == 202
    (emitted,) = sink.requests
    assert emitted.headers["ce-type"] == "com.example.shipment.dispatched"
    assert emitted.headers["traceparent"] == emitted.headers["ce-traceparent"]
    _child_of_caller(emitted.headers["traceparent"])


def test_log_lines_of_a_failed_delivery_carry_its_trace_and_event(shop: Server) -> None:
    headers = {
        **binary_headers(
            "com.example.order.created", "o-bad", **{"content-type": "application/json"}
        ),
        "traceparent": CALLER,
    }
    bad = {**ORDER, "lines": []}
    response = httpx.post(shop.url + "/events/bill", headers=headers, content=json.dumps(bad))
    assert response.status_code == 422
    lines = [json.loads(line) for line in shop.logs().splitlines() if line.startswith("{")]
    (failure,) = [line for line in lines if line.get("event_id") == "o-bad"]
    assert failure["trace_id"] == TRACE and failure["function"] == "bill"
    assert len(failure["span_id"]) == 16 and failure["status"] == 422
