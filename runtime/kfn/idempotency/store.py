"""What an idempotency store does: claim a key, record an outcome, release a claim.

A key is either free, claimed (a delivery is running the function, until the lease
runs out) or recorded (the function finished; the outcome is kept for the TTL).
Every write after the claim names the claim's token, so a delivery whose claim
expired and was taken by another cannot overwrite that other's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class StoreUnavailable(Exception):
    """The store could not be reached or answered with an error; nothing was changed."""


@dataclass(frozen=True)
class Held:
    """A key someone else holds: a running claim (`outcome` None) or a recorded outcome."""

    outcome: bytes | None
    remaining: float
    """Seconds until the claim or the record expires."""


class Store(Protocol):
    async def claim(self, key: str, token: str, lease: float) -> Held | None:
        """Take `key` for `lease` seconds; None when taken, else who holds it."""
        ...

    async def record(self, key: str, token: str, outcome: bytes, ttl: float) -> bool:
        """Replace our claim with the outcome for `ttl` seconds; False when the claim was lost."""
        ...

    async def release(self, key: str, token: str) -> bool:
        """Free our claim so a retry runs; False when it was no longer ours."""
        ...

    async def aclose(self) -> None: ...
