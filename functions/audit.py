"""A sync function with a prefix filter and no reply, and a startup hook.

Sync functions run in a thread pool, so a blocking call here does not stall the
event loop that serves everything else.
"""

from __future__ import annotations

import logging

from runtime import CloudEvent, cloudevent, on_startup
from runtime.filters import prefix

log = logging.getLogger("functions.audit")
AUDIT_TRAIL: list[str] = []


@on_startup
def open_audit_trail() -> None:
    """Runs before /health/readiness turns 200 (a real app would connect to storage)."""
    AUDIT_TRAIL.clear()


@cloudevent(filters=[prefix(type="com.example.")])
def audit(event: CloudEvent) -> None:
    """Record every shop event; returning None means: acknowledge, no reply."""
    AUDIT_TRAIL.append(f"{event.get_type()} {event.get_id()}")
    log.info("audited %s %s", event.get_type(), event.get_id())
