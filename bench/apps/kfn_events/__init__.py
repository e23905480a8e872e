"""kfn's event-only app: @cloudevent functions only, so FastAPI is never imported.

Used for cold start and idle memory against the floor and func-python's CloudEvent
flavour, and (as "kfn-async") in the event workloads to separate the host's own cost
from what the example app adds (a sync function in a thread pool, pydantic models).

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
