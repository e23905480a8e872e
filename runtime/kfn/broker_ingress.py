"""An event as a Trigger's filter sees it: after the Broker's ingress and the channel.

Eventing's broker (pkg/broker/ingress, pkg/broker/filter) changes an event on the
way: the ingress sets `knativearrivaltime` and counts the `knativebrokerttl` hop
limit down (255 when absent or unreadable, dropped at 0); the channel carries the
event in binary mode, so every extension arrives as a string and `time` as UTC RFC
3339 with nanoseconds; the filter removes the TTL before it filters and delivers.
The local broker and `POST /` under `kfn run` apply the same, so a filter on these
attributes routes as on the cluster.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import HopLimitReached
from kfn.codec.event import trusted_event
from kfn.goformat import format_value, rfc3339_nano

TTL_ATTRIBUTE = "knativebrokerttl"
ARRIVAL_ATTRIBUTE = "knativearrivaltime"
DEFAULT_TTL = 255
"""The hop count the ingress gives an event that carries none (eventing pkg/broker/ttl.go)."""

CONTEXT_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time"}
)

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# What Go's strconv.ParseFloat reads in decimal (sdk-go's ParseInteger reads a TTL so).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def read_ttl(raw: object) -> int | None:
    """The TTL an event carries, as sdk-go's `types.ToInteger` reads it; None if it cannot.

    An Integer as it is; a String as a decimal number truncated toward zero (so "2.9"
    is 2), within the 32-bit range.
    """
    if type(raw) is int:
        return raw if _INT32_MIN <= raw <= _INT32_MAX else None
    if not isinstance(raw, str) or _DECIMAL.fullmatch(raw) is None:
        return None
    number = float(raw)
    if not _INT32_MIN <= number <= _INT32_MAX:
        return None
    return int(number)


def next_ttl(carried: int | None) -> int:
    """The TTL the ingress gives an event carrying `carried`; 0 means it drops the event."""
    if carried is None:
        return DEFAULT_TTL
    ttl = carried - 1 if carried > _INT32_MIN else _INT32_MAX  # int32: MinInt32 - 1 wraps
    return max(ttl, 0)


def arrival_time() -> str:
    """`knativearrivaltime` for an event arriving now."""
    return rfc3339_nano(datetime.now(UTC))


def filtered_attributes(attributes: dict[str, Any], arrived: str) -> dict[str, Any]:
    """The attributes a Trigger filter and its subscriber see for these received ones."""
    seen: dict[str, Any] = {}
    for name, value in attributes.items():
        if name == TTL_ATTRIBUTE or value is None:
            continue
        if name == "time" and isinstance(value, datetime):  # a NanoTime keeps its nanoseconds
            value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
        elif name not in CONTEXT_ATTRIBUTES:
            value = format_value(value)
        seen[name] = value
    seen[ARRIVAL_ATTRIBUTE] = arrived
    return seen


def as_filtered(event: CloudEvent, arrived: str) -> CloudEvent:
    """A copy of `event` as a Trigger filters and delivers it (data copied too)."""
    attributes = filtered_attributes(event.get_attributes(), arrived)
    return trusted_event(attributes, copy.deepcopy(event.get_data()))


def received(event: CloudEvent) -> CloudEvent:
    """An event sent to the Broker, as its Triggers filter and deliver it.

    Raises HopLimitReached when its TTL is spent, as the ingress refuses it.
    """
    carried = read_ttl(event.get_attributes().get(TTL_ATTRIBUTE))
    if next_ttl(carried) <= 0:
        raise HopLimitReached(
            f"the event's {TTL_ATTRIBUTE} is spent; a Broker's ingress drops it",
            event_id=event.get_id(),
        )
    return as_filtered(event, arrival_time())
