"""A function that emits: it sends a new event to the Broker instead of replying.

When an invoice is created the order ships, and `com.example.shipment.dispatched`
goes to the Broker through `emit` (K_SINK on Knative, the local broker under
`kfn run`). A reply is one event back to whoever delivered the invoice; an emit can
happen any number of times, at any point in the function. `emits=` declares the
type, so the generated manifests give this function's Service a SinkBinding.

Shipping is an effect that must happen once per order, however often the invoice
is delivered (Knative delivers at least once, and an invoice may be sent again):
`idempotent=True` keyed by the order id runs it once per order, across replicas.
"""

from __future__ import annotations

from functions.models import Invoice, Shipment
from kfn import CloudEvent, cloudevent, emit

SHIPMENT_DISPATCHED = "com.example.shipment.dispatched"


@cloudevent(
    type="com.example.invoice.created",
    emits=[SHIPMENT_DISPATCHED],
    idempotent=True,
    idempotency_key=lambda event: str(event.get_data()["order_id"]),
)
async def ship(invoice: Invoice) -> None:
    """Hand the order to a carrier, then announce it; an emit that fails raises (and is retried)."""
    shipment = Shipment(
        shipment_id=f"ship-{invoice.order_id}",
        order_id=invoice.order_id,
        customer=invoice.customer,
        carrier="parcel-express",
    )
    await emit(
        CloudEvent(
            {"type": SHIPMENT_DISPATCHED, "source": "/shop/shipping", "subject": invoice.order_id},
            shipment.model_dump(mode="json"),
        )
    )
