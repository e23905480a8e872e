"""The registry: what the decorators record, checked as they run.

Routing (locally) and the generated Knative resources both read from here, so the
decorators are the single source of truth. A bad registration raises
RegistrationError when the decorator runs, naming the function and the problem.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kfn._errors import RegistrationError
from kfn._syntax import is_service_name
from kfn.filters import AllOf, Filter, FilterError, build_filter

F = TypeVar("F", bound=Callable[..., Any])

EVENT_ENDPOINT = "/"  # POST only: any other method on / may be an @http function
RESERVED_PATHS = ("/metrics",)
RESERVED_PREFIXES = ("/events", "/health", "/_kfn")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def where_defined(func: Callable[..., Any]) -> str:
    """Where a function is defined, for error messages."""
    code = getattr(func, "__code__", None)
    where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)!s}{where}"


@dataclass(eq=False)
class FunctionSpec:
    """What every registered function has: a unique name, the callable, its Service."""

    name: str
    func: Callable[..., Any]
    service: str | None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)


@dataclass(eq=False)
class HttpFunction(FunctionSpec):
    """A plain HTTP function, served as a FastAPI route."""

    path: str = "/"
    methods: tuple[str, ...] = ("GET",)
    public: bool = True
    route_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class EventFunction(FunctionSpec):
    """A CloudEvent function, routed by Knative Trigger filters."""

    filter: AllOf = field(default_factory=lambda: AllOf(()))
    reply_type: str | None = None
    reply_source: str | None = None
    timeout: float | None = None
    emits: tuple[str, ...] = ()
    delivery: Mapping[str, Any] | None = None
    schedule: Any = None  # a kfn.schedule.Schedule for @schedule functions
    idempotent: bool = False
    idempotency_key: Callable[[Any], str] | None = None  # default: the event's source and id


@dataclass(eq=False)
class Hook:
    func: Callable[..., Any]
    name: str


class Registry:
    """Functions and lifecycle hooks of one app, in declaration order."""

    def __init__(self) -> None:
        self.functions: dict[str, FunctionSpec] = {}
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.readiness_checks: list[Hook] = []
        self._normalized: dict[str, str] = {}

    # -- views -----------------------------------------------------------------------

    @property
    def http_functions(self) -> list[HttpFunction]:
        return [f for f in self.functions.values() if isinstance(f, HttpFunction)]

    @property
    def event_functions(self) -> list[EventFunction]:
        return [f for f in self.functions.values() if isinstance(f, EventFunction)]

    # -- registration ----------------------------------------------------------------

    def add(self, spec: FunctionSpec) -> None:
        """Register a function under its unique name."""
        where = where_defined(spec.func)
        if not FUNCTION_NAME.match(spec.name):
            raise RegistrationError(
                f"function {spec.name!r} in {where}: a name must start with a letter and hold "
                "only letters, digits, '_' and '-'"
            )
        normalized = spec.name.lower().replace("_", "-")
        if normalized in self._normalized:
            other = self._normalized[normalized]
            raise RegistrationError(
                f"function {spec.name!r} in {where}: the name is already taken by {other!r} "
                "(names must be unique, ignoring case and '_' versus '-'); pass name=... "
                "to the decorator"
            )
        if spec.service is not None and not is_service_name(spec.service):
            raise RegistrationError(
                f"function {spec.name!r} in {where}: service={spec.service!r} is not a valid "
                "Knative Service name (lower-case letters, digits and '-', starting with a letter)"
            )
        self.functions[spec.name] = spec
        self._normalized[normalized] = spec.name

    def http(
        self,
        path: str,
        methods: Sequence[str] = ("GET",),
        *,
        name: str | None = None,
        public: bool = True,
        service: str | None = None,
        **route_options: Any,
    ) -> Callable[[F], F]:
        """Register an HTTP function as a FastAPI route at `path`.

        `route_options` go to FastAPI's `add_api_route` (response_model, status_code,
        tags, ...). `public=False` keeps the function off the public ingress.
        """

        def register(func: F) -> F:
            where = where_defined(func)
            check_function(func, where)
            if not isinstance(path, str) or not path.startswith("/"):
                raise RegistrationError(
                    f"@http in {where}: the path must be a string starting with '/', got {path!r}"
                )
            if isinstance(methods, str):
                raise RegistrationError(
                    f"@http({path!r}) in {where}: methods must be a list, e.g. methods=['GET']"
                )
            upper = tuple(m.upper() for m in methods)
            unknown = [m for m in upper if m not in HTTP_METHODS]
            if unknown or not upper:
                raise RegistrationError(
                    f"@http({path!r}) in {where}: unknown HTTP method(s) {unknown or methods!r}"
                )
            if _is_reserved(path, upper):
                raise RegistrationError(
                    f"@http({path!r}, methods={list(upper)!r}) in {where}: this is reserved by "
                    "the host (POST / and /events/* take CloudEvents, /health/* are the "
                    "probes, /metrics is Prometheus; / is yours for any other method); "
                    "choose another path or method"
                )
            self.add(
                HttpFunction(
                    name=name or func.__name__,
                    func=func,
                    service=service,
                    path=path,
                    methods=upper,
                    public=public,
                    route_options=route_options,
                )
            )
            return func

        return register

    def cloudevent(
        self,
        *,
        filters: Iterable[Filter] | None = None,
        reply_type: str | None = None,
        reply_source: str | None = None,
        timeout: float | None = None,
        name: str | None = None,
        service: str | None = None,
        emits: Sequence[str] = (),
        delivery: Mapping[str, Any] | None = None,
        idempotent: bool = False,
        idempotency_key: Callable[[Any], str] | None = None,
        **attributes: str,
    ) -> Callable[[F], F]:
        """Register a CloudEvent function.

        Keyword attributes (`type=`, `source=`, `subject=`, any extension) are exact
        matches; `filters=[...]` adds exact/prefix/suffix/all_of/any_of/not_/cesql
        filters. All of them must match, as in one Knative Trigger. `idempotent=True`
        runs the function once per event (key: its `source` and `id`, or what
        `idempotency_key(event)` returns), across redeliveries and replicas.
        """

        def register(func: F) -> F:
            where = where_defined(func)
            check_function(func, where)
            label = f"@cloudevent on {func.__name__!r} in {where}"
            try:
                event_filter = build_filter(attributes, filters)
            except FilterError as error:
                raise RegistrationError(f"{label}: {error}") from None
            for option, value in (("reply_type", reply_type), ("reply_source", reply_source)):
                if value is not None and (not isinstance(value, str) or not value.strip()):
                    raise RegistrationError(f"{label}: {option} must be a non-empty string")
            seconds = check_timeout(timeout, label)
            emitted = check_emits(emits, label)
            check_idempotency(label, idempotent, idempotency_key)
            self.add(
                EventFunction(
                    name=name or func.__name__,
                    func=func,
                    service=service,
                    filter=event_filter,
                    reply_type=reply_type,
                    reply_source=reply_source,
                    timeout=seconds,
                    emits=emitted,
                    delivery=delivery,
                    idempotent=idempotent,
                    idempotency_key=idempotency_key,
                )
            )
            return func

        return register

    def on_startup(self, func: F) -> F:
        """Run `func` (sync or async) before readiness turns 200."""
        check_function(func, where_defined(func))
        self.startup_hooks.append(Hook(func, func.__name__))
        return func

    def on_shutdown(self, func: F) -> F:
        """Run `func` after in-flight events finished, before the process exits."""
        check_function(func, where_defined(func))
        self.shutdown_hooks.append(Hook(func, func.__name__))
        return func

    def readiness(self, func: F) -> F:
        """A check for /health/readiness: it returns False or raises when not ready."""
        check_function(func, where_defined(func))
        self.readiness_checks.append(Hook(func, func.__name__))
        return func


def check_idempotency(label: str, idempotent: object, key: object) -> None:
    """The `idempotent=` and `idempotency_key=` options of @cloudevent and @schedule."""
    if not isinstance(idempotent, bool):
        raise RegistrationError(f"{label}: idempotent must be True or False")
    if key is None:
        return
    if not idempotent:
        raise RegistrationError(f"{label}: idempotency_key= needs idempotent=True")
    if not callable(key) or inspect.iscoroutinefunction(key):
        raise RegistrationError(
            f"{label}: idempotency_key must be a plain function taking the CloudEvent and "
            "returning a string"
        )


def _is_reserved(path: str, methods: tuple[str, ...]) -> bool:
    trimmed = path.rstrip("/") or "/"
    if trimmed == EVENT_ENDPOINT:
        return "POST" in methods
    if trimmed in RESERVED_PATHS:
        return True
    return any(trimmed == p or trimmed.startswith(p + "/") for p in RESERVED_PREFIXES)


def check_timeout(timeout: object, label: str) -> float | None:
    """A decorator's `timeout=`: None or a positive number of seconds."""
    if timeout is None:
        return None
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise RegistrationError(f"{label}: timeout must be a positive number of seconds")
    return float(timeout)


def check_emits(emits: object, label: str) -> tuple[str, ...]:
    """A decorator's `emits=`: a list of event types."""
    if not isinstance(emits, Iterable) or isinstance(emits, str):
        raise RegistrationError(f"{label}: emits must be a list of event types")
    types = tuple(emits)
    if not all(isinstance(t, str) and t for t in types):
        raise RegistrationError(f"{label}: emits must be a list of event types")
    return types


def check_function(func: Any, where: str) -> None:
    """What every decorator takes: a plain callable that returns (not a generator)."""
    if not callable(func):
        raise RegistrationError(f"{where}: the decorator was applied to a non-callable {func!r}")
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise RegistrationError(
            f"{where}: generator functions are not supported; return a value instead"
        )


default_registry = Registry()
"""The registry the module-level decorators in `kfn` write to."""
