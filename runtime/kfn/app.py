"""The ASGI application: where every request enters, and what composes the host.

CloudEvents (`POST /`, `POST /events/<function>`), the probes and /metrics are
served on plain ASGI, so an event passes through no machinery it does not need.
Everything else goes to a FastAPI app holding the `@http` functions, built (and
FastAPI imported) only when there are any.

`uvicorn kfn.app:app` serves the module-level `app`, which loads the functions
named by KFN_FUNCTIONS when the server starts it (ASGI lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from kfn import _probes, emitter, logs
from kfn._asgi import ASGIApp, Receive, Scope, Send, respond_problem
from kfn._errors import (
    ConfigError,
    EventError,
    LoadError,
    RegistrationError,
    StartupError,
    Unavailable,
)
from kfn._events import answer_error
from kfn._inflight import InFlight
from kfn._startup import Parts, wire
from kfn._units import select_unit
from kfn.config import Settings
from kfn.lifecycle import Lifecycle, run_hook
from kfn.loader import load_functions
from kfn.metrics import Metrics
from kfn.problems import Problem, not_found
from kfn.registry import Registry, default_registry

if TYPE_CHECKING:
    from kfn.console import Console
    from kfn.dispatch import Dispatcher
    from kfn.local_broker import LocalBroker
    from kfn.local_schedules import Scheduler
    from kfn.otel import SpanExporter
    from kfn.routing import Router

EVENTS_PREFIX = "/events/"
METHOD_NOT_ALLOWED = Problem(405, "method-not-allowed", "CloudEvents are delivered with POST")
CUT_OFF = Problem(
    503, "shutting-down", "the host shut down before it finished the request", retry_after=1
)


def event_path(path: str) -> tuple[bool, str | None]:
    """Whether `path` is the event endpoint's (`/`, `/events/<function>`), and its function."""
    if path == "/" or path.startswith(EVENTS_PREFIX):
        return True, path[len(EVENTS_PREFIX) :] or None
    return False, None


