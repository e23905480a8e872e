"""Every error kfn raises on purpose, in one hierarchy.

    KfnError
    ├── ConfigError          a bad environment variable or setting
    ├── RegistrationError    a function or hook declared wrongly (raised by its decorator)
    ├── LoadError            the functions module cannot be imported
    ├── StartupError         the app cannot start
    ├── DeployError          settings or functions that cannot be deployed
    ├── BuildError           the image cannot be built or run (engine, base image, wheels)
    ├── CommandError         a `kfn` command cannot do what it was asked
    ├── EmitError            an event did not reach the sink
    │   └── NoSinkError
    └── EventError           an event the host refuses or could not handle
        ├── DecodingError        not a valid CloudEvent (the HTTP binding or JSON format)
        │   ├── UnsupportedMediaType
        │   └── UnsupportedCharset
        ├── BodyTooLarge
        ├── InvalidData          the data does not fit the function's declared type
        ├── NoMatchingFunction, UnknownFunction, FilterMismatch   (routing)
        ├── HopLimitReached      the Broker's hop count (knativebrokerttl) is spent
        ├── Unavailable          starting, draining or over the in-flight limit
        ├── SenderRefused        the sender may not deliver here
        │   ├── Unauthenticated      no valid sender identity (an OIDC token)
        │   └── EventsNotAccepted    this Service takes no events (a public one)
        └── DeliveryError        the function failed
            ├── FunctionFailed, FunctionTimedOut
            ├── ReplyNotEncodable  the finished function's reply cannot be put on the wire
            ├── DuplicateInFlight, IdempotencyStoreUnavailable   (idempotent functions)
            ├── EventDropped     the function raised Drop, or an earlier delivery was dropped
            └── RetryRequested   the function raised Retry

Errors are raised where they happen and carry no HTTP status: kfn.problems maps
an EventError to a status and a problem+json body, at the edge. `Drop` and
`Retry` are not errors but requests a function makes of the host.
"""

from __future__ import annotations

from typing import Any, ClassVar

RETRIED_BY_KNATIVE = frozenset({404, 408, 409, 429})


def is_retried(status: int) -> bool:
    """Whether a Knative dispatcher retries a delivery answered with this status."""
    return status >= 500 or status in RETRIED_BY_KNATIVE


class KfnError(Exception):
    """The base of every error kfn raises on purpose."""


class ConfigError(KfnError, ValueError):
    """A configuration value is invalid; the message names the variable."""


class RegistrationError(KfnError, ValueError):
    """A function or hook was declared wrongly; raised when its decorator runs."""


class LoadError(KfnError):
    """The functions could not be imported; the message says which and why."""


class StartupError(KfnError):
    """The app cannot start: bad configuration or functions. The message says why."""


class DeployError(KfnError):
    """Settings, functions or generated resources that cannot be deployed; the message says why."""


class BuildError(KfnError):
    """The image could not be built or run; the message says why and what to install or fix."""


class CommandError(KfnError):
    """A user-facing failure of a `kfn` command: printed as `kfn: <message>`, exit code 2."""


class EmitError(KfnError):
    """An event did not reach the sink.

    `status` is the sink's last HTTP status (None when it never answered) and
    `attempts` how many requests were made.
    """

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class NoSinkError(EmitError):
    """No sink is configured: K_SINK is not set and no local broker runs."""


class EventError(KfnError):
    """An event the host refuses or could not handle.

    `kind` is the short slug of the broken rule (the problem `type`), `detail` is
    for humans, `context` (function, event_id, errors) goes into the problem body.
    """

    kind: ClassVar[str] = "event-error"

    def __init__(
        self,
        detail: str,
        *,
        kind: str | None = None,
        retry_after: int | None = None,
        **context: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if kind is not None:
            self.kind = kind  # type: ignore[misc]
        self.retry_after = retry_after
        self.context = {key: value for key, value in context.items() if value is not None}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, {self.detail!r})"


class DecodingError(EventError):
    """The request is not a valid CloudEvent: `kind` names the broken rule."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, kind=rule)


class UnsupportedMediaType(DecodingError):
    """The Content-Type names an event format the host does not speak."""

    def __init__(self, content_type: str) -> None:
        super().__init__(
            "unsupported-media-type",
            f"content type {content_type!r} is not supported; send binary mode, "
            "application/cloudevents+json or application/cloudevents-batch+json",
        )


class UnsupportedCharset(DecodingError):
    """A text body's charset names no codec the host trusts (unknown, or not a charset)."""

    def __init__(self, charset: str) -> None:
        super().__init__(
            "unsupported-charset",
            f"charset {charset!r} is not supported; send UTF-8 or another IANA charset",
        )


class BodyTooLarge(EventError):
    kind = "body-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than the limit of {limit} bytes")


class InvalidData(EventError):
    """The event data does not fit a parameter's declared type (`errors`: pydantic's)."""

    kind = "invalid-data"


class NoMatchingFunction(EventError):
    kind = "no-matching-function"


class UnknownFunction(EventError):
    kind = "unknown-function"


class FilterMismatch(EventError):
    """Delivered to a function whose filters do not match: its Trigger would not have."""

    kind = "filter-mismatch"


class HopLimitReached(EventError):
    """An event whose `knativebrokerttl` is spent: a Broker's ingress refuses it."""

    kind = "hop-limit"


class Unavailable(EventError):
    """The host takes no work now (`kind`: starting, draining, overloaded); come back later."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail, kind=kind, retry_after=1)


class SenderRefused(EventError):
    """The sender may not deliver events here; `challenge` is a WWW-Authenticate value."""

    challenge: bytes | None = None


class Unauthenticated(SenderRefused):
    """No valid `Authorization: Bearer` token for this host's audience (sender identity)."""

    kind = "unauthenticated"

    def __init__(self, detail: str, *, challenge: bytes) -> None:
        super().__init__(detail)
        self.challenge = challenge


class EventsNotAccepted(SenderRefused):
    """A Service reachable from outside the cluster whose event endpoints are turned off."""

    kind = "events-not-accepted"


class DeliveryError(EventError):
    """The function the event went to did not handle it."""


class FunctionFailed(DeliveryError):
    """The function raised, or returned what cannot be a reply."""

    kind = "function-error"


class ReplyNotEncodable(DeliveryError):
    """The function finished, but its reply breaks a rule of the wire (a header, JSON, a charset)."""

    kind = "reply-not-encodable"


class FunctionTimedOut(DeliveryError):
    kind = "function-timeout"


class DuplicateInFlight(DeliveryError):
    """A duplicate of an event an idempotent function is still handling: come back later."""

    kind = "duplicate-in-flight"


class IdempotencyStoreUnavailable(DeliveryError):
    """The store of an idempotent function's claims cannot be reached."""

    kind = "idempotency-store-unavailable"


class EventDropped(DeliveryError):
    """The function raised Drop: answered with its non-retried 4xx `status`."""

    kind = "dropped"

    def __init__(self, detail: str, *, status: int, **context: Any) -> None:
        super().__init__(detail, **context)
        self.status = status


class RetryRequested(DeliveryError):
    kind = "retry-requested"


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
