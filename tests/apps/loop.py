"""Functions that feed themselves, for the hop-limit tests of the local broker."""

from __future__ import annotations

from kfn import CloudEvent, cloudevent, emit


@cloudevent(type="test.loop", reply_type="test.loop")
async def reply_loop(event: CloudEvent) -> dict[str, str]:
    """Replies with the type it listens to: behind a Broker, a loop."""
    return {"round": "again"}


@cloudevent(type="test.emit.loop")
async def emit_loop(event: CloudEvent) -> None:
    """Emits the type it listens to: a loop Knative itself would never stop."""
    await emit(CloudEvent({"type": "test.emit.loop", "source": "/tests/loop"}))
