"""Structured and batched content modes with the JSON event format (HTTP-RULES C, D, G)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import DecodingError
from kfn.codec.attributes import check_attributes
from kfn.codec.event import trusted_event


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
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
    return from_object(_load(body))


def decode_batch(body: bytes) -> list[CloudEvent]:
    """A JSON batch: every element must be a valid event, or the whole batch is rejected."""
    documents = _load(body)
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


def encode(event: CloudEvent) -> bytes:
    """The JSON format of one event, written by the SDK (imported on the first reply)."""
    return bytes(_sdk_format().write(event))


@functools.cache
def _sdk_format() -> Any:
    from cloudevents.core.formats.json import JSONFormat

    return JSONFormat()


def encode_batch(events: list[CloudEvent]) -> bytes:
    return b"[" + b",".join(encode(event) for event in events) + b"]"
