"""Idempotency pieces on their own: declarations, settings, the bounded memory store, keys."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kfn import CloudEvent, ConfigError, RegistrationError, Registry, schedule
from kfn._errors import FunctionFailed
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.idempotency import MemoryStore, open_store
from kfn.idempotency.guard import key_of, lease_for
from kfn.metrics import Metrics
from kfn.problems import status_of
from kfn.testing import event


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_idempotency_key_without_idempotent_is_refused() -> None:
    with pytest.raises(RegistrationError, match="idempotency_key= needs idempotent=True"):
        Registry().cloudevent(type="t", idempotency_key=lambda e: "k")(lambda e: None)


def test_an_async_idempotency_key_is_refused() -> None:
    async def key(event: CloudEvent) -> str:
        return "k"

    with pytest.raises(RegistrationError, match="plain function"):
        schedule("@daily", idempotent=True, idempotency_key=key, registry=Registry())(  # type: ignore[arg-type]
            lambda e: None
        )


def test_the_store_and_ttl_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"KFN_IDEMPOTENCY_STORE": "redis://:secret@redis:6379/2", "KFN_IDEMPOTENCY_TTL": "2h"}
    )
    assert settings.idempotency_store == "redis://:secret@redis:6379/2"
    assert settings.idempotency_ttl == 7200.0
    assert Settings.from_env({}).idempotency_store == "memory"


def test_the_settings_never_show_the_store_url() -> None:
    settings = Settings.from_env({"KFN_IDEMPOTENCY_STORE": "redis://:hunter2@redis:6379/0"})
    assert "hunter2" not in repr(settings)


def test_a_store_that_is_not_a_redis_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="KFN_IDEMPOTENCY_STORE") as caught:
        Settings.from_env({"KFN_IDEMPOTENCY_STORE": "postgres://u:hunter2@db/x"})
    assert "hunter2" not in str(caught.value)


def test_a_malformed_redis_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="not a valid Redis URL"):
        open_store("redis://host:notaport/0")


async def test_the_memory_store_evicts_the_oldest_entry_when_full() -> None:
    store = MemoryStore(max_entries=2)
    for key in ("a", "b", "c"):
        assert await store.claim(key, "t", 10) is None
    assert len(store) == 2
    assert await store.claim("a", "t2", 10) is None  # "a" was evicted
    assert await store.claim("c", "t2", 10) is not None


async def test_a_memory_claim_expires_after_its_lease() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    assert await store.claim("k", "first", 2.0) is None
    held = await store.claim("k", "second", 2.0)
    assert held is not None and held.outcome is None and held.remaining == 2.0
    clock.now = 2.5
    assert await store.claim("k", "second", 2.0) is None
    assert await store.record("k", "first", b"{}", 60) is False  # the first lost its claim
    assert await store.record("k", "second", b"{}", 60) is True


def test_a_claim_lasts_the_timeout_plus_a_margin() -> None:
    assert lease_for(1.0) == 2.0
    assert lease_for(60.0) == 66.0


def test_keys_are_scoped_by_function_and_a_failing_key_function_is_a_500() -> None:
    registry = Registry()
    registry.cloudevent(type="t", idempotent=True, name="first")(lambda e: None)
    registry.cloudevent(type="t", idempotent=True, name="other")(lambda e: None)
    registry.cloudevent(
        type="t", idempotent=True, name="keyed", idempotency_key=lambda e: e.get_data()["k"]
    )(lambda e: None)
    dispatcher = Dispatcher(registry, Settings(), Metrics())
    sent = event("t", {"x": 1})
    first, other, keyed = (dispatcher.targets[n] for n in ("first", "other", "keyed"))
    assert key_of(first, sent) != key_of(other, sent)
    assert key_of(first, sent).startswith("kfn:idempotency:first:")
    with pytest.raises(FunctionFailed) as caught:
        key_of(keyed, sent)
    assert status_of(caught.value) == 500 and caught.value.kind == "idempotency-key-error"


def test_without_idempotent_functions_nothing_of_idempotency_is_imported() -> None:
    code = (
        "import sys, kfn.app, kfn.dispatch\n"
        "from kfn.registry import Registry\n"
        "from kfn.config import Settings\n"
        "from kfn.metrics import Metrics\n"
        "kfn.dispatch.Dispatcher(Registry(), Settings(), Metrics())\n"
        "print(sorted(m for m in sys.modules if m.startswith(('kfn.idempotency', 'redis'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
