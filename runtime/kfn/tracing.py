"""W3C trace context: every invocation is a span, and every event it sends carries it.

An event arrives with a `traceparent` (and maybe a `tracestate`) as HTTP headers,
as Knative's Broker sends them, or as the CloudEvents distributed-tracing extension
on the event; the header wins, being the latest hop's. Each function invocation gets
a span id of its own whose parent is the sender's span; its reply and every event it
emits carry the invocation's context (same trace id, the invocation's span id), as
an extension and, over HTTP, as headers. An event that arrives without one starts a
new trace. Nothing here needs a dependency; `kfn.otel` exports the spans when the
OpenTelemetry variables are set, and the dev console shows them.
"""

from __future__ import annotations

import contextvars
import functools
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

if TYPE_CHECKING:
    from cloudevents.core.v1.event import CloudEvent

PING_EVENT_TYPE = "dev.knative.sources.ping"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_TRACESTATE_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-*/]*(@[a-z][a-z0-9_\-*/]*)?$")
_TRACESTATE_VALUE = re.compile(r"^[\x20-\x2b\x2d-\x3c\x3e-\x7e]*[\x21-\x2b\x2d-\x3c\x3e-\x7e]$")
MAX_TRACESTATE_MEMBERS = 32
SAMPLED = 0x01


class TraceParent(NamedTuple):
    """A parsed `traceparent`: the trace, the sender's span and the trace flags."""

    trace_id: str
    span_id: str
    flags: int
    state: str | None = None

    @property
    def sampled(self) -> bool:
        return bool(self.flags & SAMPLED)

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"


def parse_traceparent(value: object) -> TraceParent | None:
    """The trace context in a `traceparent` value, or None when it is not a valid one.

    Follows W3C Trace Context level 1: version 00 is exactly four fields; a later
    version may append fields, which are ignored; version ff, an all-zero trace or
    span id and upper-case hex are invalid (the receiver then starts a new trace).
    """
    if not isinstance(value, str):
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, span_id, int(flags, 16))


def parse_tracestate(value: object) -> str | None:
    """A valid `tracestate` as it came (members trimmed), or None: an invalid one is dropped whole."""
    if not isinstance(value, str):
        return None
    members = [member.strip() for member in value.split(",") if member.strip()]
    if not members or len(members) > MAX_TRACESTATE_MEMBERS:
        return None
    keys = set()
    for member in members:
        key, sep, state = member.partition("=")
        if not sep or not _valid_member(key, state):
            return None
        if key in keys:
            return None
        keys.add(key)
    return ",".join(members)


def _valid_member(key: str, value: str) -> bool:
    """A tracestate key (a simple one up to 256 characters, or tenant@system: 241@14) and value (256)."""
    match = _TRACESTATE_KEY.match(key)
    if match is None or len(key) > 256 or len(value) > 256:
        return False
    system = match.group(1)
    if system is not None and (len(key) - len(system) > 241 or len(system) > 15):
        return False
    return _TRACESTATE_VALUE.match(value) is not None


def from_headers(headers: Iterable[tuple[bytes, bytes]]) -> TraceParent | None:
    """The trace context in raw ASGI headers (`traceparent`, `tracestate`), or None."""
    parent: bytes | None = None
    state: bytes | None = None
    for key, value in headers:
        if key == b"traceparent":
            parent = value
        elif key == b"tracestate":
            state = value if state is None else state + b"," + value
    return from_values(parent, state)


def from_values(parent: bytes | None, state: bytes | None) -> TraceParent | None:
    """The trace context of a `traceparent` and a `tracestate` header value, or None."""
    if parent is None:
        return None
    found = parse_traceparent(parent.decode("latin-1"))
    if found is None:
        return None
    tracestate = parse_tracestate(state.decode("latin-1")) if state is not None else None
    return TraceParent(found.trace_id, found.span_id, found.flags, tracestate)


def from_attributes(attributes: Mapping[str, Any]) -> TraceParent | None:
    """The trace context of an event's distributed-tracing extension, or None."""
    found = parse_traceparent(attributes.get(TRACEPARENT))
    if found is None:
        return None
    state = parse_tracestate(attributes.get(TRACESTATE))
    return TraceParent(found.trace_id, found.span_id, found.flags, state)


