"""The floor: the least an ASGI app can do and still take CloudEvents properly.

Raw ASGI on uvicorn, decoding with the cloudevents 2.x core API that kfn's codec is
built on. Nothing a function host adds (routing by filters, validation, metrics,
lifecycle) is here, so every other system's cost is measured against this.

    uvicorn floor:app --app-dir bench/apps --no-access-log
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http, to_binary
from cloudevents.core.formats.json import JSONFormat
from shop import ORDER_CREATED, invoice_for

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

FORMAT = JSONFormat()
JSON_HEADERS = [(b"content-type", b"application/json")]


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _event(receive: Receive, send: Send, scope: Scope) -> None:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    try:
        event = from_http(HTTPMessage(headers, await _body(receive)), FORMAT)
    except Exception:
        await _respond(send, 400, [], b"")
        return
    if event.get_type() != ORDER_CREATED:
        await _respond(send, 202, [], b"")
        return
    reply = to_binary(invoice_for(event, "/bench/floor"), FORMAT)  # type: ignore[arg-type]
    reply_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
    await _respond(send, 200, reply_headers, reply.body)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    method, path = scope["method"], scope["path"]
    if method == "POST" and path == "/":
        await _event(receive, send, scope)
    elif method == "GET" and path == "/hello":
        body = {"greeting": "hello world", "service": os.environ.get("K_SERVICE", "local")}
        await _respond(send, 200, JSON_HEADERS, json.dumps(body).encode())
    else:
        await _respond(send, 404, [], b"")
