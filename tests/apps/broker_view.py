"""A function whose filters read what the Broker changes: the time zone and extension types.

IS_BOOL is true for an Integer and false for the text "1": only the Broker's view matches.
"""

from __future__ import annotations

from typing import Any

from kfn import CloudEvent, cloudevent
from kfn.filters import cesql, prefix


@cloudevent(
    reply_type="view.seen",
    filters=[prefix(time="2020-01-01T10:"), cesql("IS_INT(n) AND NOT IS_BOOL(n)")],
)
def seen(event: CloudEvent) -> dict[str, Any]:
    """Replies with the attributes it received, as text."""
    return {name: str(value) for name, value in event.get_attributes().items()}
