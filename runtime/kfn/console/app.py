"""The console's ASGI app: the page, its assets, and the JSON it polls.

| path | what |
| --- | --- |
| `GET /_kfn/` | the page (`static/index.html`) |
| `GET /_kfn/static/<file>` | its script and styles |
| `GET /_kfn/api/functions` | the functions, as `kfn list --json` prints them, schedules with their next fire time |
| `GET /_kfn/api/deliveries?after=<seq>` | deliveries after a sequence number (the live feed) |
| `GET /_kfn/api/traces/<trace id>` | a trace's deliveries as a causal tree |
| `POST /_kfn/api/schedules/<function>/fire` | fire a schedule now, as its PingSource would |

Test events are sent by the page itself, to `/` or `/events/<function>`, like any sender.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from kfn import tracing
from kfn._asgi import JSON, Receive, Scope, Send, respond, respond_problem
from kfn.codec.attributes import canonical_string
from kfn.console.feed import Feed
from kfn.problems import Problem

if TYPE_CHECKING:
    from kfn.app import App

PREFIX = "/_kfn"
ASSETS = {
    "index.html": b"text/html; charset=utf-8",
    "console.js": b"text/javascript; charset=utf-8",
    "console.css": b"text/css; charset=utf-8",
}
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


class _Refused(Exception):
    """A console request it cannot answer: becomes its problem+json."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = Problem(status, kind, detail)


class Console:
    """The dev console of one app; `close` stops recording."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.feed = Feed()
        self._unwatch = tracing.watch(self.feed)
        self._functions: list[dict[str, Any]] | None = None

    def close(self) -> None:
        self._unwatch()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"][len(PREFIX) :]
        method: str = scope["method"]
        try:
            if path == "":
                await respond(send, 308, [(b"location", b"/_kfn/")], b"")
            elif path == "/":
                await _asset(send, "index.html")
            elif path.startswith("/static/") and method in ("GET", "HEAD"):
                await _asset(send, path[len("/static/") :])
            elif path == "/api/functions" and method == "GET":
                await _json(send, self.functions())
            elif path == "/api/deliveries" and method == "GET":
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                after = _int(query.get("after", ["0"])[0])
                await _json(
                    send, {"sequence": self.feed.sequence, "deliveries": self.feed.since(after)}
                )
            elif path.startswith("/api/traces/") and method == "GET":
                trace_id = path[len("/api/traces/") :]
                if not _TRACE_ID.match(trace_id):
                    raise _Refused(
                        400, "invalid-trace-id", "a trace id is 32 lower-case hex digits"
                    )
                await _json(send, {"trace_id": trace_id, "roots": self.feed.trace(trace_id)})
            elif path.startswith("/api/schedules/") and path.endswith("/fire") and method == "POST":
                name = path[len("/api/schedules/") : -len("/fire")]
                await _json(send, await self.fire(name))
            else:
                raise _Refused(404, "not-found", f"no console route for {scope['path']}")
        except _Refused as refused:
            await respond_problem(send, refused.problem)

    def functions(self) -> list[dict[str, Any]]:
        """The functions as `kfn list --json` describes them, plus each schedule's next fire time."""
        if self._functions is None:
            from kfn.cli.list import function_rows, main_service

            self._functions = function_rows(self.app.registry.functions.values(), main_service())
        rows = [dict(row) for row in self._functions]
        for row in rows:
            if row["kind"] == "schedule":
                row["next_fire"] = self._next_fire(row["name"])
        return rows

    def _next_fire(self, name: str) -> str | None:
        from kfn.local_schedules import next_fire

        spec = self.app.registry.functions[name]
        try:
            return canonical_string(next_fire(spec.schedule, datetime.now(UTC)))  # type: ignore[attr-defined]
        except Exception:  # croniter missing, or a schedule it cannot compute: show none
            return None

    async def fire(self, name: str) -> dict[str, Any]:
        """Fire a schedule now through the app's scheduler (or one made for it when timers are off)."""
        app = self.app
        if app.dispatcher is None or app.router is None:
            raise _Refused(503, "starting", "the host is still starting")
        target = app.dispatcher.targets.get(name)
        if target is None or target.spec.schedule is None:
            raise _Refused(404, "unknown-schedule", f"no @schedule function is named {name!r}")
        scheduler = app.scheduler
        if scheduler is None:
            from kfn.local_schedules import Scheduler

            scheduler = Scheduler(app.router, app.lifecycle)
        status = await scheduler.fire(target)
        return {"function": name, "status": status}


def _int(raw: str) -> int:
    try:
        return max(0, int(raw))
    except ValueError:
        raise _Refused(400, "invalid-cursor", "after= takes a sequence number") from None


async def _asset(send: Send, name: str) -> None:
    content_type = ASSETS.get(name)
    if content_type is None:
        raise _Refused(404, "not-found", f"the console has no asset {name!r}")
    body = resources.files("kfn.console").joinpath("static", name).read_bytes()
    await respond(
        send, 200, [(b"content-type", content_type), (b"cache-control", b"no-cache")], body
    )


async def _json(send: Send, document: Any) -> None:
    await respond(send, 200, [(b"content-type", JSON)], json.dumps(document).encode())
