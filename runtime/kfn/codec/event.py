"""Building SDK event objects: new events, and received ones the codec has checked."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.v1.event import CloudEvent


def trusted_event(attributes: dict[str, Any], data: Any) -> CloudEvent:
    """A CloudEvent from validated attributes, without the SDK constructor.

    The constructor fills in a fresh `id` and the current `time` when they are
    absent; for a received event that would invent values the sender never sent,
    and it would re-run checks the codec has made more strictly. It sets the
    object's state as the SDK's constructor does, which is why pyproject.toml pins
    the SDK's minor version and a test compares the two.
    """
    event: CloudEvent = CloudEvent.__new__(CloudEvent)
    event._attributes = attributes
    event._data = data
    return event


def new_id() -> str:
    """A random (version 4) UUID for an event kfn originates.

    From `random`, not `uuid.uuid4()`: an id must be unique, not secret, and
    `os.urandom` costs a system call for every reply. The module's generator is
    seeded from the system's randomness and reseeded in a forked child.
    """
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def new_event(
    type: str,
    source: str,
    data: Any = None,
    *,
    content_type: str | None = None,
    subject: str | None = None,
    id: str | None = None,
    time: datetime | None = None,
    extensions: dict[str, Any] | None = None,
) -> CloudEvent:
    """An event kfn originates (a reply, a ping, a test's): a fresh id and the current time."""
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": id or new_id(),
        "source": source,
        "type": type,
        "time": time or datetime.now(UTC),
    }
    if extensions:
        attributes.update(extensions)
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    if subject:
        attributes["subject"] = subject
    return trusted_event(attributes, data)


def model_data(value: Any) -> Any | None:
    """A pydantic model's data, ready for JSON; None when `value` is no model.

    Checked by its `model_dump` method, so pydantic is not imported for it.
    """
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else None