def new_span_id() -> str:
    """64 random bits as hex, never all zero (W3C: an all-zero id is invalid).

    From `random`, as OpenTelemetry's id generator does: an id must be unique, not
    secret, and `os.urandom` costs a system call per id on every event. The module's
    generator is reseeded in a forked child, so two workers never share a sequence.
    """
    found = f"{random.getrandbits(64):016x}"
    return found if found != _ZERO_SPAN else new_span_id()


def new_trace_id() -> str:
    found = f"{random.getrandbits(128):032x}"
    return found if found != _ZERO_TRACE else new_trace_id()


class Span:
    """One function invocation: where it sits in its trace, what it handled, how it ended.

    A plain class with slots: one is made per invocation, on the hot path.
    """

    __slots__ = (
        "cold_start",
        "end_ns",
        "error",
        "event",
        "exporter_state",
        "flags",
        "function",
        "parent_id",
        "problem",
        "reply",
        "span_id",
        "start_ns",
        "state",
        "status",
        "trace_id",
        "trigger",
    )

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        flags: int,
        state: str | None,
        function: str,
        trigger: str,
        event: Mapping[str, Any],
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.flags = flags
        self.state = state
        self.function = function
        self.trigger = trigger
        """FaaS trigger: "pubsub" for a delivered event, "timer" for a schedule."""
        self.event = event
        """The event's context attributes."""
        self.start_ns = time.time_ns()
        self.end_ns: int | None = None
        self.status: int | None = None
        self.problem: str | None = None
        """The problem kind when the invocation failed."""
        self.reply: Mapping[str, Any] | None = None
        """The reply's context attributes, when there was one."""
        self.cold_start = False
        self.error: BaseException | None = None
        """What the invocation raised (an EventError), for the dev console's failure view."""
        self.exporter_state: Any = None
        """Whatever an exporter keeps between `started` and `ended` (an OpenTelemetry span)."""

    @property
    def context(self) -> TraceParent:
        """The context this span hands on: its trace, its own span id."""
        return TraceParent(self.trace_id, self.span_id, self.flags, self.state)

    @property
    def seconds(self) -> float | None:
        return None if self.end_ns is None else (self.end_ns - self.start_ns) / 1e9


class Observer:
    """Something that watches spans: an exporter, the dev console. Both methods are optional."""

    def started(self, span: Span) -> None:
        """Called as the invocation starts; may set `span_id`/`flags` (an exporter's sampler)."""

    def ended(self, span: Span) -> None:
        """Called once the invocation finished, `status` and `end_ns` set."""


observers: list[Observer] = []
"""Who watches spans; empty unless OpenTelemetry or the console is on."""

_current: contextvars.ContextVar[Span | None] = contextvars.ContextVar("kfn_span", default=None)
_received: contextvars.ContextVar[TraceParent | None] = contextvars.ContextVar(
    "kfn_received_trace", default=None
)
_ended: contextvars.ContextVar[Span | None] = contextvars.ContextVar("kfn_ended_span", default=None)
_cold = True


def current() -> Span | None:
    """The span of the invocation running in this context, if any."""
    return _current.get()


def logged() -> Span | None:
    """The span a log line belongs to: the running invocation's, else the one that just ended.

    The line saying how a delivery ended is written after its span ended, in the
    same context (a request, a local-broker delivery, a schedule's firing).
    """
    return _current.get() or _ended.get()


def adopt(span: Span | None) -> None:
    """`span` as the one that just ended in this context: a call that ran in a task of its own."""
    _ended.set(span)


def receive(headers: Iterable[tuple[bytes, bytes]]) -> contextvars.Token[TraceParent | None]:
    """Note the trace context of the request's headers for the invocations it causes."""
    _ended.set(None)
    return _received.set(from_headers(headers))


def receive_values(
    parent: bytes | None, state: bytes | None
) -> contextvars.Token[TraceParent | None]:
    """`receive` for a caller that has read the two headers' values already."""
    _ended.set(None)
    return _received.set(from_values(parent, state))


def release(token: contextvars.Token[TraceParent | None]) -> None:
    _received.reset(token)


def detach() -> None:
    """Forget the surrounding trace in this context: a new delivery is traced from its event.

    The local broker's deliveries run in tasks that inherit the context of the
    invocation that caused them; their parent is what their event carries.
    """
    _current.set(None)
    _received.set(None)
    _ended.set(None)


