"""An app behind sender identity: one event function that counts its runs, one @http route."""

from __future__ import annotations

from kfn import CloudEvent, cloudevent, http

RUNS: list[str] = []


@cloudevent(type="com.example.identity.checked", reply_type="com.example.identity.seen")
async def seen(event: CloudEvent) -> dict[str, str]:
    RUNS.append(event.get_id())
    return {"id": event.get_id()}


@http("/runs", methods=["GET"])
async def runs() -> list[str]:
    """What `seen` has run on: an outside view of whether a refused event reached it."""
    return RUNS
