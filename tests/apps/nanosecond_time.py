"""Functions whose filters read `time` to the nanosecond, each under its own event type.

The events are sent with `SENT_TIME`; a Trigger's filter sees it as `SEEN_TIME` (UTC,
nine digits). Each function replies with the event it received, so its `time` shows.
"""

from __future__ import annotations

from kfn import CloudEvent, cloudevent
from kfn.filters import Filter, cesql, exact, prefix, suffix

SENT_TIME = "2026-01-02T03:04:05.123456789-05:30"
SEEN_TIME = "2026-01-02T08:34:05.123456789Z"

FILTERS: dict[str, Filter] = {
    "time.exact": exact(time=SEEN_TIME),
    "time.suffix": suffix(time="05.123456789Z"),
    "time.cesql": cesql(f"time = '{SEEN_TIME}'"),
    "time.cesql-like": cesql("time LIKE '%.123456789Z'"),
    "time.microseconds": exact(time="2026-01-02T08:34:05.123456Z"),
    "time.sent-form": prefix(time="2026-01-02T03:04"),
}
"""Event type -> the filter of the function for it; the last two match no broker view."""


def _echo(event: CloudEvent) -> CloudEvent:
    return event


for _type, _filter in FILTERS.items():
    cloudevent(type=_type, filters=[_filter], name=_type.replace(".", "-"))(_echo)
