"""Every failure the host answers, as one exception type turned into a response in one place.

The status codes follow the delivery contract: Knative retries 5xx, 404, 408, 409
and 429 and sends other 4xx to the dead-letter sink, so picking the status is
picking whether the event comes back.
"""

from __future__ import annotations

import json
from typing import Any

PROBLEM_JSON = b"application/problem+json"
PROBLEM_TYPE_BASE = "urn:kfn:problem:"

_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

RETRIED_BY_KNATIVE = frozenset({404, 408, 409, 429})


def is_retried(status: int) -> bool:
    """Whether a Knative dispatcher retries a delivery answered with this status."""
    return status >= 500 or status in RETRIED_BY_KNATIVE


class Problem(Exception):
    """A failure with its HTTP status and an RFC 9457 problem body.

    `kind` is the short slug of the broken rule (it becomes the problem `type`),
    `detail` is for humans; `extra` members (function, event_id, errors) are added
    to the body as is.
    """

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.extra = {key: value for key, value in extra.items() if value is not None}

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


def bad_event(rule: str, detail: str) -> Problem:
    """The request is not a valid CloudEvent: `rule` names the broken binding rule."""
    return Problem(400, rule, detail)


class Drop(Exception):
    """Raise from a function to drop the event for good: answered with a non-retried 4xx.

    Knative then sends it to the dead-letter sink (if any) instead of retrying.
    """

    def __init__(self, reason: str = "the function dropped the event", status: int = 422) -> None:
        if not 400 <= status < 500 or is_retried(status):
            raise ValueError(
                f"Drop(status={status}): a dropped event needs a 4xx that Knative does "
                "not retry (not 404, 408, 409 or 429)"
            )
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Retry(Exception):
    """Raise from a function to ask the sender to deliver the event again later (503)."""

    def __init__(self, reason: str = "the function asked for a retry", after: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = max(0, int(after))
