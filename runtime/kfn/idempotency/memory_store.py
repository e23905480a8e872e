"""The in-memory store: one process, bounded, for `kfn run`, tests and a single replica."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from kfn.idempotency.store import Held

DEFAULT_MAX_ENTRIES = 10_000


class MemoryStore:
    """Claims and records in a dict, oldest evicted first when it holds `max_entries`.

    Expired entries are dropped when touched and before anything is evicted.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self._clock = clock
        # key -> (token or None once recorded, outcome or None while claimed, expiry)
        self._entries: OrderedDict[str, tuple[str | None, bytes | None, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, key: str, token: str, lease: float) -> Held | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None:
            if entry[2] > now:
                return Held(entry[1], entry[2] - now)
            del self._entries[key]
        self._make_room(now)
        self._entries[key] = (token, None, now + lease)
        return None

    async def record(self, key: str, token: str, outcome: bytes, ttl: float) -> bool:
        if not self._owns(key, token):
            return False
        self._entries[key] = (None, outcome, self._clock() + ttl)
        self._entries.move_to_end(key)
        return True

    async def release(self, key: str, token: str) -> bool:
        if not self._owns(key, token):
            return False
        del self._entries[key]
        return True

    async def aclose(self) -> None:
        self._entries.clear()

    def _owns(self, key: str, token: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry[0] == token and entry[2] > self._clock()

    def _make_room(self, now: float) -> None:
        if len(self._entries) < self.max_entries:
            return
        for key in [k for k, entry in self._entries.items() if entry[2] <= now]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            self._entries.popitem(last=False)
