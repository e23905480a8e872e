"""Startup wiring: the parts of a running host, built once from its settings and registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfn import emitter
from kfn._admission import admission
from kfn._backpressure import Backpressure
from kfn._errors import ConfigError, StartupError
from kfn._events import EventEndpoint
from kfn._http_side import HttpSide, builds_lazily, check_routes
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.lifecycle import Lifecycle
from kfn.metrics import Metrics
from kfn.registry import Registry
from kfn.routing import Router
from kfn.sink import SinkConfig

if TYPE_CHECKING:
    from kfn.local_broker import LocalBroker
    from kfn.local_schedules import Scheduler


@dataclass
class Parts:
    """What serves requests once the host started."""

    dispatcher: Dispatcher
    router: Router
    events: EventEndpoint
    backpressure: Backpressure
    emitter: emitter.Emitter
    http_app: HttpSide | None = None
    local_broker: LocalBroker | None = None
    scheduler: Scheduler | None = None


def wire(settings: Settings, registry: Registry, lifecycle: Lifecycle, metrics: Metrics) -> Parts:
    """Build routes and the sink; raises RegistrationError or StartupError."""
    dispatcher = Dispatcher(registry, settings, metrics, lifecycle.in_flight)
    if not settings.k_service:
        # Off Knative, models that defer their build are built now, so a broken one stops
        # the start here instead of failing its events once deployed (kfn.binding).
        for target in dispatcher.targets.values():
            target.binding.build()
    router = Router(dispatcher)
    backpressure = Backpressure(lifecycle, lifecycle.in_flight, settings.max_in_flight)
    http_app: HttpSide | None = None
    if registry.http_functions:
        check_routes(registry)
        http_app = HttpSide(registry)
        # With its event endpoints off (a public Service of a split unit) it serves HTTP only.
        events_on_knative = bool(settings.k_service) and settings.event_endpoints
        if not builds_lazily(registry, on_knative=events_on_knative):
            http_app.build()
    try:
        sink = SinkConfig.from_env()
    except ConfigError as error:
        raise StartupError(f"invalid configuration: {error}") from None
    local_broker: LocalBroker | None = None
    if settings.local_broker and sink.url is None:
        # Under `kfn run` with no K_SINK, emits and replies go to the local broker.
        from kfn.local_broker import LocalBroker

        local_broker = LocalBroker(router, lifecycle)
        dispatcher.reply_observer = local_broker
    scheduler: Scheduler | None = None
    if settings.schedules:
        from kfn.local_schedules import Scheduler

        scheduler = Scheduler(router, lifecycle)
    sender = emitter.Emitter.from_settings(settings, sink, local_broker)
    sender.metrics = metrics
    return Parts(
        dispatcher=dispatcher,
        router=router,
        events=EventEndpoint(
            router,
            backpressure,
            lifecycle.in_flight,
            settings.max_body_bytes,
            as_broker=settings.local_broker,
            metrics=metrics,
            admit=admission(settings),
        ),
        backpressure=backpressure,
        emitter=sender,
        http_app=http_app,
        local_broker=local_broker,
        scheduler=scheduler,
    )
