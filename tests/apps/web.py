"""An app with a home page at GET / beside its event functions, and routes that fail."""

from __future__ import annotations

from fastapi import HTTPException
from pydantic import BaseModel, Field

from kfn import CloudEvent, cloudevent, http


class Item(BaseModel):
    name: str
    quantity: int = Field(gt=0)


@http("/", methods=["GET"])
async def home() -> dict[str, str]:
    return {"page": "home"}


@http("/items", methods=["POST"])
async def add_item(item: Item) -> Item:
    return item


@http("/crash", methods=["GET"])
def crash() -> None:
    raise RuntimeError("secret crash detail")


@http("/teapot", methods=["GET"])
async def teapot() -> None:
    raise HTTPException(status_code=418, detail="short and stout")


@cloudevent(type="test.web.ping")
async def ping(event: CloudEvent) -> None:
    """Events still arrive at POST /, beside the home page."""
