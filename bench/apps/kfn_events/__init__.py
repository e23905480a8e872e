"""kfn's event-only app: @cloudevent functions only, so FastAPI is never imported.

Used for cold start and idle memory against the floor and func-python's CloudEvent
flavour, and (as "kfn-async") in the event workloads to separate the host's own cost
from what the example app adds (pydantic models, logging). `ack_sync` and `bill_sync`
are the same two functions as plain `def` ("kfn-sync"): what the thread hand-off of a
sync function costs, against the same function on the event loop.

    KFN_FUNCTIONS=kfn_events kfn run   # from bench/apps
"""

from __future__ import annotations

from typing import Any

from shop import invoice

from kfn import CloudEvent, cloudevent

ORDER_CREATED = "com.example.order.created"


@cloudevent(type="com.example.order.shipped")
async def ack(event: CloudEvent) -> None:
    """Acknowledge: None means 202 with no reply."""


@cloudevent(type=ORDER_CREATED, reply_type="com.example.invoice.created")
async def bill(event: CloudEvent) -> dict[str, Any]:
    """Reply with the invoice as data; kfn wraps it in the reply event."""
    return invoice(event.get_data())  # type: ignore[arg-type]


@cloudevent(type="com.example.order.shipped")
def ack_sync(event: CloudEvent) -> None:
    """`ack` as a sync function: kfn runs it off the event loop."""


@cloudevent(type=ORDER_CREATED, reply_type="com.example.invoice.created")
def bill_sync(event: CloudEvent) -> dict[str, Any]:
    """`bill` as a sync function."""
    return invoice(event.get_data())  # type: ignore[arg-type]
