"""CloudEvents over HTTP: content-mode detection, decoding requests, encoding replies.

The cloudevents SDK (2.x core API) supplies the event type and the JSON format; this
package adds what the HTTP binding requires and the SDK does not enforce.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import DecodingError, ReplyNotEncodable, UnsupportedMediaType
from kfn.codec import binary, structured
from kfn.codec.attributes import check_outgoing

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
    """Reply events in the content mode of the request.

    ReplyNotEncodable (with `index`, the reply's place in `replies`) when one breaks
    a rule of the wire; its detail says which rule, never an exception's message.
    """
    for index, reply in enumerate(replies):
        try:
            check_outgoing(reply.get_attributes())
        except ReplyNotEncodable as error:
            error.context["index"] = index
            raise
    try:
        return _encode(mode, replies)
    except Exception as error:
        raise ReplyNotEncodable(
            f"the reply could not be encoded: {_why(error)}", index=_culprit(mode, replies)
        ) from error


def _why(error: Exception) -> str:
    """What an encoder's exception says about the reply, in words of our own."""
    if isinstance(error, DecodingError):  # a charset the host does not support
        return "its content type names a charset the host does not support"
    if isinstance(error, UnicodeError):
        return "it holds text its charset cannot encode (a lone surrogate, or a character outside the charset)"
    if isinstance(error, RecursionError):
        return "its data nests too deeply to be written"
    if isinstance(error, ValueError | TypeError):
        return "its data is not JSON (NaN, an infinity, a circular reference, or a key that is not a string)"
    return f"writing it raised {type(error).__name__}"


def _culprit(mode: Mode, replies: list[CloudEvent]) -> int | None:
    """Which reply fails to encode alone (looked for only once encoding failed)."""
    if len(replies) == 1:
        return 0
    for index, reply in enumerate(replies):
        try:
            _encode(Mode.STRUCTURED if mode is Mode.BATCH else mode, [reply])
        except Exception:
            return index
    return None


def _encode(mode: Mode, replies: list[CloudEvent]) -> tuple[list[tuple[bytes, bytes]], bytes]:
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
