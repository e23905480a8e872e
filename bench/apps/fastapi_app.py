"""The bare FastAPI app: what a FastAPI user writes for the same functions, with no host.

The HTTP function has kfn's example signature exactly (query parameter, return
annotation), so the two do the same FastAPI work; events are decoded with the
cloudevents 2.x core API, as in the floor.

    uvicorn fastapi_app:app --app-dir bench/apps --no-access-log
"""

from __future__ import annotations

import os

from cloudevents.core.bindings.http import HTTPMessage, from_http, to_binary
from cloudevents.core.formats.json import JSONFormat
from fastapi import FastAPI, Request, Response
from shop import ORDER_CREATED, invoice_for

FORMAT = JSONFormat()
app = FastAPI()


@app.get("/hello")
async def hello(name: str = "world") -> dict[str, str]:
    return {"greeting": f"hello {name}", "service": os.environ.get("K_SERVICE", "local")}


@app.post("/")
async def receive_event(request: Request) -> Response:
    message = HTTPMessage(dict(request.headers), await request.body())
    try:
        event = from_http(message, FORMAT)
    except Exception:
        return Response(status_code=400)
    if event.get_type() != ORDER_CREATED:
        return Response(status_code=202)
    reply = to_binary(invoice_for(event, "/bench/fastapi"), FORMAT)  # type: ignore[arg-type]
    return Response(reply.body, status_code=200, headers=reply.headers)
