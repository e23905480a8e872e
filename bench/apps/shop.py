"""The shop's one piece of business logic, shared by the anchor apps: an order's invoice.

Every system's replying function computes the same invoice from the same order, so
the reply workload compares hosts, not business logic. (functions-framework runs in
its own environment with cloudevents 1.x and carries its own copy.)
"""

from __future__ import annotations

from typing import Any

from cloudevents.core.v1.event import CloudEvent

ORDER_CREATED = "com.example.order.created"
INVOICE_CREATED = "com.example.invoice.created"


def invoice(order: dict[str, Any]) -> dict[str, Any]:
    total = round(sum(line["quantity"] * line["unit_price"] for line in order["lines"]), 2)
    return {
        "invoice_id": f"inv-{order['order_id']}",
        "order_id": order["order_id"],
        "customer": order["customer"],
        "total": total,
    }


def invoice_for(order: CloudEvent, source: str) -> CloudEvent:
    """The reply event to an order event."""
    attributes = {"type": INVOICE_CREATED, "source": source, "datacontenttype": "application/json"}
    return CloudEvent(attributes, invoice(order.get_data()))  # type: ignore[arg-type]
