"""A mixed app with plain routes only: on Knative its FastAPI app waits for the first HTTP request.

Nothing here imports FastAPI, so the event path can turn ready without it.
"""

from __future__ import annotations

import asyncio
import enum

from kfn import CloudEvent, cloudevent, http


class Size(enum.Enum):
    SMALL = "small"
    LARGE = "large"


@http("/hello", methods=["GET"])
async def hello(name: str = "world") -> dict[str, str]:
    return {"greeting": f"hello {name}"}


@http("/sizes/{size}", methods=["GET"], tags=["sizes"], status_code=200)
async def size(size: Size, count: int | None = None) -> dict[str, str | int | None]:
    return {"size": size.value, "count": count}


@cloudevent(type="test.mixed.ping")
async def ping(event: CloudEvent) -> None:
    await asyncio.sleep(0)
