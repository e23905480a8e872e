"""A route FastAPI refuses (its return type is no pydantic field type), beside an event function.

On Knative too this is built before readiness, so startup fails naming it.
"""

from kfn import CloudEvent, cloudevent, http


class Thing:
    pass


@http("/thing", methods=["GET"])
async def thing() -> Thing:
    return Thing()


@cloudevent(type="test.broken.ping")
async def ping(event: CloudEvent) -> None: ...
