"""The Redis store: claims shared by every replica, with the `redis` client's asyncio API.

The claim is one Lua script (SET NX PX, else read the holder and its PTTL) so that
taking a key and learning who holds it is atomic; record and release are scripts
that act only while the claim's token is still in place. Imported only when
KFN_IDEMPOTENCY_STORE is a Redis URL (`pip install 'kfn-host[idempotency]'`).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from kfn.idempotency.store import Held, StoreUnavailable

CLAIMED = "c:"
RECORDED = b"d:"

_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
"""
_RECORD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""


class RedisStore:
    """Claims and records as Redis string keys that expire on their own."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        # One immediate retry: a pooled connection may have died with a Redis restart.
        self.redis: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._claim = self.redis.register_script(_CLAIM)
        self._record = self.redis.register_script(_RECORD)
        self._release = self.redis.register_script(_RELEASE)

    async def claim(self, key: str, token: str, lease: float) -> Held | None:
        held = await self._run(self._claim, [key], [CLAIMED + token, _millis(lease)])
        if held is None:
            return None
        value, pttl = held
        if value is None:  # pragma: no cover - the script runs atomically
            return Held(None, 0.0)
        remaining = max(0.0, int(pttl) / 1000)
        if value.startswith(RECORDED):
            return Held(bytes(value[len(RECORDED) :]), remaining)
        return Held(None, remaining)

    async def record(self, key: str, token: str, outcome: bytes, ttl: float) -> bool:
        done = await self._run(
            self._record, [key], [CLAIMED + token, RECORDED + outcome, _millis(ttl)]
        )
        return bool(done)

    async def release(self, key: str, token: str) -> bool:
        return bool(await self._run(self._release, [key], [CLAIMED + token]))

    async def aclose(self) -> None:
        await self.redis.aclose()

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as error:
            raise StoreUnavailable(type(error).__name__) from error


def _millis(seconds: float) -> int:
    return max(1, round(seconds * 1000))