def start(function: str, attributes: Mapping[str, Any], trigger: str = "pubsub") -> Span:
    """Begin the span of one invocation of `function` on an event with these attributes."""
    global _cold
    parent = _received.get() or from_attributes(attributes)
    if parent is None:
        span = Span(
            new_trace_id(), new_span_id(), None, SAMPLED, None, function, trigger, attributes
        )
    else:
        span = Span(
            parent.trace_id,
            new_span_id(),
            parent.span_id,
            parent.flags,
            parent.state,
            function,
            trigger,
            attributes,
        )
    if _cold:
        span.cold_start, _cold = True, False
    for observer in observers:
        observer.started(span)
    return span


def activate(
    span: Span,
) -> tuple[contextvars.Token[Span | None], contextvars.Token[TraceParent | None]]:
    """Make `span` the current one (what emits and log lines carry) until `deactivate`."""
    return _current.set(span), _received.set(None)


def deactivate(
    tokens: tuple[contextvars.Token[Span | None], contextvars.Token[TraceParent | None]],
) -> None:
    _current.reset(tokens[0])
    _received.reset(tokens[1])


def end(span: Span, status: int, problem: str | None = None) -> None:
    span.end_ns = time.time_ns()
    span.status = status
    span.problem = problem
    _ended.set(span)
    for observer in observers:
        observer.ended(span)


def stamp(attributes: dict[str, Any], span: Span | None = None) -> None:
    """Put the trace context of `span` (default: the current one) on an outgoing event's attributes."""
    span = span or _current.get()
    if span is None:
        return
    attributes[TRACEPARENT] = span.context.header()
    if span.state:
        attributes[TRACESTATE] = span.state
    else:
        attributes.pop(TRACESTATE, None)


def response_headers(replies: list[CloudEvent]) -> list[tuple[bytes, bytes]]:
    """The W3C headers of a response carrying `replies`: the first reply's trace context."""
    if not replies:
        return []
    return [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in headers_for(replies[0].get_attributes())
    ]


def headers_for(attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The W3C headers for an outgoing event that carries the extension (none when it does not)."""
    found = from_attributes(attributes)
    if found is None:
        return []
    headers = [(TRACEPARENT, found.header())]
    if found.state:
        headers.append((TRACESTATE, found.state))
    return headers


def watch(observer: Observer) -> Callable[[], None]:
    """Add an observer; the function returned removes it."""
    observers.append(observer)
    return lambda: observers.remove(observer) if observer in observers else None


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_Call = TypeVar("_Call", bound="Callable[..., Awaitable[CloudEvent | None]]")


def traces_invocations(call: _Call) -> _Call:
    """Decorate `Dispatcher.call(self, target, event)`: each call is a span.

    The span is current while the function runs (so its reply and emits carry it),
    and ends with 200 when a reply came back, 202 when none did, or the status and
    kind of the error raised.
    """

    @functools.wraps(call)
    async def traced_call(self: Any, target: _Named, event: CloudEvent) -> CloudEvent | None:
        attributes = event.get_attributes()
        trigger = "timer" if attributes.get("type") == PING_EVENT_TYPE else "pubsub"
        span = start(target.name, attributes, trigger)
        tokens = activate(span)
        try:
            reply = await call(self, target, event)
        except BaseException as error:
            deactivate(tokens)
            span.error = error
            end(span, *_outcome(error))
            raise
        deactivate(tokens)
        if reply is not None:
            span.reply = reply.get_attributes()
        end(span, 200 if reply is not None else 202)
        return reply

    return traced_call  # type: ignore[return-value]


def _outcome(error: BaseException) -> tuple[int, str]:
    """The status and problem kind an invocation's error is answered with."""
    from kfn._errors import EventError
    from kfn.problems import status_of

    if isinstance(error, EventError):
        return status_of(error), error.kind
    return 500, "function-error"


def traced(event: CloudEvent) -> CloudEvent:
    """`event` carrying the current span's trace context (unchanged outside an invocation)."""
    span = _current.get()
    if span is None:
        return event
    from kfn.codec.event import trusted_event

    attributes = dict(event.get_attributes())
    stamp(attributes, span)
    return trusted_event(attributes, event.get_data())
