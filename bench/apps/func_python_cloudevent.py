"""func-python, CloudEvent flavour, started as Knative's scaffolding does.

The middleware decodes the event into `scope["event"]` (cloudevents 2.x) and wraps
`send` to encode reply events. Acknowledging without a reply is a raw 202 through
`send.http`; an order is answered with a binary-mode invoice event, like the others.

    LISTEN_ADDRESS=127.0.0.1:8080 python bench/apps/func_python_cloudevent.py
"""

from __future__ import annotations

from typing import Any

from func_python.cloudevent import serve
from shop import ORDER_CREATED, invoice_for


class Function:
    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        event = scope["event"]
        if event.get_type() == ORDER_CREATED:
            await send.binary(invoice_for(event, "/bench/func-python"))
            return
        await send.http({"type": "http.response.start", "status": 202, "headers": []})
        await send.http({"type": "http.response.body", "body": b""})


def new() -> Function:
    return Function()


if __name__ == "__main__":
    serve(new)
