"""Go's text forms of CloudEvents attribute values, as Knative's broker and filters write them.

Knative compares attributes as Go renders them: a Timestamp as ``time.RFC3339Nano``
(fraction without trailing zeros, ``Z`` for UTC), anything else through ``%v``.
"""

from __future__ import annotations

import binascii
from datetime import datetime, timedelta

from kfn._timestamps import nanoseconds

_UTC_OFFSET = timedelta(0)


def rfc3339_nano(moment: datetime) -> str:
    """``moment`` as Go's ``time.RFC3339Nano`` writes it, in the moment's own zone.

    A naive datetime is taken to be UTC, as the CloudEvents SDKs mean it. A NanoTime
    (a `time` received with more than six fractional digits) shows its nanoseconds.
    """
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    fraction = nanoseconds(moment)
    if fraction:
        text += f".{fraction:09d}".rstrip("0")
    offset = moment.utcoffset()
    if offset is None or offset == _UTC_OFFSET:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def format_value(value: object) -> str:
    """Go's ``%v`` of an attribute value as the broker carries it (the value's string form)."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return rfc3339_nano(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return binascii.b2a_base64(value, newline=False).decode("ascii")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return str.__str__(value)
    return str(value)
