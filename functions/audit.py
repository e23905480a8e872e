"""An audit trail of every shop event, and a startup hook.

Nothing here blocks (the trail is in memory), so the function is `async def` and
runs on the event loop; a function that does blocking I/O is a plain `def`
instead, like `archive` in archive.py.
"""

from __future__ import annotations

import logging
from collections import deque

from kfn import CloudEvent, cloudevent, on_startup
from kfn.filters import prefix

log = logging.getLogger("functions.audit")
AUDIT_TRAIL: deque[str] = deque(maxlen=1000)  # the latest entries; a real app would store them


@on_startup
def open_audit_trail() -> None:
    """Runs before /health/readiness turns 200 (a real app would connect to storage)."""
    AUDIT_TRAIL.clear()


@cloudevent(filters=[prefix(type="com.example.")])
async def audit(event: CloudEvent) -> None:
    """Record every shop event; returning None means: acknowledge, no reply."""
    AUDIT_TRAIL.append(f"{event.get_type()} {event.get_id()}")
    log.info("audited %s %s", event.get_type(), event.get_id())
