"""The ASGI application: where every request enters.

CloudEvents (`POST /`, `POST /events/<function>`), the probes and /metrics are
served here directly, on plain ASGI, so an event passes through no machinery it
does not need. Everything else goes to a FastAPI app holding the `@http`
functions, built (and FastAPI imported) only when there are any.

`uvicorn kfn.app:app` serves the module-level `app`, which loads the
functions named by KFN_FUNCTIONS when the server starts it (ASGI lifespan).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from kfn import broker_ingress, codec, emitter, logs
from kfn.config import ConfigError, Settings
from kfn.dispatch import Dispatcher, Target
from kfn.lifecycle import Lifecycle, run_hook
from kfn.loader import LoadError, load_modules
from kfn.metrics import Metrics
from kfn.problems import Problem
from kfn.registry import RegistrationError, Registry, default_registry
from kfn.sink import SinkConfig

if TYPE_CHECKING:
    from kfn.local_broker import LocalBroker
    from kfn.scheduler import Scheduler

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EVENTS_PREFIX = "/events/"
READINESS_CHECK_TIMEOUT = 5.0


class StartupError(Exception):
    """The app cannot start: bad configuration or functions. The message says why."""


class ClientDisconnected(Exception):
    pass


class App:
    """The kfn host as an ASGI app.

    `settings` and `registry` default to the environment and the decorators'
    default registry; `load` imports the modules named in the settings first.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        registry: Registry | None = None,
        *,
        load: bool = True,
    ) -> None:
        self._settings = settings
        self.registry = registry if registry is not None else default_registry
        self._load = load
        self.settings: Settings = settings or Settings()
        self.metrics = Metrics()
        self.lifecycle = Lifecycle(self.settings.grace_period)
        self.dispatcher: Dispatcher | None = None
        self.http_app: ASGIApp | None = None
        self.emitter: emitter.Emitter | None = None
        self.local_broker: LocalBroker | None = None
        self.scheduler: Scheduler | None = None

    # -- lifecycle -----------------------------------------------------------------

    async def startup(self) -> None:
        """Load and check the functions, build routes, run startup hooks, turn ready."""
        try:
            self.settings = self._settings or Settings.from_env()
        except ConfigError as error:
            raise StartupError(f"invalid configuration: {error}") from None
        logs.configure(self.settings.log_level)
        self.lifecycle.grace_period = self.settings.grace_period
        try:
            if self._load:
                load_modules(self.settings.functions)
            if self.settings.service_unit:
                select_unit(self.registry, self.settings.service_unit)
            self.dispatcher = Dispatcher(self.registry, self.settings, self.metrics)
            if self.registry.http_functions:
                from kfn.http_routes import build_http_app

                self.http_app = build_http_app(self.registry)
        except (LoadError, RegistrationError, ConfigError) as error:
            raise StartupError(str(error)) from None
        self._connect_sink()
        for hook in self.registry.startup_hooks:
            try:
                await run_hook(hook)
            except Exception as error:
                raise StartupError(
                    f"startup hook {hook.name!r} raised {type(error).__name__}: {error}"
                ) from error
        self.lifecycle.install_sigterm_drain()
        self.lifecycle.started = True
        logs.event(
            logging.INFO,
            "ready",
            functions=sorted(self.registry.functions),
            service=self.settings.k_service or None,
        )
        if self.settings.schedules:
            from kfn.scheduler import Scheduler

            self.scheduler = Scheduler(self.dispatcher, self.lifecycle)
            self.scheduler.start()

    def _connect_sink(self) -> None:
        """Point `emit` at K_SINK, or at a local broker under `kfn run` (runtime/kfn/local_broker.py)."""
        assert self.dispatcher is not None
        try:
            sink = SinkConfig.from_env()
        except ConfigError as error:
            raise StartupError(f"invalid configuration: {error}") from None
        if self.settings.local_broker and sink.url is None:
            from kfn.local_broker import LocalBroker

            self.local_broker = LocalBroker(self.dispatcher, self.lifecycle)
            self.dispatcher.tap = self.local_broker  # replies go to the broker, too
        self.emitter = emitter.Emitter.from_settings(self.settings, sink, self.local_broker)
        emitter.install(self.emitter)

    async def shutdown(self) -> None:
        """Let in-flight work finish (within the grace period), then run shutdown hooks."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        self.lifecycle.draining = True
        await self.lifecycle.wait_idle(self.settings.grace_period)
        for hook in self.registry.shutdown_hooks:
            try:
                await run_hook(hook)
            except Exception as error:
                logs.event(logging.ERROR, "shutdown hook failed", error, hook=hook.name)
        if self.local_broker is not None:
            await self.local_broker.aclose()
        if self.emitter is not None:
            await self.emitter.aclose()
            if emitter.installed() is self.emitter:
                emitter.install(None)
        if self.dispatcher is not None:
            await self.dispatcher.aclose()

    # -- ASGI ----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket" and self.http_app is not None:
            await self.http_app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except StartupError as error:
                    logs.event(logging.CRITICAL, f"startup failed: {error}")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path == "/" or path.startswith(EVENTS_PREFIX):
            if scope["method"] != "POST":
                await _respond_problem(
                    send,
                    Problem(405, "method-not-allowed", "CloudEvents are delivered with POST"),
                    [(b"allow", b"POST")],
                )
                return
            await self._events(scope, receive, send, path[len(EVENTS_PREFIX) :] or None)
        elif path == "/health/liveness":
            await _respond(send, 200, [(b"content-type", b"application/json")], b'{"status":"ok"}')
        elif path == "/health/readiness":
            await self._readiness(send)
        elif path == "/metrics":
            body, content_type = self.metrics.render()
            await _respond(send, 200, [(b"content-type", content_type.encode())], body)
        elif self.http_app is not None:
            await self._user_http(scope, receive, send)
        else:
            await _respond_problem(send, Problem(404, "not-found", f"no route for {path}"))

    async def _readiness(self, send: Send) -> None:
        reason = await self._unready_reason()
        status = 503 if reason else 200
        body = {"status": "not ready", "reason": reason} if reason else {"status": "ready"}
        await _respond(
            send, status, [(b"content-type", b"application/json")], json.dumps(body).encode()
        )

    async def _unready_reason(self) -> str | None:
        """Why /health/readiness is 503, or None when ready."""
        if not self.lifecycle.started:
            return "starting"
        if self.lifecycle.draining:
            return "draining"
        for check in self.registry.readiness_checks:
            try:
                ok = await asyncio.wait_for(run_hook(check), READINESS_CHECK_TIMEOUT)
            except Exception as error:
                return f"readiness check {check.name!r} raised {type(error).__name__}"
            if ok is False:
                return f"readiness check {check.name!r} returned False"
        return None

    def _refuse_if_unavailable(self, events: bool) -> Problem | None:
        lifecycle = self.lifecycle
        if lifecycle.draining:
            return Problem(503, "draining", "the host is shutting down", retry_after=1)
        if not lifecycle.started:
            return Problem(503, "starting", "the host is still starting", retry_after=1)
        if events and lifecycle.in_flight_events >= self.settings.max_in_flight:
            return Problem(
                503,
                "overloaded",
                f"{lifecycle.in_flight_events} events in flight, the limit is "
                f"{self.settings.max_in_flight}",
                retry_after=1,
            )
        return None

    async def _user_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._refuse_if_unavailable(events=False)
        if refusal is not None:
            await _respond_problem(send, refusal)
            return
        assert self.http_app is not None
        self.lifecycle.enter(event=False)
        try:
            await self.http_app(scope, receive, send)
        except Exception as error:  # FastAPI already answered 500; log it once, our way
            logs.event(logging.ERROR, "http function failed", error, path=scope["path"])
        finally:
            self.lifecycle.leave(event=False)

    async def _events(self, scope: Scope, receive: Receive, send: Send, name: str | None) -> None:
        refusal = self._refuse_if_unavailable(events=True)
        if refusal is not None:
            _log_problem(refusal, name, None)
            await _respond_problem(send, refusal)
            return
        self.lifecycle.enter(event=True)
        event_id: str | None = None
        try:
            headers: list[tuple[bytes, bytes]] = scope["headers"]
            content_type = None
            content_length = None
            for key, value in headers:
                if key == b"content-type":
                    content_type = value
                elif key == b"content-length":
                    content_length = value
            mode = codec.detect_mode(content_type)
            body = await _read_body(receive, self.settings.max_body_bytes, content_length)
            events = codec.decode(mode, headers, body)
            replies = []
            for event in events:
                event_id = event.get_id()
                replies.extend(await self._deliver(event, name))
            if not replies:
                await _respond(send, 202, [], b"")
                return
            if mode is not codec.Mode.BATCH and len(replies) > 1:
                raise Problem(
                    500,
                    "ambiguous-reply",
                    f"{len(replies)} functions replied to one event at /; only one reply "
                    "fits a response. Deliver to /events/<function> (as the generated "
                    "Triggers do) or let only one matching function reply",
                    event_id=event_id,
                )
            reply_headers, reply_body = codec.encode(mode, replies)
            await _respond(send, 200, reply_headers, reply_body)
        except Problem as problem:
            _log_problem(problem, name, event_id)
            await _respond_problem(send, problem)
        except ClientDisconnected:
            pass
        finally:
            self.lifecycle.leave(event=True)

    async def _deliver(self, event: codec.CloudEvent, name: str | None) -> list[Any]:
        assert self.dispatcher is not None
        targets: list[Target]
        if name is None:
            if self.settings.local_broker:  # `kfn run`: `/` stands for the Broker
                event = broker_ingress.received(event)
            targets = self.dispatcher.match(event)
            if not targets:
                raise Problem(
                    404,
                    "no-matching-function",
                    f"no function's filters match this event (type {event.get_type()!r})",
                )
        else:
            target = self.dispatcher.target(name)
            if not target.spec.filter.matches(event.get_attributes()):
                raise Problem(
                    400,
                    "filter-mismatch",
                    f"the event does not match the filters of function {name!r}; its "
                    "Trigger would not have delivered it",
                )
            targets = [target]
        return await self.dispatcher.deliver(event, targets)


async def _read_body(receive: Receive, limit: int, content_length: bytes | None) -> bytes:
    """The whole body, refusing with 413 as soon as it is known to exceed `limit`."""
    if content_length is not None:
        try:
            if int(content_length) > limit:
                raise _too_large(limit)
        except ValueError:
            raise Problem(400, "invalid-content-length", "Content-Length is not a number") from None
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        if len(body) > limit:
            raise _too_large(limit)
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, "body-too-large", f"the body is larger than the limit of {limit} bytes")


def _log_problem(problem: Problem, function: str | None, event_id: str | None) -> None:
    level = logging.ERROR if problem.status >= 500 else logging.WARNING
    logs.event(
        level,
        problem.detail,
        problem.__cause__,
        status=problem.status,
        problem=problem.kind,
        function=problem.extra.get("function", function),
        event_id=problem.extra.get("event_id", event_id),
    )


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _respond_problem(
    send: Send, problem: Problem, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = problem.headers()
    if extra_headers:
        headers.extend(extra_headers)
    await _respond(send, problem.status, headers, problem.body())


def select_unit(registry: Registry, unit: str) -> None:
    """Keep only the functions of one deployment unit (KFN_SERVICE_UNIT).

    `kfn manifests` runs one image as several Knative Services when functions are
    grouped with `service=...`, and tells each Service its group. The functions
    declared with `service=<unit>` stay; when no function declares `<unit>`, it is
    the app's main Service, where the functions declared without `service=` stay.
    """
    main = all(spec.service != unit for spec in registry.functions.values())
    keep = [
        name
        for name, spec in registry.functions.items()
        if spec.service == unit or (main and spec.service is None)
    ]
    if not keep:
        raise RegistrationError(f"KFN_SERVICE_UNIT={unit!r}: no function belongs to this unit")
    for name in [name for name in registry.functions if name not in keep]:
        del registry.functions[name]


app = App()
"""The app `uvicorn kfn.app:app` serves; configured from the environment at startup."""