class App:
    """The kfn host as an ASGI app.

    `settings` and `registry` default to the environment (read at startup) and the
    decorators' default registry; `load` imports the modules named in the settings.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        registry: Registry | None = None,
        *,
        load: bool = True,
    ) -> None:
        self._given_settings = settings
        self._load = load
        self.registry = registry if registry is not None else default_registry
        in_flight = InFlight()
        self.metrics = Metrics(in_flight)
        self.lifecycle = Lifecycle(in_flight)
        self.settings: Settings | None = settings
        self.parts: Parts | None = None
        self.span_exporter: SpanExporter | None = None
        self.console: Console | None = None
        self.serves_root = False  # an @http function on / (any method but POST)

    # -- the running host's parts, once started ------------------------------------

    @property
    def dispatcher(self) -> Dispatcher | None:
        return self.parts.dispatcher if self.parts is not None else None

    @property
    def router(self) -> Router | None:
        return self.parts.router if self.parts is not None else None

    @property
    def local_broker(self) -> LocalBroker | None:
        return self.parts.local_broker if self.parts is not None else None

    @property
    def scheduler(self) -> Scheduler | None:
        return self.parts.scheduler if self.parts is not None else None

    @property
    def emitter(self) -> emitter.Emitter | None:
        return self.parts.emitter if self.parts is not None else None

    @property
    def http_app(self) -> ASGIApp | None:
        return self.parts.http_app if self.parts is not None else None

    # -- lifecycle -----------------------------------------------------------------

    async def startup(self) -> None:
        """Load and check the functions, build routes, run startup hooks, turn ready."""
        try:
            settings = self._given_settings or Settings.from_env()
        except ConfigError as error:
            raise StartupError(f"invalid configuration: {error}") from None
        self.settings = settings
        logs.configure(settings.log_level, settings.log_format or None)
        from kfn import otel  # imports OpenTelemetry only when OTEL_* asks for export

        self.span_exporter = otel.start()
        try:
            if self._load:
                load_functions(settings.functions, self.registry)
            if settings.service_unit:
                self.registry = select_unit(self.registry, settings.service_unit)
            parts = wire(settings, self.registry, self.lifecycle, self.metrics)
        except (LoadError, RegistrationError, ConfigError) as error:
            raise StartupError(str(error)) from None
        self.parts = parts
        self.serves_root = any(f.path == "/" for f in self.registry.http_functions)
        emitter.serving(parts.emitter)  # startup hooks and the scheduler's timers emit to it
        for hook in self.registry.startup_hooks:
            try:
                await run_hook(hook)
            except Exception as error:
                raise StartupError(
                    f"startup hook {hook.name!r} raised {type(error).__name__}: {error}"
                ) from error
        if settings.console and not settings.k_service:
            self._open_console(settings)
        self.lifecycle.started = True
        self.metrics.ready()
        logs.event(
            logging.INFO,
            "ready",
            functions=sorted(self.registry.functions),
            service=settings.k_service or None,
        )
        if parts.scheduler is not None:
            parts.scheduler.start()

    def _open_console(self, settings: Settings) -> None:
        """The dev console at /_kfn/ (runtime/kfn/console/), never on Knative."""
        from kfn.console import Console

        self.console = Console(self)
        host = os.environ.get("KFN_HOST", "127.0.0.1")
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        logs.event(logging.INFO, "dev console", url=f"http://{host}:{settings.port}/_kfn/")

    async def drain(self, reason: str) -> bool:
        """Refuse new work and let in-flight work finish within the grace period (SIGTERM)."""
        grace_period = (self.settings or Settings()).grace_period
        return await self.lifecycle.drain(grace_period, reason)

    async def shutdown(self) -> None:
        """Let in-flight work finish (within the grace period), then run shutdown hooks."""
        parts = self.parts
        if self.console is not None:
            self.console.close()
        if parts is not None and parts.scheduler is not None:
            await parts.scheduler.stop()
        await self.drain("shutdown")  # after SIGTERM's drain: only what is left of its deadline
        for hook in self.registry.shutdown_hooks:
            try:
                await run_hook(hook)
            except Exception as error:
                logs.event(logging.ERROR, "shutdown hook failed", error, hook=hook.name)
        logs.flush_limited()  # the count of refusals still held back
        if self.span_exporter is not None:
            from kfn import otel

            await asyncio.to_thread(otel.stop, self.span_exporter)
        if parts is None:
            return
        if parts.local_broker is not None:
            await parts.local_broker.aclose()
        await parts.emitter.aclose()
        await parts.dispatcher.aclose()

    # -- ASGI ----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._serve(self._http(scope, receive, send), send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":  # no function takes one: its handshake is refused (403)
            await send({"type": "websocket.close", "code": 1008})

    def takes_event(self, method: str, path: str) -> tuple[bool, str | None]:
        """Whether `method path` goes to the event endpoint now, and for which function.

        The protocol asks this to hand such a request to `deliver` (kfn._event_lane)
        instead of through ASGI; it is `_http`'s own choice, made before the request.
        """
        if method != "POST" or self.parts is None:
            return False, None
        return event_path(path)

    async def deliver(
        self, scope: Scope, receive: Receive, send: Send, function: str | None
    ) -> None:
        """An event request `takes_event` accepted: the http branch of `__call__` without routing."""
        assert self.parts is not None
        await self._serve(self.parts.events(scope, receive, send, function), send)

    async def _serve(self, handling: Awaitable[None], send: Send) -> None:
        """One request's handling, with `emit` reaching our sink; cut off by shutdown, a 503."""
        serving = emitter.serving(self.emitter)
        try:
            await handling
        except asyncio.CancelledError:  # a 503 to retry, not uvicorn's 500
            await self._cut_off(send)
        finally:
            emitter.restore(serving)

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
        parts = self.parts
        is_event_path, function = event_path(path)
        if is_event_path:
            if scope["method"] != "POST" and path == "/" and self.serves_root:
                assert parts is not None and parts.http_app is not None
                await self._user_http(parts, parts.http_app, scope, receive, send)
            elif scope["method"] != "POST":
                self.metrics.refuse(METHOD_NOT_ALLOWED.kind, METHOD_NOT_ALLOWED.status)
                await respond_problem(send, METHOD_NOT_ALLOWED, [(b"allow", b"POST")])
            elif parts is None:
                await self._refuse(send, function)
            else:
                await parts.events(scope, receive, send, function)
        elif path == _probes.LIVENESS_PATH:
            await _probes.liveness(send)
        elif path == _probes.READINESS_PATH:
            if parts is not None and parts.http_app is not None and parts.http_app.failure:
                await _probes.unready(send, "the HTTP functions cannot be served")
            else:
                await _probes.readiness(send, self.lifecycle, self.registry.readiness_checks)
        elif path == _probes.METRICS_PATH:
            await _probes.metrics(send, self.metrics)
        elif self.console is not None and (path == "/_kfn" or path.startswith("/_kfn/")):
            await self.console(scope, receive, send)
        elif parts is not None and parts.http_app is not None:
            await self._user_http(parts, parts.http_app, scope, receive, send)
        else:
            await respond_problem(send, not_found(path))

    async def _cut_off(self, send: Send) -> None:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        self.metrics.refuse(CUT_OFF.kind, CUT_OFF.status)
        with contextlib.suppress(RuntimeError):  # the answer had started: uvicorn closes
            await respond_problem(send, CUT_OFF, [(b"connection", b"close")])

    async def _refuse(self, send: Send, function: str | None) -> None:
        """Answer an event that arrived before startup (or after a failed one)."""
        self.metrics.refuse("starting", 503)
        await answer_error(
            send, Unavailable("starting", "the host is still starting"), function, None
        )

    async def _user_http(
        self, parts: Parts, http_app: ASGIApp, scope: Scope, receive: Receive, send: Send
    ) -> None:
        try:
            parts.backpressure.check(event=False)
        except EventError as refusal:
            problem = Problem.of(refusal)
            self.metrics.refuse(problem.kind, problem.status)
            await respond_problem(send, problem)
            return
        in_flight = self.lifecycle.in_flight
        in_flight.enter(event=False)
        try:
            await http_app(scope, receive, send)
        except Exception as error:  # FastAPI already answered 500; log it once, our way
            logs.event(logging.ERROR, "http function failed", error, path=scope["path"])
        finally:
            in_flight.leave(event=False)


app = App()
"""The app `uvicorn kfn.app:app` serves; configured from the environment at startup."""
