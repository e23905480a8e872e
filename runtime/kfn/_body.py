"""Reading a request body whole, within a size limit."""

from __future__ import annotations

from kfn._asgi import Receive
from kfn._errors import BodyTooLarge


class ClientDisconnected(Exception):
    """The sender went away before its body arrived: there is no one left to answer."""


async def read_body(receive: Receive, limit: int, content_length: bytes | None) -> bytes:
    """The whole body, refusing with BodyTooLarge as soon as it is known to exceed `limit`.

    The server has checked that Content-Length is a number (uvicorn answers 400 first).
    """
    if content_length is not None and int(content_length) > limit:
        raise BodyTooLarge(limit)
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        if len(body) > limit:
            raise BodyTooLarge(limit)
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
