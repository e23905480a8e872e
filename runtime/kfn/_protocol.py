"""The HTTP/1.1 connection as kfn serves it: uvicorn's httptools protocol, with limits.

uvicorn's httptools protocol buffers headers without bound, waits for them and for
bodies for ever, and accepts connections until the process runs out of file
descriptors. This subclass enforces, before a request reaches the app:

- header bytes and count (431), counted as the bytes arrive, so a huge header is
  refused before it is buffered whole;
- a header timeout from the connection's start (or the next request's first byte):
  408 when part of a request came, a plain close when nothing did;
- a body timeout from the end of the headers to the end of the body (408);
- a cap on open connections, below the file limit: past it, a connection's request
  is answered 503 with Retry-After instead of the connection failing unseen.

Every answer it sends is problem+json, a request that is not HTTP included. One
sweep per server checks every connection's deadline a few times per the shortest
timeout, so a request arms no timer of its own. After a refusal the connection
lingers a moment, reading and dropping what the client still sends, so that the
client reads the answer instead of a reset. Each refusal answered is counted on
/metrics (`kfn_http_refused_total`, by reason) and logged at WARNING, a flood of
one reason as one line per interval with the count held back (`kfn.logs.limited`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import urllib.parse
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from kfn import logs
from kfn._asgi import Receive, Scope, Send, respond_problem
from kfn._event_lane import EventCycle
from kfn.config import Settings
from kfn.metrics import HTTP_REFUSALS
from kfn.problems import Problem

if TYPE_CHECKING:
    from kfn.app import App

LINGER_SECONDS = 2.0
"""How long a refused connection keeps reading (and dropping) before it closes."""
FD_RESERVE = 100
"""File descriptors kept free of connections: the process's own files, outbound clients."""

TOO_MANY_CONNECTIONS = Problem(
    503,
    "too-many-connections",
    "the host has too many open connections; retry shortly",
    retry_after=1,
)
INVALID_HTTP = Problem(400, "invalid-http", "the request is not valid HTTP/1.1")
HEADER_TIMEOUT = Problem(408, "header-timeout", "the request's headers did not arrive in time")
BODY_TIMEOUT = Problem(408, "body-timeout", "the request's body did not arrive in time")
HEADERS_TOO_LARGE = "headers-too-large"
TOO_MANY_HEADERS = "too-many-headers"

REFUSALS: dict[str, int] = {
    **{p.kind: p.status for p in (INVALID_HTTP, HEADER_TIMEOUT, BODY_TIMEOUT)},
    HEADERS_TOO_LARGE: 431,
    TOO_MANY_HEADERS: 431,
    TOO_MANY_CONNECTIONS.kind: TOO_MANY_CONNECTIONS.status,
}
"""Every refusal this layer answers, kind to status: the closed set of reasons on /metrics."""
HTTP_REFUSALS.declare(REFUSALS)


def refused(problem: Problem, **fields: Any) -> None:
    """Count a refusal on /metrics and log it, a flood of one kind as one line per interval."""
    HTTP_REFUSALS.refuse(problem.kind, problem.status)
    logs.limited(
        f"refused:{problem.kind}",
        logging.WARNING,
        problem.detail,
        status=problem.status,
        problem=problem.kind,
        **fields,
    )


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int
    max_headers: int
    header_timeout: float
    body_timeout: float
    max_connections: int

    @classmethod
    def of(cls, settings: Settings, max_connections: int | None = None) -> Limits:
        return cls(
            settings.max_header_bytes,
            settings.max_headers,
            settings.header_timeout,
            settings.body_timeout,
            settings.max_connections if max_connections is None else max_connections,
        )

    @property
    def sweep_interval(self) -> float:
        return max(0.05, min(1.0, self.header_timeout / 4, self.body_timeout / 4))


def protocol(settings: Settings, events: App | None = None) -> type[HttpProtocol]:
    """The protocol class uvicorn is given (`http=`), with these settings' limits.

    With `events`, the app it serves, an event POST goes to that app's endpoint
    directly (kfn._event_lane) instead of through ASGI.
    """
    limits = Limits.of(settings, connection_cap(settings.max_connections))
    return type("HttpProtocol", (HttpProtocol,), {"limits": limits, "events": events})


