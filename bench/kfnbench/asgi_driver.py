"""Drive an ASGI app in-process with one request, many times: the event path, no sockets.

Run under callgrind by `instructions.py`, so the instructions counted are the app's
work per request and the interpreter's, with no kernel, network or scheduler in
between. Standard library only besides the app:

    python asgi_driver.py MODULE:ATTR PATH REQUEST_JSON WARMUP EVENTS

REQUEST_JSON is a file holding {"method", "headers": [[name, value]...], "body"}. The
app's lifespan runs first (kfn loads its functions there), then WARMUP requests. The
driver then prints READY and waits for a line on stdin (the harness switches
callgrind's instrumentation on meanwhile), sends EVENTS requests, prints DONE and
waits again (the harness dumps the counts), so start-up, warm-up and shutdown stay
out of the figure. Exits non-zero when any answer is not 2xx, so a broken app is not
measured.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
App = Callable[[Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]  # fmt: skip


async def _lifespan(app: App, inbox: asyncio.Queue[Message]) -> asyncio.Task[None]:
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def send(message: Message) -> None:
        if message["type"].startswith("lifespan.startup") and not started.done():
            started.set_result(message["type"])

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send))  # type: ignore[arg-type]  # fmt: skip
    outcome = await started
    if outcome != "lifespan.startup.complete":
        raise SystemExit(f"startup failed: {outcome}")
    return task


async def _drive(app: App, path: str, request: dict[str, Any], warmup: int, events: int) -> None:
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    lifespan = await _lifespan(app, inbox)
    body = request["body"].encode()
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request["headers"]]
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request["method"],
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> Message:
        return message

    statuses: list[int] = []

    async def send(sent: Message) -> None:
        if sent["type"] == "http.response.start":
            statuses.append(sent["status"])

    for _ in range(warmup):
        await app(dict(scope), receive, send)
    _gate("READY")
    for _ in range(events):
        await app(dict(scope), receive, send)
    _gate("DONE")
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan
    bad = [status for status in statuses if not 200 <= status < 300]
    if bad or len(statuses) != warmup + events:
        raise SystemExit(f"{len(bad)} answers were not 2xx (first: {bad[:1]})")


def _gate(word: str) -> None:
    """Tell the harness where we are and wait until it says go on (a blocking read)."""
    sys.stdout.write(word + "\n")
    sys.stdout.flush()
    sys.stdin.readline()


def main(argv: list[str]) -> None:
    target, path, request_file, warmup, events = argv
    sys.path.insert(0, os.getcwd())
    module, _, attribute = target.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    with open(request_file) as handle:
        request = json.load(handle)
    asyncio.run(_drive(app, path, request, int(warmup), int(events)))


if __name__ == "__main__":
    main(sys.argv[1:])
