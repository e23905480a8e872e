"""Fixtures for the deployment tests: small apps and their manifests.

The `crds` validator comes from tests/knative/fixtures.py: the CRDs of the pinned
Knative release, from the Serving and Eventing Go modules.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kfn.deploy import render
from kfn.deploy import settings as settings_module
from kfn.deploy.generate import Generation, generate
from kfn.deploy.settings import ProjectSettings
from kfn.registry import Registry

REPO = Path(__file__).resolve().parents[2]
IMAGE = "registry.example.com/tests/app:1.0"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: builds a fresh virtual environment; deselect with -m 'not slow'"
    )


def example_app_manifests() -> list[dict[str, Any]]:
    """The example app's manifests, from the CLI in a fresh process (a clean registry)."""
    result = subprocess.run(
        [sys.executable, "-m", "kfn", "manifests", "--stdout"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return render.load_all(result.stdout)


def make_settings(**table: Any) -> ProjectSettings:
    """ProjectSettings as `[tool.kfn]` would give them; `name` defaults to 'app'."""
    table.setdefault("name", "app")
    return settings_module.parse(table, project_dir=REPO)


@pytest.fixture
def registry() -> Registry:
    """A fresh registry, so a test's functions never leak into another's."""
    return Registry()


@pytest.fixture
def build() -> Callable[..., Generation]:
    """generate() for a registry and `[tool.kfn]` keys, with a test image."""

    def run(registry: Registry, **table: Any) -> Generation:
        return generate(make_settings(**table), registry, image=IMAGE)

    return run


def by_kind(generation: Generation, kind: str) -> list[dict[str, Any]]:
    return [m for m in generation.manifests if m["kind"] == kind]


def one(generation: Generation, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [m for m in by_kind(generation, kind) if name in (None, m["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


def kitchen_sink() -> tuple[Registry, dict[str, Any]]:
    """An app that uses every option the generator has, with the settings to match.

    Validating its manifests against the CRDs and the rules covers every shape the
    generator can emit: public and cluster-local Services, grouped units, every filter
    dialect, delivery with both kinds of dead-letter sink, all three kinds of
    PingSource data, SinkBindings, EventTypes, env from values, Secrets and ConfigMaps.
    """
    from kfn.filters import any_of, cesql, exact, not_, prefix, suffix
    from kfn.schedule import schedule

    app = Registry()

    @app.http("/hello", methods=["GET"])
    async def hello() -> dict[str, str]:
        return {}

    @app.http("/internal", methods=["POST"], public=False, service="backoffice")
    async def internal() -> dict[str, str]:
        return {}

    @app.cloudevent(type="com.example.order.created", reply_type="com.example.invoice.created")
    async def bill(event: Any) -> None:
        return None

    @app.cloudevent(
        filters=[
            prefix(type="com.example."),
            suffix(source="/eu"),
            not_(exact(subject="test")),
            any_of(exact(type="com.example.a"), cesql("subject LIKE 'eu-%'")),
        ],
        service="backoffice",
        emits=["com.example.audit.logged"],
        timeout=120,
        delivery={
            "retry": 1,
            "dead_letter_sink": {
                "api-version": "serving.knative.dev/v1",
                "kind": "Service",
                "name": "dlq",
            },
        },
    )
    def audit(event: Any) -> None:
        return None

    @app.cloudevent(
        type="com.example.legacy",
        source="/legacy",
        delivery={
            "dead-letter-sink": "http://dlq.default.svc.cluster.local",
            "backoff_policy": "linear",
            "backoff_delay": "PT1S",
        },
    )
    async def legacy(event: Any) -> None:
        return None

    @schedule("*/5 * * * *", timezone="Europe/Berlin", data={"k": "v"}, registry=app)
    async def sweep(event: Any) -> None:
        return None

    @schedule("0 0 3 * * mon-fri", data=b"\x00\x01", service="backoffice", registry=app)
    async def binary_report(event: Any) -> None:
        return None

    @schedule("@daily", data="hello", emits=["com.example.daily"], registry=app)
    async def daily(event: Any) -> None:
        return None

    table: dict[str, Any] = {
        "name": "shop",
        "namespace": "shop-ns",
        "broker": "events",
        "functions": ["functions", "more.handlers"],
        "scale": {
            "class": "kpa.autoscaling.knative.dev",
            "min-scale": 0,
            "max-scale": 10,
            "initial-scale": 1,
            "activation-scale": 2,
            "metric": "concurrency",
            "target": 50,
            "target-utilization-percentage": 70,
            "target-burst-capacity": 200,
            "window": "60s",
            "panic-window-percentage": 10.5,
            "panic-threshold-percentage": 200,
            "scale-down-delay": "5m",
            "scale-to-zero-pod-retention-period": "1m30s",
            "metric-aggregation-algorithm": "linear",
        },
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": 1}},
        "env": {
            "LOG_FORMAT": "json",
            "WORKERS": 2,
            "DB_URL": {"secret": "shop-db", "key": "url"},
            "FLAGS": {"config-map": "shop-flags", "key": "flags"},
        },
        "secrets": ["shop-api"],
        "config-maps": ["shop-config"],
        "delivery": {"retry": 3, "backoff-policy": "exponential", "backoff-delay": "200ms"},
        "services": {
            "backoffice": {
                "scale": {"min-scale": 1},
                "container-concurrency": 10,
                "timeout-seconds": 300,
                "service-account": "backoffice",
            }
        },
    }
    return app, table
