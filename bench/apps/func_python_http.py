"""func-python, HTTP flavour: an instanced function started as Knative's scaffolding does.

`func` writes a main that imports the user's `new` and calls
`func_python.http.serve(new)`; the function is a raw ASGI handler.

    LISTEN_ADDRESS=127.0.0.1:8080 python bench/apps/func_python_http.py
"""

from __future__ import annotations

import json
import os
from typing import Any

from func_python.http import serve


class Function:
    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = json.dumps(
            {"greeting": "hello world", "service": os.environ.get("K_SERVICE", "local")}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def new() -> Function:
    return Function()


if __name__ == "__main__":
    serve(new)
