"""Google's functions-framework: one source file, one target per process (its CLI's model).

    functions-framework --source bench/apps/ff_functions.py --target hello
    functions-framework --source bench/apps/ff_functions.py --target ack \
        --signature-type cloudevent
    functions-framework --source bench/apps/ff_functions.py --target reply

A cloudevent-signature function cannot reply with an event (the framework answers
200 "OK"), so the replying function takes the HTTP signature and uses the SDK's
HTTP binding itself, as the framework's own samples do. This runs in its own
environment (cloudevents 1.x), so it cannot share code with the other apps.
"""

from __future__ import annotations

import os
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent, from_http, to_binary

ORDER_CREATED = "com.example.order.created"


@functions_framework.http
def hello(request: Any) -> dict[str, str]:
    return {"greeting": "hello world", "service": os.environ.get("K_SERVICE", "local")}


@functions_framework.cloud_event
def ack(event: CloudEvent) -> None:
    _ = event.data


@functions_framework.http
def reply(request: Any) -> tuple[bytes, int, dict[str, str]]:
    event = from_http(request.headers, request.get_data())
    if event["type"] != ORDER_CREATED:
        return b"", 202, {}
    attributes = {
        "type": "com.example.invoice.created",
        "source": "/bench/functions-framework",
        "datacontenttype": "application/json",
    }
    headers, body = to_binary(CloudEvent(attributes, invoice(event.data)))
    return body, 200, headers


def invoice(order: dict[str, Any]) -> dict[str, Any]:
    """shop.invoice, repeated: this file runs with cloudevents 1.x in its own environment."""
    total = round(sum(line["quantity"] * line["unit_price"] for line in order["lines"]), 2)
    return {
        "invoice_id": f"inv-{order['order_id']}",
        "order_id": order["order_id"],
        "customer": order["customer"],
        "total": total,
    }
