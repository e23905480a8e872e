"""CloudEvents over HTTP: content-mode detection, decoding requests, encoding replies.

The cloudevents SDK (2.x core API) supplies the event type and the JSON format; this
package adds what the HTTP binding requires and the SDK does not enforce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import UnsupportedMediaType
from kfn.codec import binary, structured

STRUCTURED_TYPE = b"application/cloudevents+json"
BATCH_TYPE = b"application/cloudevents-batch+json"


class Mode(Enum):
    BINARY = "binary"
    STRUCTURED = "structured"
    BATCH = "batch"


def detect_mode(content_type: bytes | None) -> Mode:
    """The content mode from Content-Type, case-insensitively (HTTP-RULES A1-A3)."""
    if not content_type:
        return Mode.BINARY
    kind = content_type.split(b";", 1)[0].strip().lower()
    if kind.startswith(b"application/cloudevents-batch"):
        if kind != BATCH_TYPE:
            raise UnsupportedMediaType(content_type.decode("latin-1"))
        return Mode.BATCH
    if kind.startswith(b"application/cloudevents"):
        if kind != STRUCTURED_TYPE:
            raise UnsupportedMediaType(content_type.decode("latin-1"))
        return Mode.STRUCTURED
    return Mode.BINARY


def decode(mode: Mode, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> list[CloudEvent]:
    """The events of a request (one, or a batch); raises DecodingError when invalid."""
    if mode is Mode.BINARY:
        return [binary.decode(headers, body)]
    if mode is Mode.STRUCTURED:
        return [structured.decode(body)]
    return structured.decode_batch(body)


def encode(mode: Mode, replies: list[CloudEvent]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Reply events in the content mode of the request."""
    if mode is Mode.BATCH:
        return [(b"content-type", BATCH_TYPE)], structured.encode_batch(replies)
    (reply,) = replies
    if mode is Mode.STRUCTURED:
        return [(b"content-type", STRUCTURED_TYPE)], structured.encode(reply)
    return binary.encode(reply)


def to_http(event: CloudEvent, mode: Mode = Mode.BINARY) -> tuple[list[tuple[str, str]], bytes]:
    """One event as the headers (text) and body of a request, for an HTTP client."""
    if mode is Mode.BATCH:
        raise ValueError("to_http sends one event; batch mode is for replies to a batch")
    headers, body = encode(mode, [event])
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers], body


def carries_event(headers: Mapping[str, str]) -> bool:
    """Whether an HTTP message holds a CloudEvent: a ce-specversion header or a CE media type."""
    content_type = headers.get("content-type", "")
    return "ce-specversion" in headers or content_type.lower().startswith("application/cloudevents")


def from_http(headers: Iterable[tuple[str, str]], body: bytes) -> list[CloudEvent]:
    """The events of an HTTP message given as text headers (an httpx request or response)."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    content_type = next((v for k, v in raw if k == b"content-type"), None)
    return decode(detect_mode(content_type), raw, body)


__all__ = [
    "CloudEvent",
    "Mode",
    "carries_event",
    "decode",
    "detect_mode",
    "encode",
    "from_http",
    "to_http",
]
