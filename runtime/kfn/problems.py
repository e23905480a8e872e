"""The edge: every EventError becomes an HTTP status and an RFC 9457 problem+json body here.

The status codes follow the delivery contract: Knative retries 5xx, 404, 408, 409
and 429 and sends other 4xx to the dead-letter sink, so picking the status is
picking whether the event comes back.
"""

from __future__ import annotations

import json
import math
from typing import Any

from kfn._errors import (
    BodyTooLarge,
    DecodingError,
    DuplicateInFlight,
    EventDropped,
    EventError,
    EventsNotAccepted,
    FilterMismatch,
    FunctionFailed,
    FunctionTimedOut,
    HopLimitReached,
    IdempotencyStoreUnavailable,
    InvalidData,
    NoMatchingFunction,
    ReplyNotEncodable,
    RetryRequested,
    Unauthenticated,
    Unavailable,
    UnknownFunction,
    UnsupportedCharset,
    UnsupportedMediaType,
    is_retried,
)

PROBLEM_JSON = b"application/problem+json"
PROBLEM_TYPE_BASE = "urn:kfn:problem:"
MAX_ECHO = 512
"""The most characters of any one text a problem (or a log line) echoes back."""
_MAX_ITEMS = 20
_MAX_NESTING = 6


def clip(value: Any, limit: int = MAX_ECHO, _depth: int = 0) -> Any:
    """`value` with every text cut to `limit` characters, lists to a few items, nesting bounded.

    A problem echoes what the sender sent (an attribute, pydantic's `input`); a 1 MB
    `ce-type` must not come back whole, in the body or in the log. A cut text keeps
    its head and tail and says how much was left out.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        keep = max(limit - 40, 2)
        return f"{value[: keep // 2 + keep % 2]}…[{len(value) - keep} characters cut]…{value[-(keep // 2) :]}"
    if isinstance(value, bytes | bytearray):
        return clip(bytes(value).decode("latin-1"), limit, _depth)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or infinity; the problem stays JSON
    if _depth >= _MAX_NESTING and isinstance(value, dict | list | tuple):
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        clipped = {str(clip(k, 64)): clip(v, limit, _depth + 1) for k, v in items[:_MAX_ITEMS]}
        if len(items) > _MAX_ITEMS:
            clipped["…"] = f"{len(items) - _MAX_ITEMS} more"
        return clipped
    if isinstance(value, list | tuple):
        head = [clip(v, limit, _depth + 1) for v in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            head.append(f"… {len(value) - _MAX_ITEMS} more")
        return head
    return value


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_STATUS: tuple[tuple[type[EventError], int], ...] = (
    (UnsupportedMediaType, 415),
    (UnsupportedCharset, 415),
    (DecodingError, 400),
    (BodyTooLarge, 413),
    (InvalidData, 422),
    (NoMatchingFunction, 404),
    (UnknownFunction, 404),
    (FilterMismatch, 400),
    (HopLimitReached, 400),
    (Unavailable, 503),
    (Unauthenticated, 401),
    (EventsNotAccepted, 403),
    (FunctionTimedOut, 504),
    (RetryRequested, 503),
    (DuplicateInFlight, 409),
    (IdempotencyStoreUnavailable, 503),
    (ReplyNotEncodable, 500),
    (FunctionFailed, 500),
)
"""Most specific first; an EventError of no other class is a 500."""


def status_of(error: EventError) -> int:
    """The HTTP status the sender gets for `error`."""
    if isinstance(error, EventDropped):
        return error.status
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


class Problem:
    """An HTTP problem response: status, `kind` (the problem type's slug), detail, members."""

    __slots__ = ("detail", "extra", "kind", "retry_after", "status")

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        self.status = status
        self.kind = kind
        self.detail = clip(detail)
        self.retry_after = retry_after
        self.extra = {key: clip(value) for key, value in extra.items() if value is not None}

    @classmethod
    def of(cls, error: EventError) -> Problem:
        """The problem the sender is told about `error`."""
        return cls(
            status_of(error),
            error.kind,
            error.detail,
            retry_after=error.retry_after,
            **error.context,
        )

    def body(self) -> bytes:
        document: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.kind,
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        document.update(self.extra)
        return json.dumps(document, default=str, allow_nan=False).encode()

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"content-type", PROBLEM_JSON)]
        if self.retry_after is not None:
            headers.append((b"retry-after", str(self.retry_after).encode()))
        return headers

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.kind!r}, {self.detail!r})"


def not_found(path: str) -> Problem:
    """No route for the path, whether or not the app has `@http` functions."""
    return Problem(404, "not-found", f"no route for {path}")


__all__ = ["MAX_ECHO", "Problem", "clip", "is_retried", "not_found", "status_of"]
