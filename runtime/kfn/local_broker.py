"""The local broker: a Knative Broker and its Triggers, in-process, for `kfn run`.

It takes emitted events (`accept`) and every reply a function returns (`replied`)
and delivers each to every function whose filters match, one delivery per
function as each Trigger delivers, through the router. Like the Broker it keeps
the `knativebrokerttl` hop count (so a loop stops), and its filters see and its
functions receive the event as a Trigger passes it on (kfn.broker_ingress).
Unlike it, it does not retry: each delivery is one log line that says whether
Knative would retry it. The TTL is carried into events emitted while a function
handles a delivery, so an emit loop stops too.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn import broker_ingress, logs, tracing
from kfn._errors import EmitError, EventError, NoMatchingFunction, is_retried
from kfn.broker_ingress import DEFAULT_TTL, TTL_ATTRIBUTE
from kfn.dispatch import BoundFunction, current_invocation
from kfn.lifecycle import Lifecycle
from kfn.problems import status_of
from kfn.routing import Router

_delivered_ttl: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "kfn_delivered_ttl", default=None
)
no_reply_route: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kfn_no_reply_route", default=None
)
"""Set (to the sender's name) while a sender that ignores replies delivers, e.g. a PingSource."""


@dataclass(frozen=True)
class HopRecord:
    """One delivery the local broker (or the local scheduler) made, or one event it dropped."""

    event_id: str
    type: str
    origin: str
    to: str | None
    status: int
    ttl: int | None
    detail: str | None = None


def log_hop(hop: HopRecord, error: BaseException | None = None) -> None:
    """One JSON line per hop; failures at WARNING (4xx) or ERROR (5xx, with the traceback)."""
    level = logging.INFO if hop.status < 400 else logging.WARNING
    if hop.status >= 500:
        level = logging.ERROR
    fields: dict[str, Any] = {
        "event_id": hop.event_id,
        "type": hop.type,
        "from": hop.origin,
        "to": hop.to,
        "status": hop.status,
        "ttl": hop.ttl,
    }
    if hop.detail:
        fields["detail"] = hop.detail
    if hop.status >= 300 and hop.to is not None:
        fields["retried_on_knative"] = is_retried(hop.status)
    logs.event(level, "hop", error, **fields)


class LocalBroker:
    """An in-process Broker with one Trigger per CloudEvent function."""

    def __init__(self, router: Router, lifecycle: Lifecycle, history: int = 1000) -> None:
        self.router = router
        self.lifecycle = lifecycle
        self.hops: deque[HopRecord] = deque(maxlen=history)
        """The latest hops, oldest first (for tests: kfn.testing reads them)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- ingress -----------------------------------------------------------------------

    def replied(self, function: str, event: CloudEvent, reply: CloudEvent) -> None:
        """A function replied to `event`; the reply goes to the broker.

        The reply carries the TTL of the event it answers, as the Broker's filter
        puts it back on a reply, and is decremented on the way in.
        """
        if no_reply_route.get() is not None:
            return
        self.ingest(reply, function, _hop_ttl(event))

    async def accept(self, event: CloudEvent) -> None:
        """An emitted event (kfn.emitter); raises EmitError when the ingress refuses it."""
        invocation = current_invocation.get()
        origin = invocation[0] if invocation is not None else "emit"
        carried = _ttl_of(event)
        if carried is None and invocation is not None:
            carried = _hop_ttl(invocation[1])
        status = self.ingest(event, origin, carried)
        if status >= 300:
            reason = "the hop limit" if status == 400 else "the host is shutting down"
            raise EmitError(
                f"the local broker refused event {event.get_id()} ({event.get_type()}): "
                f"{reason} (status {status})",
                status=status,
                attempts=1,
            )

    def ingest(self, event: CloudEvent, origin: str, carried_ttl: int | None) -> int:
        """Take one event in; the status a Broker ingress would answer (202, 400 or 503).

        `carried_ttl` is the TTL the event arrives with (None: it enters fresh).
        Deliveries start in the background; this never blocks and never raises.
        """
        ttl = broker_ingress.next_ttl(carried_ttl)
        event_id, event_type = event.get_id(), event.get_type()
        if ttl <= 0:
            self._record(
                HopRecord(event_id, event_type, origin, None, 400, 0, "hop limit reached: dropped")
            )
            return 400
        if self._closed or self.lifecycle.draining:
            self._record(
                HopRecord(event_id, event_type, origin, None, 503, ttl, "shutting down: dropped")
            )
            return 503
        arrived = broker_ingress.arrival_time()
        try:
            targets = self.router.targets(broker_ingress.as_filtered(event, arrived))
        except NoMatchingFunction:
            fields: dict[str, Any] = {"event_id": event_id, "type": event_type, "from": origin}
            logs.event(logging.DEBUG, "no function matches", **fields)
            return 202
        loop = asyncio.get_running_loop()
        for target in targets:
            # Each Trigger delivers its own copy: one function changing its event's data
            # must not change what another receives, or what the sender was answered.
            delivered = broker_ingress.as_filtered(event, arrived)
            self.lifecycle.in_flight.enter(event=True)
            task = loop.create_task(self._deliver(target, delivered, ttl, origin))
            self._tasks.add(task)
            task.add_done_callback(self._finished)
        return 202

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.lifecycle.in_flight.leave(event=True)

    # -- delivery ----------------------------------------------------------------------

    async def _deliver(
        self, target: BoundFunction, event: CloudEvent, ttl: int, origin: str
    ) -> None:
        tracing.detach()  # the delivery's parent is the span its event carries
        token = _delivered_ttl.set(ttl)
        error: BaseException | None = None
        detail = None
        try:
            replies = await self.router.route(event, target.name)  # they come back via `replied`
            status = 200 if replies else 202
        except EventError as failure:
            status, detail, error = status_of(failure), failure.detail, failure.__cause__
        except Exception as unexpected:  # a bug in the host: still one line, never silence
            status, detail, error = 500, f"{type(unexpected).__name__}: {unexpected}", unexpected
        finally:
            _delivered_ttl.reset(token)
        self._record(
            HopRecord(event.get_id(), event.get_type(), origin, target.name, status, ttl, detail),
            error,
        )

    def _record(self, hop: HopRecord, error: BaseException | None = None) -> None:
        self.hops.append(hop)
        log_hop(hop, error)

    # -- waiting and closing -----------------------------------------------------------

    async def settle(self) -> None:
        """Wait until no delivery is under way, including those that deliveries caused."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Refuse new events and cancel deliveries still running (after the grace period)."""
        self._closed = True
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)


def _hop_ttl(event: CloudEvent) -> int:
    """The TTL of the hop handling `event`: the broker's, or what a direct sender sent."""
    delivered = _delivered_ttl.get()
    if delivered is not None:
        return delivered
    sent = _ttl_of(event)
    return DEFAULT_TTL if sent is None else sent


def _ttl_of(event: CloudEvent) -> int | None:
    """The event's `knativebrokerttl` as the ingress reads it, or None when absent or unreadable."""
    return broker_ingress.read_ttl(event.get_attributes().get(TTL_ATTRIBUTE))
