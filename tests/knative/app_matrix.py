"""Apps that together use every decorator option and every `[tool.kfn]` key.

Each entry is (registry, `[tool.kfn]` table). The admission suite sends every
manifest they generate through Knative's webhooks; its coverage test checks that the
matrix really uses every option the decorators and the settings declare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kfn.filters import all_of, any_of, cesql, exact, not_, prefix, suffix
from kfn.registry import Registry
from kfn.schedule import schedule
from tests.deploy.conftest import kitchen_sink

App = tuple[Registry, dict[str, Any]]

DECORATOR_OPTIONS: dict[str, set[str]] = {"http": set(), "cloudevent": set(), "schedule": set()}
"""The keyword options each decorator is called with somewhere in the matrix."""

SCALE_KEYS_USED: set[str] = set()


def _uses(decorator: str, *options: str) -> None:
    DECORATOR_OPTIONS[decorator].update(options)


def defaults_only() -> App:
    """One function and a name: every default the generator has."""
    app = Registry()

    @app.http("/ping")
    async def ping() -> dict[str, str]:
        return {}

    _uses("http", "path")
    return app, {"name": "tiny"}


def every_event_option() -> App:
    """Event and schedule options the kitchen sink leaves out, and the remaining keys."""
    app = Registry()

    @app.http("/report", methods=["POST"], name="report-api", summary="a route option")
    async def report() -> dict[str, str]:
        return {}

    @app.cloudevent(
        type="com.example.report.requested",
        reply_type="com.example.report.ready",
        reply_source="/reports",
        name="make-report",
        timeout=30,
        idempotent=True,
        idempotency_key=lambda event: str(event["id"]),
        delivery={"retry": 2, "timeout": "PT10S", "dead_letter_sink": "http://dlq.reports.svc"},
    )
    async def make_report(event: Any) -> None:
        return None

    @schedule(
        "30 2 * * *",
        timezone="America/New_York",
        data="<report/>",
        content_type="application/xml",
        name="night-report",
        timeout=60,
        registry=app,
    )
    async def night_report(event: Any) -> None:
        return None

    _uses("http", "path", "methods", "name", "route_options")
    _uses(
        "cloudevent",
        "attributes",
        "reply_type",
        "reply_source",
        "name",
        "timeout",
        "delivery",
        "idempotent",
        "idempotency_key",
    )
    _uses("schedule", "cron", "timezone", "data", "content_type", "name", "timeout", "registry")
    table = {
        "name": "reports",
        "image": "registry.example.com/reports:2.1",
        "output": "deploy-reports",
        "python-version": "3.12",
        "base-image": "registry.example.com/python:3.12-slim",
        "extras": ["redis"],
        "port": 8181,
        "event-types": False,
        "delivery": {"retry": 5, "timeout": "2s", "dead-letter-sink": "http://dlq.default.svc"},
        "container-concurrency": 4,
        "timeout-seconds": 90,
        "grace-period": "20s",
        "service-account": "reports-runner",
        "idempotency": {"store": {"secret": "reports-redis", "key": "url"}, "ttl": "2h"},
    }
    return app, table


def cesql_and_nesting() -> App:
    """Every filter dialect nested in the others, CESQL with operators and functions."""
    app = Registry()

    @app.cloudevent(
        filters=[
            all_of(prefix(type="com.example."), not_(suffix(source="/test"))),
            any_of(
                exact(subject="a", datacontenttype="application/json"),
                cesql("EXISTS region AND region IN ('eu', 'us')"),
                not_(any_of(prefix(id="x"), cesql("LENGTH(subject) > 3"))),
            ),
            cesql("UPPER(type) LIKE 'COM.EXAMPLE.%' OR NOT (source = '/legacy')"),
            cesql("CONCAT(source, '-', subject) <> '' AND ABS(-3) = 3"),
        ]
    )
    async def routed(event: Any) -> None:
        return None

    _uses("cloudevent", "filters")
    return app, {"name": "routes", "namespace": "routing"}


def private_groups() -> App:
    """Cluster-local Services only, several groups with their own unit settings."""
    app = Registry()

    @app.http("/a", public=False, service="alpha")
    async def a() -> dict[str, str]:
        return {}

    @app.http("/b", public=False, service="beta")
    async def b() -> dict[str, str]:
        return {}

    @app.cloudevent(type="com.example.b", service="beta", emits=["com.example.c"])
    async def on_b(event: Any) -> None:
        return None

    @schedule(
        "@hourly",
        service="alpha",
        emits=["com.example.tick"],
        idempotent=True,
        idempotency_key=lambda event: str(event["time"]),
        registry=app,
    )
    async def tick(event: Any) -> None:
        return None

    _uses("http", "path", "public", "service")
    _uses("cloudevent", "attributes", "service", "emits")
    _uses("schedule", "cron", "service", "emits", "idempotent", "idempotency_key", "registry")
    scale = {"class": "hpa.autoscaling.knative.dev", "metric": "cpu", "target": 75}
    SCALE_KEYS_USED.update(scale)
    table = {
        "name": "private",
        "services": {
            "alpha": {"scale": scale, "resources": {"limits": {"cpu": "500m"}}},
            "beta": {
                "env": {"MODE": "beta"},
                "secrets": ["beta-keys"],
                "config-maps": ["beta-config"],
                "container-concurrency": 1,
                "timeout-seconds": 120,
                "grace-period": 45,
                "service-account": "beta-runner",
            },
        },
        "idempotency": {"store": {"secret": "private-redis", "key": "url"}},
    }
    return app, table


def exposed_with_identity() -> App:
    """A public Service with event functions, kept whole: sender identity guards its events."""
    app = Registry()

    @app.http("/status")
    async def status() -> dict[str, str]:
        return {}

    @app.cloudevent(type="com.example.paid")
    async def paid(event: Any) -> None:
        return None

    @schedule("*/10 * * * *", registry=app)
    async def sweep(event: Any) -> None:
        return None

    return app, {"name": "guarded", "sender-identity": True}


def exposed_by_choice() -> App:
    """A public Service that takes events from anywhere, as its settings opt in to."""
    app, _ = exposed_with_identity()
    return app, {"name": "open", "public-events": True}


def _kitchen_sink() -> App:
    app, table = kitchen_sink()
    _uses("http", "path", "methods", "public", "service")
    _uses(
        "cloudevent",
        "attributes",
        "filters",
        "reply_type",
        "service",
        "emits",
        "timeout",
        "delivery",
    )
    _uses("schedule", "cron", "timezone", "data", "service", "emits", "registry")
    SCALE_KEYS_USED.update(table["scale"])
    return app, table


MATRIX: dict[str, Callable[[], App]] = {
    "kitchen-sink": _kitchen_sink,
    "defaults-only": defaults_only,
    "every-event-option": every_event_option,
    "cesql-and-nesting": cesql_and_nesting,
    "private-groups": private_groups,
    "exposed-with-identity": exposed_with_identity,
    "exposed-by-choice": exposed_by_choice,
}
