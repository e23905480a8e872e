"""A parameter type pydantic refuses outright: a bad signature, refused at startup everywhere."""

from __future__ import annotations

from kfn import cloudevent


class Thing:
    """Not a type pydantic validates."""


@cloudevent(type="test.broken.thing")
async def take(thing: Thing) -> None:
    return None
