"""Functions behind the guards of the delivery contract, for tests that drive a real server.

A readiness check the test turns over HTTP, a fan-out where one function fails for
good and another asks for a retry, a return value with nowhere to go, and an event
that stays in flight for as long as the test says.
"""

from __future__ import annotations

import asyncio

from kfn import CloudEvent, Drop, Retry, cloudevent, http, readiness

GATE = {"state": "open"}


@readiness
def gate() -> bool:
    """Ready while the gate is open; `raise` makes the check itself fail."""
    if GATE["state"] == "raise":
        raise RuntimeError("secret readiness detail")
    return GATE["state"] == "open"


@http("/gate/{state}", methods=["PUT"])
def set_gate(state: str) -> dict[str, str]:
    GATE["state"] = state
    return {"gate": state}


@http("/ping", methods=["GET"])
def ping() -> dict[str, bool]:
    return {"pong": True}


# Registered first, so that taking the first failure (not the retried one) would answer 422.
@cloudevent(type="test.split")
async def refuse(event: CloudEvent) -> None:
    raise Drop("never for us")


@cloudevent(type="test.split")
async def postpone(event: CloudEvent) -> None:
    raise Retry("not yet", after=2)


@cloudevent(type="test.stray")
async def stray(event: CloudEvent) -> CloudEvent | None:
    """Says it returns an event, so it registers; what it returns has nowhere to go."""
    return {"nowhere": "to go"}  # type: ignore[return-value]


@cloudevent(type="test.hold")
async def hold(event: CloudEvent) -> None:
    await asyncio.sleep(float(str(event.get_data() or 1)))
