"""The last step of the order flow: a reply that closes the loop.

A dispatched shipment becomes a customer notification, returned as the reply
`com.example.customer.notified`. Behind a Broker the reply goes back into it, where
the audit function's prefix filter picks it up, as every other step of the flow.
"""

from __future__ import annotations

from functions.models import Notification, Shipment
from kfn import cloudevent


@cloudevent(type="com.example.shipment.dispatched", reply_type="com.example.customer.notified")
def notify(shipment: Shipment) -> Notification:
    """Tell the customer (a real app would send mail here, so it is a sync function)."""
    return Notification(
        customer=shipment.customer,
        message=f"order {shipment.order_id} is on its way with {shipment.carrier}",
    )
