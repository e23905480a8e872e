"""Functions that produce every row of the delivery-contract table, for the integration tests."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from kfn import CloudEvent, Drop, Retry, cloudevent, http, on_shutdown, on_startup, readiness
from kfn.filters import any_of, exact, prefix

STARTED: list[str] = []


class Point(BaseModel):
    x: int
    y: int


@on_startup
async def warm_up() -> None:
    await asyncio.sleep(0.2)
    STARTED.append("warm")


@on_shutdown
def say_goodbye() -> None:
    print("shutdown hook ran", flush=True)


@readiness
def always_ready() -> bool:
    return bool(STARTED)


@cloudevent(type="test.noreply")
async def noreply(event: CloudEvent) -> None:
    return None


@cloudevent(type="test.echo", reply_type="test.echoed")
async def echo(event: CloudEvent) -> object:
    return event.get_data()


@cloudevent(type="test.forward")
async def forward(event: CloudEvent) -> CloudEvent:
    return CloudEvent(
        {"type": "test.forwarded", "source": "/tests", "flag": True, "count": 7},
        {"from": event.get_id()},
    )


@cloudevent(type="test.point", reply_type="test.point.moved")
async def move(point: Point) -> Point:
    return Point(x=point.x + 1, y=point.y + 1)


@cloudevent(type="test.sync", reply_type="test.sync.done")
def sync_work(event: CloudEvent) -> dict[str, object]:
    time.sleep(0.01)
    return {"thread": True, "id": event.get_id()}


@cloudevent(type="test.raise")
async def explode(event: CloudEvent) -> None:
    raise RuntimeError("secret internal detail")


@cloudevent(type="test.drop")
async def drop(event: CloudEvent) -> None:
    raise Drop("not for us")


@cloudevent(type="test.retry")
async def retry(event: CloudEvent) -> None:
    raise Retry("database busy", after=7)


@cloudevent(type="test.slow", timeout=0.3)
async def too_slow(event: CloudEvent) -> None:
    await asyncio.sleep(5)


@cloudevent(type="test.sleep")
async def sleeper(event: CloudEvent) -> None:
    await asyncio.sleep(float(str(event.get_data() or 1)))


@cloudevent(filters=[prefix(type="test.multi."), any_of(exact(subject="a"), exact(subject="b"))])
async def multi_one(event: CloudEvent) -> None:
    return None


@cloudevent(filters=[prefix(type="test.multi.")])
def multi_two(event: CloudEvent) -> None:
    return None


@cloudevent(type="test.multi.reply", reply_type="test.r1")
async def multi_reply_one(event: CloudEvent) -> str:
    return "one"


@cloudevent(type="test.multi.reply", reply_type="test.r2")
async def multi_reply_two(event: CloudEvent) -> str:
    return "two"


@http("/items/{item_id}", methods=["GET"])
async def get_item(item_id: int, q: str | None = None) -> dict[str, object]:
    return {"item_id": item_id, "q": q}


@http("/boom", methods=["GET"])
def boom() -> None:
    raise RuntimeError("secret http detail")
