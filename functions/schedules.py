"""A scheduled function: a PingSource on Knative, a local timer under `kfn run`.

Every night at 03:00 Berlin time the shop expires abandoned carts and announces it
with an event, which the audit function (a prefix filter on `com.example.`) records.
It runs in its own Knative Service, "maintenance" (`service=`), from the same image:
grouping keeps a slow nightly job from sharing instances with the order flow.
`emits=` declares the event it sends, so its Service gets a SinkBinding (K_SINK).
"""

from __future__ import annotations

import logging

from kfn import CloudEvent, emit, schedule

log = logging.getLogger("functions.schedules")


@schedule(
    "0 3 * * *",
    timezone="Europe/Berlin",
    data={"task": "expire-carts"},
    emits=["com.example.carts.expired"],
    service="maintenance",
)
async def nightly_sweep(event: CloudEvent) -> None:
    """Expire carts (a real app would ask its storage), then say so on the broker."""
    data = event.get_data()
    task = data.get("task") if isinstance(data, dict) else None
    log.info("nightly sweep: %s", task)
    await emit(
        CloudEvent(
            {"type": "com.example.carts.expired", "source": "/shop/maintenance"},
            {"task": task, "expired": 0},
        )
    )
