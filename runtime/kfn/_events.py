"""The event endpoint: `POST /` and `POST /events/<function>`.

Read the body, decode the events, route each, answer with the replies in the
request's content mode. This is the edge where an EventError becomes a status
and a problem+json body (kfn.problems) and one log line.
"""

from __future__ import annotations

import logging
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn import broker_ingress, codec, logs, tracing
from kfn._admission import Admit
from kfn._asgi import Receive, Scope, Send, respond, respond_problem
from kfn._backpressure import Backpressure
from kfn._body import ClientDisconnected, read_body
from kfn._errors import EventError, FunctionFailed, ReplyNotEncodable, SenderRefused, Unavailable
from kfn._inflight import InFlight
from kfn.metrics import Metrics
from kfn.problems import Problem, status_of
from kfn.routing import Router


class EventEndpoint:
    def __init__(
        self,
        router: Router,
        backpressure: Backpressure,
        in_flight: InFlight,
        max_body_bytes: int,
        *,
        as_broker: bool = False,
        metrics: Metrics | None = None,
        admit: Admit | None = None,
    ) -> None:
        self.as_broker = as_broker
        """Under `kfn run`, `POST /` stands for the Broker: events enter as its ingress takes them."""
        self.admit = admit
        """Who may send (kfn._admission): checked before anything else, when there is a check."""
        self.router = router
        self.backpressure = backpressure
        self.in_flight = in_flight
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics if metrics is not None else Metrics(in_flight)

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, function: str | None
    ) -> None:
        if self.admit is not None and not await self._admitted(scope, send, function):
            return
        try:
            self.backpressure.check(event=True)
        except EventError as refusal:
            self.metrics.refuse(refusal.kind, status_of(refusal))
            await answer_error(send, refusal, function, None)
            return
        in_flight = self.in_flight
        held: int | None = None
        event_id: str | None = None
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        content_type = None
        content_length = None
        parent = None
        state = None
        for key, value in headers:  # one pass for the headers read before decoding
            if key == b"content-type":
                content_type = value
            elif key == b"content-length":
                content_length = value
            elif key == b"traceparent":
                parent = value
            elif key == b"tracestate":
                state = value if state is None else state + b"," + value
        received = tracing.receive_values(parent, state)
        try:
            mode = codec.detect_mode(content_type)
            body = await read_body(receive, self.max_body_bytes, content_length)
            events = codec.decode(mode, headers, body)
            # The slot is taken with whole events in hand: a body still trickling in holds none.
            self.backpressure.check(event=True)
            held = in_flight.hold(function, events)
            replies: list[CloudEvent] = []
            answered: list[CloudEvent] = []  # the event each reply answers
            for event in events:
                event_id = event.get_id()
                if self.as_broker and function is None:
                    event = broker_ingress.received(event)
                found = await self.router.route(event, function)
                replies.extend(found)
                answered.extend([event] * len(found))
            if not replies:
                await respond(send, 202, [], b"")
                return
            if mode is not codec.Mode.BATCH and len(replies) > 1:
                raise FunctionFailed(
                    f"{len(replies)} functions replied to one event at /; only one reply "
                    "fits a response. Deliver to /events/<function> (as the generated "
                    "Triggers do) or let only one matching function reply",
                    kind="ambiguous-reply",
                    event_id=event_id,
                )
            try:
                reply_headers, reply_body = codec.encode(mode, replies)
            except ReplyNotEncodable as error:
                self._blame(error, answered, function)
                raise
            reply_headers += tracing.response_headers(replies)
            await respond(send, 200, reply_headers, reply_body)
        except EventError as error:
            if tracing.logged() is None:  # no function ran: the host refused the request
                self.metrics.refuse(error.kind, status_of(error))
            await answer_error(send, error, function, event_id)
        except ClientDisconnected:
            pass
        except Exception as bug:  # a fault in the host itself: a 500 problem, never a traceback
            logs.event(logging.ERROR, "internal error", bug, function=function, event_id=event_id)
            await respond_problem(
                send, Problem(500, "internal-error", "the host failed to handle the event")
            )
        finally:
            tracing.release(received)
            if held is not None:
                in_flight.release(held)

    async def _admitted(self, scope: Scope, send: Send, function: str | None) -> bool:
        """Whether the sender may deliver; if not, it has been answered (401, 403 or 503)."""
        assert self.admit is not None
        try:
            await self.admit(scope["headers"])
        except EventError as refusal:
            self.metrics.refuse(refusal.kind, status_of(refusal))
            challenge = refusal.challenge if isinstance(refusal, SenderRefused) else None
            extra = [(b"www-authenticate", challenge)] if challenge else None
            await answer_error(send, refusal, function, None, extra)
            return False
        except Exception as bug:  # a fault in the check itself: a 500 problem, never a traceback
            logs.event(logging.ERROR, "internal error", bug, function=function)
            await respond_problem(
                send, Problem(500, "internal-error", "the host failed to check the sender")
            )
            return False
        return True

    def _blame(
        self, error: ReplyNotEncodable, answered: list[CloudEvent], function: str | None
    ) -> None:
        """Name the event whose reply failed, and the function that replied when one did."""
        index = error.context.pop("index", None)
        if index is None:
            return
        event = answered[index]
        error.context.setdefault("event_id", event.get_id())
        if function is None:
            targets = self.router.targets(event)
            function = targets[0].name if len(targets) == 1 else None
        if function is not None:
            error.context.setdefault("function", function)


async def answer_error(
    send: Send,
    error: EventError,
    function: str | None,
    event_id: str | None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Log the error once and answer the sender with its problem."""
    problem = Problem.of(error)
    log_problem(
        problem, error.__cause__, function, event_id, refused=isinstance(error, Unavailable)
    )
    await respond_problem(send, problem, extra_headers)


def log_problem(
    problem: Problem,
    cause: BaseException | None,
    function: str | None,
    event_id: str | None,
    *,
    refused: bool = False,
) -> None:
    """One line: WARNING for a request the host refused, ERROR when handling it failed.

    Refusals for want of capacity (503 while starting, draining or overloaded) come
    in floods: the first is written, then one summary per interval (kfn.logs.limited).
    """
    fields: dict[str, Any] = {
        "status": problem.status,
        "problem": problem.kind,
        "function": problem.extra.get("function", function),
        "event_id": problem.extra.get("event_id", event_id),
    }
    if refused:
        logs.limited(f"refused:{problem.kind}", logging.WARNING, problem.detail, **fields)
        return
    level = logging.ERROR if problem.status >= 500 else logging.WARNING
    logs.event(level, problem.detail, cause, **fields)
