"""A typed event function that replies with another event.

An order comes in as `com.example.order.created`; the invoice goes back as the
reply, `com.example.invoice.created`, which a Broker delivers to whoever listens.
"""

from __future__ import annotations

from functions.models import Invoice, Order
from kfn import Drop, cloudevent


@cloudevent(type="com.example.order.created", reply_type="com.example.invoice.created")
async def bill(order: Order) -> Invoice:
    """Bill an order; an order for a blocked customer is dropped (not retried)."""
    if order.customer == "blocked":
        raise Drop(f"customer {order.customer!r} may not order")
    total = round(sum(line.quantity * line.unit_price for line in order.lines), 2)
    return Invoice(
        invoice_id=f"inv-{order.order_id}",
        order_id=order.order_id,
        customer=order.customer,
        total=total,
    )
