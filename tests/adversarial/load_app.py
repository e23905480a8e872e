"""Functions the overload tests load: each says on stdout when it finished, for the ledger.

`finished <id>` is printed (and flushed) just before a function returns, so a test
can check that no event was acknowledged before its function finished.
"""

from __future__ import annotations

import asyncio
import time

from kfn import CloudEvent, cloudevent, on_shutdown


def _finished(event: CloudEvent) -> None:
    print(f"finished {event.get_id()}", flush=True)


@cloudevent(type="load.work")
async def work(event: CloudEvent) -> None:
    """Sleeps as many seconds as the data says (0.01 when none)."""
    await asyncio.sleep(float(str(event.get_data() or 0.01)))
    _finished(event)


@cloudevent(type="load.block")
def block(event: CloudEvent) -> None:
    """A sync function that holds its thread as many seconds as the data says: no cancelling it."""
    time.sleep(float(str(event.get_data() or 0.01)))
    _finished(event)


@on_shutdown
async def goodbye() -> None:
    print("shutdown hook ran", flush=True)
