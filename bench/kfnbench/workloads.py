"""The requests every system is measured with: the same bytes on the wire for all of them.

An order of about 200 bytes of JSON is the data of every event. The acknowledged
event's type matches kfn's example `audit` function; the order that gets a reply
matches `bill`, which answers with an invoice event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ORDER = {
    "order_id": "o-1001",
    "customer": "c-42",
    "lines": [
        {"sku": "beans-1kg", "quantity": 2, "unit_price": 12.5},
        {"sku": "frother", "quantity": 1, "unit_price": 39.9},
        {"sku": "filters-100", "quantity": 3, "unit_price": 4.2},
    ],
}
ORDER_JSON = json.dumps(ORDER, separators=(",", ":"))
ACK_TYPE = "com.example.order.shipped"
ORDER_CREATED = "com.example.order.created"
INVOICE_CREATED = "com.example.invoice.created"
SOURCE = "/bench/loadgen"
TIME = "2026-01-15T10:20:30.123Z"


@dataclass(frozen=True)
class Request:
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


@dataclass(frozen=True)
class Workload:
    """One kind of request; `reply` says a reply event must come back (checked once per run)."""

    name: str
    title: str
    request: Request
    reply: bool = False
    event: bool = True


def _binary(event_type: str, data: str = ORDER_JSON) -> Request:
    return Request(
        "POST",
        (
            ("Content-Type", "application/json"),
            ("ce-specversion", "1.0"),
            ("ce-id", "b6c1a1f2-7d0e-4a55-9b7e-1f0c2d3e4f50"),
            ("ce-source", SOURCE),
            ("ce-type", event_type),
            ("ce-time", TIME),
        ),
        data.encode(),
    )


def padded_order(size: int) -> str:
    """The order as JSON of exactly `size` bytes (at least the order's own), padded by a note.

    Still a valid order, so a function that validates it does the same work plus
    reading the larger body.
    """
    base = len(json.dumps({**ORDER, "note": ""}, separators=(",", ":")))
    return json.dumps({**ORDER, "note": "x" * max(0, size - base)}, separators=(",", ":"))


def sized_event(size: int, event_type: str = ACK_TYPE) -> Request:
    """A binary-mode event whose data is `size` bytes of JSON (the payload curve)."""
    return _binary(event_type, padded_order(size))


def batch(count: int, event_type: str = ACK_TYPE) -> Request:
    """`count` events in one batch-mode request, each with its own id (the batch curve)."""
    events = [
        {
            "specversion": "1.0",
            "id": f"b6c1a1f2-{index:04d}",
            "source": SOURCE,
            "type": event_type,
            "time": TIME,
            "datacontenttype": "application/json",
            "data": ORDER,
        }
        for index in range(count)
    ]
    body = json.dumps(events, separators=(",", ":")).encode()
    return Request("POST", (("Content-Type", "application/cloudevents-batch+json"),), body)


def _structured(event_type: str) -> Request:
    document = {
        "specversion": "1.0",
        "id": "b6c1a1f2-7d0e-4a55-9b7e-1f0c2d3e4f50",
        "source": SOURCE,
        "type": event_type,
        "time": TIME,
        "datacontenttype": "application/json",
        "data": ORDER,
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    return Request("POST", (("Content-Type", "application/cloudevents+json"),), body)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "http-get",
            "HTTP function, GET, small JSON",
            Request("GET", ()),
            event=False,
        ),
        Workload("event-binary", "CloudEvent, binary mode, no reply", _binary(ACK_TYPE)),
        Workload(
            "event-structured", "CloudEvent, structured mode, no reply", _structured(ACK_TYPE)
        ),
        Workload(
            "event-reply", "CloudEvent, binary mode, reply event", _binary(ORDER_CREATED), True
        ),
    )
}