def connection_cap(requested: int) -> int:
    """`requested`, or fewer when the file limit cannot hold that many connections and a reserve.

    The soft limit is raised towards the hard one first, as Go's runtime does.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not a POSIX system
        return requested
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = requested + FD_RESERVE
    unlimited = resource.RLIM_INFINITY
    if soft != unlimited and soft < needed:
        target = needed if hard == unlimited else min(hard, needed)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # pragma: no cover - refused by the system
            pass
    if soft == unlimited or soft >= needed:
        return requested
    cap = max(soft // 2, soft - FD_RESERVE)
    logs.event(
        logging.WARNING,
        "open connections capped below the file limit",
        max_connections=cap,
        requested=requested,
        file_limit=soft,
    )
    return cap


class _Sweep:
    """Expires the connections whose deadline passed, every `interval` while there are any."""

    def __init__(self, loop: asyncio.AbstractEventLoop, state: ServerState, interval: float):
        self.loop = loop
        self.state = state
        self.interval = interval
        self.handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self.handle is None:
            self.handle = self.loop.call_later(self.interval, self._tick)

    def _tick(self) -> None:
        self.handle = None
        now = self.loop.time()
        for connection in list(self.state.connections):
            if isinstance(connection, HttpProtocol) and 0.0 < connection.deadline <= now:
                connection.expired()
        if self.state.connections:
            self.start()


_SWEEPS: weakref.WeakKeyDictionary[ServerState, _Sweep] = weakref.WeakKeyDictionary()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that is over a limit."""


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with kfn's header, body and connection limits."""

    limits: ClassVar[Limits | None] = None
    """Set on the class `protocol()` builds; read from the environment when uvicorn is given this one."""
    events: ClassVar[App | None] = None
    """The app whose event requests skip ASGI (kfn._event_lane); None: every request is ASGI."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        cls = type(self)
        if cls.limits is None:
            cls.limits = Limits.of(Settings.from_env())
        self._limits: Limits = cls.limits
        self.deadline = 0.0
        """When the sweep expires this connection (loop time); 0: no deadline now."""
        self._in_headers = True
        self._header_bytes = 0
        self._header_count = 0
        self._headers_done = 0
        self._refusal: Problem | None = None
        self._lingering = False
        self._idle = False
        """Between two requests of a kept-alive connection: the deadline is the keep-alive's."""
        self._over_cap = False
        sweep = _SWEEPS.get(server_state)
        if sweep is None:
            sweep = _SWEEPS[server_state] = _Sweep(
                self.loop, server_state, self._limits.sweep_interval
            )
        self._sweep = sweep

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = self._limits
        self.deadline = self.loop.time() + limits.header_timeout
        self._sweep.start()
        if len(self.connections) > limits.max_connections:
            self.app = self._too_many_connections
            self._over_cap = True

    async def _too_many_connections(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app of a connection past the cap: its request is answered 503, then it closes."""
        refused(
            TOO_MANY_CONNECTIONS,
            open_connections=len(self.connections),
            max_connections=self._limits.max_connections,
        )
        await respond_problem(send, TOO_MANY_CONNECTIONS, [(b"connection", b"close")])

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline = 0.0
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        if not self._in_headers:
            self._feed(data)
            return
        if (
            self._idle or self.deadline == 0.0
        ):  # the first bytes of a kept-alive connection's next request
            self._idle = False
            self.deadline = self.loop.time() + self._limits.header_timeout
        room = self._limits.max_header_bytes - self._header_bytes
        if len(data) <= room:
            self._header_bytes += len(data)
            self._feed(data)
            return
        done = self._headers_done
        self._header_bytes += room
        self._feed(data[:room])
        if self._lingering or self.parser is None or self.transport.is_closing():
            return
        if self._headers_done == done:
            limit = self._limits.max_header_bytes
            self._refuse(
                Problem(431, HEADERS_TOO_LARGE, f"the request's headers exceed {limit} bytes")
            )
            return
        self.data_received(data[room:])

    def _feed(self, data: bytes) -> None:
        """uvicorn's own feeding, with kfn's answers for a refused or invalid request."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            self._refuse(self._refusal or INVALID_HTTP)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        """uvicorn's own (a lower-case name, Expect noted), counting the headers."""
        self._header_count += 1
        if self._header_count > self._limits.max_headers:
            self._refusal = Problem(
                431,
                TOO_MANY_HEADERS,
                f"the request has more than {self._limits.max_headers} headers",
            )
            raise _Refused
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        """uvicorn's own, with the body's deadline, and an event request's own cycle."""
        self._in_headers = False
        self._headers_done += 1
        self._header_bytes = 0
        self.deadline = self.loop.time() + self._limits.body_timeout
        parser = self.parser
        http_version = parser.get_http_version()
        scope = self.scope
        scope["method"] = method = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return  # pragma: no cover - `kfn run` serves no websockets
        url = httptools.parse_url(self.url)
        raw_path = url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        scope["path"] = self.root_path + path
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        scope["query_string"] = url.query or b""
        cycle_type: type[RequestResponseCycle] = RequestResponseCycle
        app = self.app
        events = self.events
        function = None
        if (
            events is not None
            and not self._over_cap
            and not self.expect_100_continue
            and not self.root_path
            and not self.access_log  # uvicorn's send writes the access line
        ):
            taken, function = events.takes_event(method, path)
            if taken:
                cycle_type = EventCycle
        if self.limit_concurrency is not None and (
            len(self.connections) >= self.limit_concurrency
            or len(self.tasks) >= self.limit_concurrency
        ):  # pragma: no cover - `kfn run` sets no concurrency limit (uvicorn's own check)
            cycle_type = RequestResponseCycle
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        existing = self.cycle
        self.cycle = cycle = cycle_type(
            scope=scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            keep_alive=http_version != "1.0" and parser.should_keep_alive(),
            on_response=self.on_response_complete,
        )
        if isinstance(cycle, EventCycle):
            assert events is not None
            cycle.app = events
            cycle.function = function
        if existing is None or existing.response_complete:
            self._start_asgi_task(cycle, app)
        else:  # a pipelined request waits for the one before it
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, app))

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """uvicorn's, with an event request's cycle running the endpoint instead of the app."""
        if not isinstance(cycle, EventCycle):
            super()._start_asgi_task(cycle, app)
            return
        if self.config.reset_contextvars:
            task = self.loop.create_task(cycle.run_event(), context=contextvars.Context())
        else:
            task = self.loop.create_task(cycle.run_event())
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive timeout kept by the sweep instead of a timer per answer."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._in_headers and self._header_bytes == 0 and not self._lingering:
            self._idle = True
            self.deadline = self.loop.time() + self.timeout_keep_alive

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers = True
        self.deadline = 0.0

    def expired(self) -> None:
        """The deadline passed: headers or body too slow, or a refused connection done lingering."""
        self.deadline = 0.0
        if self._lingering or self.transport.is_closing():
            self.transport.close()
            return
        cycle = self.cycle
        if self._in_headers:
            if cycle is not None and not cycle.response_complete:
                return  # an answer is still due; the next request's time starts at its bytes
            if self._header_bytes == 0:
                self.transport.close()  # nothing of a request came: nothing to answer
                return
            self._refuse(HEADER_TIMEOUT)
            return
        if cycle is None:
            self.transport.close()
            return
        if cycle.response_started:  # the app answered without the rest of the body
            if cycle.response_complete:
                self.transport.close()
            return
        cycle.disconnected = True  # the app's receive() sees a disconnect, its sends are dropped
        cycle.message_event.set()
        self._refuse(BODY_TIMEOUT)

    def _refuse(self, problem: Problem) -> None:
        """Answer `problem` on the socket itself, then close lingering."""
        body = problem.body()
        headers = [
            *self.server_state.default_headers,
            *problem.headers(),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        content = [STATUS_LINE[problem.status]]
        for name, value in headers:
            content += [name, b": ", value, b"\r\n"]
        content += [b"\r\n", body]
        self.transport.write(b"".join(content))
        refused(problem, client=self.client[0] if self.client else None)
        self._lingering = True
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.deadline = self.loop.time() + LINGER_SECONDS
