"""Both stores keep the same contract: one claim per key, token-checked writes, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from kfn.idempotency import MemoryStore, Store, open_store
from tests.conftest import free_port
from tests.idempotency.conftest import RedisServer, redis_binary


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer(redis_binary(), free_port())
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        opened: Store = MemoryStore()
    else:
        opened = open_store(request.getfixturevalue("redis_url"))
        await opened.redis.flushdb()  # type: ignore[attr-defined]
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_a_second_claim_sees_the_first_in_progress(store: Store) -> None:
    assert await store.claim("k", "first", 5.0) is None
    held = await store.claim("k", "second", 5.0)
    assert held is not None and held.outcome is None and 4.0 < held.remaining <= 5.0


async def test_a_recorded_outcome_is_what_a_later_claim_sees(store: Store) -> None:
    assert await store.claim("k", "first", 5.0) is None
    assert await store.record("k", "first", b'{"status":202}', 60.0) is True
    held = await store.claim("k", "second", 5.0)
    assert held is not None and held.outcome == b'{"status":202}' and held.remaining > 50


async def test_a_released_claim_can_be_taken_again(store: Store) -> None:
    assert await store.claim("k", "first", 5.0) is None
    assert await store.release("k", "first") is True
    assert await store.claim("k", "second", 5.0) is None


async def test_only_the_claim_holder_may_record_or_release(store: Store) -> None:
    assert await store.claim("k", "first", 5.0) is None
    assert await store.record("k", "other", b"{}", 60.0) is False
    assert await store.release("k", "other") is False
    held = await store.claim("k", "second", 5.0)
    assert held is not None and held.outcome is None


async def test_an_expired_claim_goes_to_the_next_and_the_late_owner_cannot_overwrite(
    store: Store,
) -> None:
    assert await store.claim("k", "first", 0.1) is None
    await asyncio.sleep(0.15)
    assert await store.claim("k", "second", 5.0) is None
    assert await store.record("k", "first", b'{"status":202}', 60.0) is False
    held = await store.claim("k", "third", 5.0)
    assert held is not None and held.outcome is None  # still the second's claim
