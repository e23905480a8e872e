"""The systems measured, each started the way its users start it.

A system is one or more server processes (the anchors need one per kind of function:
func-python has an HTTP and a CloudEvent flavour, functions-framework one target per
process) and a route per workload: which process and which path takes the request.
Commands hold `{port}` placeholders; every server binds 127.0.0.1 only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kfnbench.paths import APPS, FF_VENV, KFN_APP, VENV, venv_bin

HOST = "127.0.0.1"
EVENTS = "events"
HTTP = "http"
MIXED_EVENT = "mixed-event"
COLD_GROUPS = {
    EVENTS: ("event-only app, first event", "event-binary"),
    HTTP: ("app with HTTP and event functions, first HTTP answer", "http-get"),
    MIXED_EVENT: ("app with HTTP and event functions, first event", "event-binary"),
}
"""Cold-start groups: a title, and the workload whose first 2xx ends the measurement.

kfn's example app has both kinds of function, so it is started twice per round: once
probed with GET (against bare FastAPI's first answer), once with an event (against
func-python's CloudEvent flavour, and against FastAPI serving the same event route).
"""


@dataclass(frozen=True)
class Server:
    """One process: argv and environment (with `{port}`), working directory, environment."""

    key: str
    argv: tuple[str, ...]
    cwd: Path
    venv: Path
    env: tuple[tuple[str, str], ...] = ()

    def command(self, port: int) -> list[str]:
        return [part.format(port=port) for part in self.argv]

    def environment(self, port: int) -> dict[str, str]:
        return {name: value.format(port=port) for name, value in self.env}


@dataclass(frozen=True)
class Route:
    server: str
    path: str


@dataclass(frozen=True)
class System:
    """`reference` systems get a ratio column; `diagnostic` ones explain, they are not judged."""

    name: str
    description: str
    packages: tuple[str, ...]
    venv: Path
    routes: dict[str, Route]
    cold: dict[str, Route] = field(default_factory=dict)
    reference: bool = False
    diagnostic: bool = False


def _uvicorn(key: str, target: str) -> Server:
    # No access log: kfn has none by default, and the floor is the least a server does.
    return Server(
        key,
        (
            str(venv_bin(VENV, "uvicorn")),
            target,
            "--host",
            HOST,
            "--port",
            "{port}",
            "--no-access-log",
            "--log-level",
            "warning",
        ),
        APPS,
        VENV,
    )


def _func_python(key: str, script: str) -> Server:
    return Server(
        key,
        (str(venv_bin(VENV, "python")), script),
        APPS,
        VENV,
        (("LISTEN_ADDRESS", f"{HOST}:{{port}}"),),
    )


def _functions_framework(key: str, target: str, signature: str) -> Server:
    return Server(
        key,
        (
            str(venv_bin(FF_VENV, "functions-framework")),
            "--source",
            "ff_functions.py",
            "--target",
            target,
            "--signature-type",
            signature,
            "--host",
            HOST,
            "--port",
            "{port}",
        ),
        APPS,
        FF_VENV,
    )


def _kfn(key: str, cwd: Path, functions: str | None) -> Server:
    # As the Dockerfile runs it: `kfn run --host ...` with PORT set (loopback here).
    env = [("PORT", "{port}")]
    if functions:
        env.append(("KFN_FUNCTIONS", functions))
    return Server(key, (str(venv_bin(VENV, "kfn")), "run", "--host", HOST), cwd, VENV, tuple(env))


SERVERS: dict[str, Server] = {
    s.key: s
    for s in (
        _uvicorn("floor", "floor:app"),
        _uvicorn("fastapi", "fastapi_app:app"),
        _func_python("func-python/http", "func_python_http.py"),
        _func_python("func-python/cloudevent", "func_python_cloudevent.py"),
        _functions_framework("functions-framework/http", "hello", "http"),
        _functions_framework("functions-framework/cloudevent", "ack", "cloudevent"),
        _functions_framework("functions-framework/reply", "reply", "http"),
        _kfn("kfn", KFN_APP, "functions"),  # as the image runs it: app/ and KFN_FUNCTIONS
        _kfn("kfn/events", APPS, "kfn_events"),
    )
}


def _events(server: str, path: str, reply: Route | None = None) -> dict[str, Route]:
    route = Route(server, path)
    return {
        "event-binary": route,
        "event-structured": route,
        "event-reply": reply or route,
    }


SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System(
            "floor",
            "bare ASGI app on uvicorn, cloudevents 2.x core API, 202",
            ("uvicorn", "uvloop", "httptools", "cloudevents"),
            VENV,
            {"http-get": Route("floor", "/hello"), **_events("floor", "/")},
            {EVENTS: Route("floor", "/"), HTTP: Route("floor", "/hello")},
            reference=True,
        ),
        System(
            "fastapi",
            "bare FastAPI app on uvicorn, same decoding",
            ("fastapi", "starlette", "pydantic", "uvicorn", "cloudevents"),
            VENV,
            {"http-get": Route("fastapi", "/hello"), **_events("fastapi", "/")},
            {HTTP: Route("fastapi", "/hello"), MIXED_EVENT: Route("fastapi", "/")},
            reference=True,
        ),
        System(
            "func-python",
            "Knative func-python: func_python.http.serve / func_python.cloudevent.serve",
            ("func-python", "hypercorn", "cloudevents"),
            VENV,
            {
                "http-get": Route("func-python/http", "/hello"),
                **_events("func-python/cloudevent", "/"),
            },
            {
                EVENTS: Route("func-python/cloudevent", "/"),
                HTTP: Route("func-python/http", "/hello"),
                MIXED_EVENT: Route("func-python/cloudevent", "/"),
            },
            reference=True,
        ),
        System(
            "functions-framework",
            "Google functions-framework CLI (gunicorn, its defaults)",
            ("functions-framework", "flask", "gunicorn", "cloudevents"),
            FF_VENV,
            {
                "http-get": Route("functions-framework/http", "/hello"),
                **_events(
                    "functions-framework/cloudevent",
                    "/",
                    Route("functions-framework/reply", "/"),
                ),
            },
            {
                EVENTS: Route("functions-framework/cloudevent", "/"),
                HTTP: Route("functions-framework/http", "/hello"),
            },
            reference=True,
        ),
        System(
            "kfn",
            "kfn run, the example app (functions/: HTTP and event functions); events to "
            "/events/<function>",
            ("kfn-host", "uvicorn", "fastapi", "pydantic", "cloudevents"),
            VENV,
            {
                "http-get": Route("kfn", "/hello"),
                **_events("kfn", "/events/audit", Route("kfn", "/events/bill")),
            },
            {
                EVENTS: Route("kfn/events", "/events/ack"),
                HTTP: Route("kfn", "/hello"),
                MIXED_EVENT: Route("kfn", "/events/audit"),
            },
        ),
        System(
            "kfn-async",
            "kfn run, event-only app (bench/apps/kfn_events): async functions, no pydantic",
            ("kfn-host",),
            VENV,
            _events("kfn/events", "/events/ack", Route("kfn/events", "/events/bill")),
            diagnostic=True,
        ),
        System(
            "kfn-sync",
            "the same app and functions as kfn-async, written as plain def (ack_sync, bill_sync)",
            ("kfn-host",),
            VENV,
            _events("kfn/events", "/events/ack_sync", Route("kfn/events", "/events/bill_sync")),
            diagnostic=True,
        ),
    )
}

SUBJECT = "kfn"
FLOOR = "floor"
