"""The edge: every EventError becomes an HTTP status and an RFC 9457 problem+json body here.

The status codes follow the delivery contract: Knative retries 5xx, 404, 408, 409
and 429 and sends other 4xx to the dead-letter sink, so picking the status is
picking whether the event comes back.
"""

from __future__ import annotations

import json
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
    RetryRequested,
    Unauthenticated,
    Unavailable,
    UnknownFunction,
    UnsupportedMediaType,
    is_retried,
)

PROBLEM_JSON = b"application/problem+json"
PROBLEM_TYPE_BASE = "urn:kfn:problem:"

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
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_STATUS: tuple[tuple[type[EventError], int], ...] = (
    (UnsupportedMediaType, 415),
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
        self.detail = detail
        self.retry_after = retry_after
        self.extra = {key: value for key, value in extra.items() if value is not None}

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
        return json.dumps(document, default=str).encode()

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


__all__ = ["Problem", "is_retried", "not_found", "status_of"]
