"""The HTTP side of the host: the `@http` functions' FastAPI app, built now or when first needed.

Importing FastAPI and building its app is most of a mixed app's start-up, and the
event path needs none of it. On Knative (K_SERVICE set) an app that also has event
functions turns ready without it when every route is one FastAPI cannot refuse
(`plain_routes`: plain parameter and return types, options that only describe the
route), checked without importing FastAPI; the app is then built in a thread on
the first HTTP request, which waits for it and is answered. Anything else (`kfn
run` on a laptop, an HTTP-only app, a route with types or options only FastAPI can
judge, an app whose modules imported FastAPI already) is built before readiness, so
every error FastAPI raises still stops startup.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import inspect
import logging
import re
import sys
import types
import typing
import uuid
from typing import Any

from kfn import logs
from kfn._asgi import ASGIApp, Receive, Scope, Send, respond_problem
from kfn._errors import RegistrationError
from kfn.problems import Problem
from kfn.registry import HttpFunction, Registry, where_defined

SCALARS: tuple[Any, ...] = (
    str,
    int,
    float,
    bool,
    bytes,
    type(None),
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
)
"""Types FastAPI and pydantic take as query, path or body values, and as return types."""

CONTAINERS: tuple[Any, ...] = (list, set, frozenset, tuple, dict, typing.Union, types.UnionType)
DESCRIPTIVE_OPTIONS = frozenset(
    {
        "status_code",
        "tags",
        "summary",
        "description",
        "response_description",
        "deprecated",
        "operation_id",
        "include_in_schema",
        "response_model_exclude_none",
        "response_model_exclude_unset",
        "response_model_exclude_defaults",
        "response_model_by_alias",
    }
)
"""`add_api_route` options that only describe the route (every FastAPI kfn supports takes them)."""
PATH_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")

UNAVAILABLE = Problem(
    500, "http-unavailable", "the HTTP functions could not be set up; the log says why"
)


def check_routes(registry: Registry) -> None:
    """Two functions on one method and path: refused here, with or without FastAPI."""
    seen: dict[tuple[str, str], str] = {}
    for spec in registry.http_functions:
        for method in spec.methods:
            key = (spec.path, method)
            if key in seen:
                raise RegistrationError(
                    f"function {spec.name!r} in {where_defined(spec.func)}: {method} {spec.path} is "
                    f"already served by {seen[key]!r}"
                )
            seen[key] = spec.name


def builds_lazily(registry: Registry, on_knative: bool) -> bool:
    """Whether the FastAPI app may wait for the first HTTP request (see the module doc)."""
    return (
        on_knative
        and bool(registry.event_functions)
        and "fastapi" not in sys.modules
        and all(plain_route(spec) for spec in registry.http_functions)
    )


def plain_route(spec: HttpFunction) -> bool:
    """Whether FastAPI takes this route whatever its version: it cannot raise on adding it."""
    options = dict(spec.route_options)
    response_model = options.pop("response_model", None)
    if not DESCRIPTIVE_OPTIONS.issuperset(options) or not _plain(response_model):
        return False
    try:
        signature = inspect.signature(spec.func)
        hints = typing.get_type_hints(spec.func)
    except Exception:  # FastAPI says what is wrong, at startup
        return False
    in_path = set(PATH_PARAMETER.findall(spec.path))
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            return False
        annotation = hints.get(name, str)
        if name in in_path and not _scalar(annotation):
            return False
        if not _plain(annotation) or not _plain_default(parameter.default):
            return False
    return _plain(hints.get("return"))


def _scalar(annotation: Any) -> bool:
    """What a path parameter may be: one value, not a container or a model."""
    if annotation in SCALARS:
        return True
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum)


def _plain_default(value: object) -> bool:
    return value is inspect.Parameter.empty or type(value) in SCALARS


def _plain(annotation: Any) -> bool:
    """A type built from SCALARS, enums, pydantic models, Any and the plain containers."""
    if annotation is None or annotation is Any or annotation in SCALARS:
        return True
    decimal = sys.modules.get("decimal")  # imported by whoever annotates with Decimal
    if decimal is not None and annotation is decimal.Decimal:
        return True
    origin = typing.get_origin(annotation)
    if origin in CONTAINERS:
        return all(arg is Ellipsis or _plain(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return all(type(arg) in (str, int, bool) for arg in typing.get_args(annotation))
    if not isinstance(annotation, type) or origin is not None:
        return False
    if issubclass(annotation, enum.Enum):
        return True
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and issubclass(annotation, pydantic.BaseModel)


class HttpSide:
    """An ASGI app forwarding to the FastAPI app, building it first when it is not yet built."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._app: ASGIApp | None = None
        self._building: asyncio.Task[None] | None = None
        self.failure: str | None = None
        """Why the app could not be built (lazily), once that happened."""

    @property
    def built(self) -> bool:
        return self._app is not None

    def build(self) -> None:
        """Import FastAPI and build the app now; raises RegistrationError."""
        from kfn.http_routes import build_http_app

        self._app = build_http_app(self._registry)

    def start(self) -> None:
        """Start building in a thread (the loop keeps serving events meanwhile)."""
        if self._app is None and self._building is None:
            self._building = asyncio.get_running_loop().create_task(self._build_in_thread())

    async def _build_in_thread(self) -> None:
        try:
            await asyncio.to_thread(self.build)
        except Exception as error:
            self.failure = (
                str(error) if isinstance(error, RegistrationError) else type(error).__name__
            )
            logs.event(logging.CRITICAL, f"the HTTP functions cannot be served: {self.failure}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            self.start()
            assert self._building is not None
            await asyncio.shield(self._building)
            app = self._app
        if app is None:
            if scope["type"] == "http":
                await respond_problem(send, UNAVAILABLE)
            return
        await app(scope, receive, send)
