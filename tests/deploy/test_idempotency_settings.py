"""[tool.kfn.idempotency]: the store's URL reaches the Service from a Secret, never as a literal."""

from __future__ import annotations

from typing import Any

import pytest

from kfn.deploy.generate import Generation
from kfn.deploy.settings import SettingsError
from kfn.registry import Registry
from tests.deploy.conftest import make_settings, one

STORE = {"store": {"secret": "shop-redis", "key": "url"}, "ttl": "2h"}


def _idempotent(registry: Registry, **options: Any) -> None:
    @registry.cloudevent(type="com.example.order.created", idempotent=True, **options)
    async def bill(event: Any) -> None:
        return None


def _env(generation: Generation, name: str = "app") -> list[dict[str, Any]]:
    container = one(generation, "Service", name)["spec"]["template"]["spec"]["containers"][0]
    env: list[dict[str, Any]] = container.get("env", [])
    return env


def test_the_store_url_comes_from_the_secret_key(registry: Registry, build: Any) -> None:
    _idempotent(registry)
    generation = build(registry, idempotency=STORE)
    assert _env(generation) == [
        {
            "name": "KFN_IDEMPOTENCY_STORE",
            "valueFrom": {"secretKeyRef": {"name": "shop-redis", "key": "url"}},
        },
        {"name": "KFN_IDEMPOTENCY_TTL", "value": "2h"},
    ]
    assert generation.warnings == []


def test_every_service_of_a_grouped_app_gets_the_store(registry: Registry, build: Any) -> None:
    _idempotent(registry, service="billing")
    registry.cloudevent(type="t.audit", name="audit")(lambda event: None)
    generation = build(registry, idempotency=STORE)
    for name in ("app", "billing"):
        assert _env(generation, name)[-2]["name"] == "KFN_IDEMPOTENCY_STORE"


def test_a_literal_store_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(SettingsError, match="from a Secret") as caught:
        make_settings(idempotency={"store": "redis://:hunter2@redis:6379/0"})
    assert "hunter2" not in str(caught.value)


def test_the_store_cannot_be_set_through_env() -> None:
    with pytest.raises(
        SettingsError, match=r"tool\.kfn\.env\.KFN_IDEMPOTENCY_STORE: is set by kfn itself"
    ):
        make_settings(env={"KFN_IDEMPOTENCY_STORE": "redis://redis:6379/0"})


def test_a_wrong_ttl_names_the_key() -> None:
    with pytest.raises(SettingsError, match=r"tool\.kfn\.idempotency\.ttl = 'soon'"):
        make_settings(idempotency={**STORE, "ttl": "soon"})


def test_idempotent_functions_on_several_replicas_without_a_store_are_warned_about(
    registry: Registry, build: Any
) -> None:
    _idempotent(registry)
    (warning,) = build(registry).warnings
    assert "bill" in warning and "[tool.kfn.idempotency] store" in warning
    assert build(registry, scale={"max-scale": 1}).warnings == []
