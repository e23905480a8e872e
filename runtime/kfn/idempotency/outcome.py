"""A finished delivery's outcome as the store keeps it: the status, the reply or the problem.

A reply is kept as its attributes and data, so a duplicate gets the same event back,
id and all; the record was written by this code, so reading it skips the checks a
received event gets.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import EventDropped, EventError
from kfn.codec.attributes import canonical_string, parse_time
from kfn.codec.event import trusted_event
from kfn.problems import status_of

NO_REPLY = b'{"status":202}'


def encode(reply: CloudEvent | None) -> bytes:
    """A handled event: 200 with its reply, or 202."""
    if reply is None:
        return NO_REPLY
    attributes = {
        name: canonical_string(value) if isinstance(value, datetime) else value
        for name, value in reply.get_attributes().items()
    }
    document: dict[str, Any] = {"status": 200, "attributes": attributes}
    data = reply.get_data()
    if isinstance(data, bytes | bytearray):
        document["data_base64"] = base64.b64encode(data).decode("ascii")
    elif data is not None:
        document["data"] = data
    return json.dumps(document, separators=(",", ":")).encode()


def encode_error(error: EventError) -> bytes:
    """A dropped event: its non-retried 4xx and problem, answered again to a duplicate."""
    document = {
        "status": status_of(error),
        "kind": error.kind,
        "detail": error.detail,
        "extra": error.context,
    }
    return json.dumps(document, default=str).encode()


def decode(raw: bytes) -> CloudEvent | None:
    """The recorded reply (None for a 202); raises EventDropped for a recorded drop."""
    document: dict[str, Any] = json.loads(raw)
    status = document["status"]
    if status == 202:
        return None
    if status == 200:
        attributes: dict[str, Any] = document["attributes"]
        if isinstance(attributes.get("time"), str):
            attributes["time"] = parse_time(attributes["time"])
        data = document.get("data")
        if "data_base64" in document:
            data = base64.b64decode(document["data_base64"])
        return trusted_event(attributes, data)
    raise EventDropped(
        document["detail"], status=status, kind=document["kind"], **document.get("extra", {})
    )
