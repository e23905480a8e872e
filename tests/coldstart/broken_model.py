"""An app with a model pydantic cannot build, deferred: found on Knative only by its first event."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from kfn import CloudEvent, cloudevent


class Thing:
    """Not a type pydantic validates (no arbitrary_types_allowed)."""


class Parcel(BaseModel):
    model_config = ConfigDict(defer_build=True)

    thing: Thing


@cloudevent(type="test.broken.parcel")
async def receive(parcel: Parcel) -> None:
    return None


@cloudevent(type="test.broken.ping")
async def ping(event: CloudEvent) -> None:
    return None
