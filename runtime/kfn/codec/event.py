"""Building SDK event objects from attributes the codec has already checked."""

from __future__ import annotations

from typing import Any

from cloudevents.core.v1.event import CloudEvent


def trusted_event(attributes: dict[str, Any], data: Any) -> CloudEvent:
    """A CloudEvent from validated attributes, without the SDK constructor.

    The constructor fills in a fresh `id` and the current `time` when they are
    absent; for a received event that would invent values the sender never sent,
    and it would re-run checks the codec has made more strictly.
    """
    event: CloudEvent = CloudEvent.__new__(CloudEvent)
    event._attributes = attributes
    event._data = data
    return event
