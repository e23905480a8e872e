"""Two plain routes on one method and path, beside an event function: refused before readiness."""

from kfn import CloudEvent, cloudevent, http


@http("/same", methods=["GET"])
async def first() -> dict[str, str]:
    return {}


@http("/same", methods=["GET"])
async def second() -> dict[str, str]:
    return {}


@cloudevent(type="test.broken.ping")
async def ping(event: CloudEvent) -> None: ...
