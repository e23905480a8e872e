"""Structured and batched content modes with the JSON event format (HTTP-RULES C, D, G)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import DecodingError
from kfn.codec import strict_json
from kfn.codec.attributes import canonical_string, check_attributes
from kfn.codec.data import is_json
from kfn.codec.event import trusted_event


def _load(body: bytes, envelope: int) -> Any:
    try:
        return strict_json.loads(body, envelope)
    except ValueError:  # UnicodeDecodeError included
        raise DecodingError("invalid-json", "the body is not valid JSON") from None


def from_object(document: Any) -> CloudEvent:
    """One JSON-format event (a parsed JSON object) as an event."""
    if not isinstance(document, dict):
        raise DecodingError(
            "not-an-object",
            f"a JSON-format event must be a JSON object, not {type(document).__name__}",
        )
    has_data = "data" in document
    data = document.pop("data", None)
    data_base64 = document.pop("data_base64", None)
    if has_data and data_base64 is not None:
        raise DecodingError(
            "data-and-data-base64", "an event cannot carry both data and data_base64"
        )
    # JSON null means "not set" for every attribute (JSON format 2.2).
    attributes = {name: value for name, value in document.items() if value is not None}
    check_attributes(attributes)
    if data_base64 is not None:
        if not isinstance(data_base64, str):
            raise DecodingError("invalid-data-base64", "data_base64 must be a base64 string")
        try:
            data = base64.b64decode(data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise DecodingError("invalid-data-base64", "data_base64 is not valid base64") from None
    return trusted_event(attributes, data)


def decode(body: bytes) -> CloudEvent:
    return from_object(_load(body, envelope=1))


def decode_batch(body: bytes) -> list[CloudEvent]:
    """A JSON batch: every element must be a valid event, or the whole batch is rejected."""
    documents = _load(body, envelope=2)
    if not isinstance(documents, list):
        raise DecodingError("batch-not-an-array", "a batch must be a JSON array of events")
    events = []
    for index, document in enumerate(documents):
        try:
            events.append(from_object(document))
        except DecodingError as error:
            raise DecodingError(
                "invalid-batch-event", f"batch element {index}: {error.detail}"
            ) from None
    return events


def to_object(event: CloudEvent) -> dict[str, Any]:
    """One event as a JSON-format object: bytes as data_base64, other data as its type says."""
    document: dict[str, Any] = {
        name: canonical_string(value) if isinstance(value, datetime) else value
        for name, value in event.get_attributes().items()
        if value is not None
    }
    data = event.get_data()
    if isinstance(data, bytes | bytearray | memoryview):
        document["data_base64"] = base64.b64encode(data).decode("ascii")
    elif data is not None:
        document["data"] = data if is_json(document.get("datacontenttype")) else str(data)
    return document


def encode(event: CloudEvent) -> bytes:
    """The JSON format of one event; ValueError when it is not JSON (NaN, a cycle...).

    Values JSON has no type for are written as text (`str`), as binary mode does.
    """
    return strict_json.dumps(to_object(event), default=str)


def encode_batch(events: list[CloudEvent]) -> bytes:
    return b"[" + b",".join(encode(event) for event in events) + b"]"
