"""Idempotent functions: one run per event across redeliveries and replicas.

`@cloudevent(..., idempotent=True)` (and `@schedule`) run under a claim in a store:
in memory by default, or Redis (KFN_IDEMPOTENCY_STORE=redis://...) when several
replicas share the work. `guard.py` holds the state machine; the stores hold keys.
"""

from __future__ import annotations

from kfn._errors import ConfigError
from kfn.config import Settings
from kfn.idempotency.guard import Duplicate, Idempotency
from kfn.idempotency.memory_store import MemoryStore
from kfn.idempotency.store import Held, Store, StoreUnavailable


def open_store(url: str) -> Store:
    """The store KFN_IDEMPOTENCY_STORE names; Redis needs the `idempotency` extra."""
    if url == "memory":
        return MemoryStore()
    try:
        from kfn.idempotency.redis_store import RedisStore
    except ImportError:
        raise ConfigError(
            "KFN_IDEMPOTENCY_STORE is a Redis URL but the redis client is not installed: "
            "pip install 'kfn-host[idempotency]'"
        ) from None
    try:
        return RedisStore(url)
    except ValueError:  # redis-py's URL parser
        raise ConfigError("KFN_IDEMPOTENCY_STORE is not a valid Redis URL") from None


def from_settings(settings: Settings) -> Idempotency:
    return Idempotency(open_store(settings.idempotency_store), settings.idempotency_ttl)


__all__ = [
    "Duplicate",
    "Held",
    "Idempotency",
    "MemoryStore",
    "Store",
    "StoreUnavailable",
    "from_settings",
    "open_store",
]
