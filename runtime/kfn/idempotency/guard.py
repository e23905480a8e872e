"""The claim, record and release around one idempotent function call.

- The first delivery of a key claims it for the function's timeout plus a margin,
  then runs the function.
- A duplicate while the claim is held gets 409 + Retry-After (Knative retries it);
  after the outcome is recorded it gets that outcome again: 202, 200 with the same
  reply event, or the same drop.
- A failure Knative retries (5xx, timeout, 409, 429, ...) releases the claim so the
  retry runs; a drop (another 4xx) is recorded. A replica killed mid-function leaves
  its claim to expire, after which a retry runs.
- When the store cannot be reached the answer is 503 + Retry-After and the function
  does not run: it never runs without a claim.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudevents.core.v1.event import CloudEvent

from kfn import logs
from kfn._errors import (
    Drop,
    DuplicateInFlight,
    EventDropped,
    EventError,
    FunctionFailed,
    IdempotencyStoreUnavailable,
    is_retried,
)
from kfn.idempotency import outcome
from kfn.idempotency.store import Held, Store, StoreUnavailable
from kfn.problems import status_of

if TYPE_CHECKING:
    from kfn.dispatch import BoundFunction

Call = Callable[["BoundFunction", CloudEvent], Awaitable[CloudEvent | None]]

KEY_PREFIX = "kfn:idempotency:"
STORE_RETRY_AFTER = 1


def lease_for(timeout: float) -> float:
    """How long a claim lasts: the function's timeout plus a margin for the answer."""
    return timeout + max(1.0, timeout / 10)


@dataclass(frozen=True)
class Duplicate:
    """A delivery answered without running the function (for logs and the test kit)."""

    function: str
    event_id: str
    status: int


class Idempotency:
    """Runs idempotent functions at most once per key, with claims in `store`."""

    def __init__(self, store: Store, ttl: float, history: int = 1000) -> None:
        self.store = store
        self.ttl = ttl
        self.duplicates: deque[Duplicate] = deque(maxlen=history)
        """The latest duplicates, oldest first."""

    async def call(self, target: BoundFunction, event: CloudEvent, call: Call) -> CloudEvent | None:
        """`call(target, event)` under a claim, or the answer a duplicate gets."""
        name, event_id = target.name, event.get_id()
        key = key_of(target, event)
        token = uuid.uuid4().hex
        try:
            held = await self.store.claim(key, token, lease_for(target.timeout))
        except StoreUnavailable as error:
            raise IdempotencyStoreUnavailable(
                f"the idempotency store cannot be reached; function {name!r} runs only "
                "once it can claim the event",
                retry_after=STORE_RETRY_AFTER,
                function=name,
                event_id=event_id,
            ) from error
        if held is not None:
            return self._duplicate(name, event_id, held)
        try:
            reply = await call(target, event)
        except EventError as error:
            if is_retried(status_of(error)):
                await self._settle(self.store.release(key, token), name, event_id, "release")
            else:
                recorded = outcome.encode_error(error)
                await self._settle(
                    self.store.record(key, token, recorded, self.ttl), name, event_id, "record"
                )
            raise
        except Exception:
            await self._settle(self.store.release(key, token), name, event_id, "release")
            raise
        await self._settle(
            self.store.record(key, token, outcome.encode(reply), self.ttl), name, event_id, "record"
        )
        return reply

    def _duplicate(self, name: str, event_id: str, held: Held) -> CloudEvent | None:
        if held.outcome is None:
            self.duplicates.append(Duplicate(name, event_id, 409))
            raise DuplicateInFlight(
                f"function {name!r} is already handling event {event_id!r} (a duplicate "
                "delivery); retry after the first one finished",
                retry_after=max(1, math.ceil(held.remaining)),
                function=name,
                event_id=event_id,
            )
        try:
            reply = outcome.decode(held.outcome)
        except EventError as error:
            self.duplicates.append(Duplicate(name, event_id, status_of(error)))
            raise  # logged with the other failures, where the answer is sent
        status = 202 if reply is None else 200
        self.duplicates.append(Duplicate(name, event_id, status))
        logs.event(
            logging.INFO,
            "duplicate answered from its record",
            function=name,
            event_id=event_id,
            status=status,
        )
        return reply

    async def _settle(self, step: Awaitable[bool], name: str, event_id: str, what: str) -> None:
        """Record or release after the call; a failure here never changes the answer."""
        try:
            done = await step
        except StoreUnavailable as error:
            logs.event(
                logging.ERROR,
                f"idempotency {what} failed: the store cannot be reached; the claim expires "
                "on its own",
                error,
                function=name,
                event_id=event_id,
            )
            return
        if not done:
            logs.event(
                logging.WARNING,
                f"idempotency {what} skipped: the claim expired before the function finished, "
                "so another delivery may have run it too",
                function=name,
                event_id=event_id,
            )

    async def aclose(self) -> None:
        await self.store.aclose()


def key_of(target: BoundFunction, event: CloudEvent) -> str:
    """The store key: the function's name and a digest of the event's idempotency key."""
    make_key = target.spec.idempotency_key
    if make_key is None:
        raw = f"{event.get_source()}\n{event.get_id()}"
    else:
        try:
            raw = make_key(event)
        except Drop as drop:
            raise EventDropped(
                drop.reason, status=drop.status, function=target.name, event_id=event.get_id()
            ) from None
        except Exception as error:
            raise FunctionFailed(
                f"the idempotency_key of function {target.name!r} raised {type(error).__name__}",
                kind="idempotency-key-error",
                function=target.name,
                event_id=event.get_id(),
            ) from error
        if not isinstance(raw, str) or not raw:
            raise FunctionFailed(
                f"the idempotency_key of function {target.name!r} returned "
                f"{type(raw).__name__}, not a non-empty string",
                kind="idempotency-key-error",
                function=target.name,
                event_id=event.get_id(),
            )
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{KEY_PREFIX}{target.name}:{digest}"
