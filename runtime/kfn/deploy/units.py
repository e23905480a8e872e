"""Deployment units: which functions run in which Knative Service.

By default the whole app is one Service, named by `[tool.kfn] name`. A function
declared with `service="billing"` runs in a Service of that name instead; every
Service runs the same image, and each loads only its own functions because its
container gets `KFN_SERVICE_UNIT=<service>` (kfn._units, `select_unit`).

Host and generator share the rule of kfn._units.functions_of_unit. That is why
`service=` may not repeat the main Service's name: the host could not tell the
two apart.

Exposure: a Service with a public `@http` function is reachable from outside the
cluster, and so would be its event endpoints. Unless `[tool.kfn]` says
`sender-identity = true` (every event needs a cluster-issued token) or
`public-events = true`, such a unit is split in two Services of the same functions:
`<name>` (public, event endpoints off) and `<name>-events` (cluster-local), which
the Triggers and PingSources deliver to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from kfn._errors import ConfigError
from kfn._units import functions_of_unit
from kfn.config import Settings as HostSettings
from kfn.config import parse_duration
from kfn.deploy import defaults, formats, grace
from kfn.deploy.errors import DeployError
from kfn.deploy.settings import ProjectSettings, UnitSettings
from kfn.registry import EventFunction, FunctionSpec, HttpFunction, Registry, where_defined

DRAIN_SECONDS = defaults.DRAIN_SECONDS
MAX_TIMEOUT_SECONDS = defaults.MAX_TIMEOUT_SECONDS


@dataclass(frozen=True)
class ServiceUnit:
    """One Knative Service: its name, its functions and what it runs with."""

    name: str
    functions: tuple[FunctionSpec, ...]
    settings: UnitSettings
    main: bool
    grouped: bool  # the app has several units, so this one must select its functions
    role: str = "all"
    """"all"; or, for a public unit split in two, "http" (events off) or "events"."""
    group: str = ""
    """The unit the host selects (KFN_SERVICE_UNIT); empty: `name`."""

    @property
    def selects(self) -> str:
        return self.group or self.name

    @property
    def takes_events(self) -> bool:
        return self.role != "http"

    @property
    def event_functions(self) -> list[EventFunction]:
        if not self.takes_events:
            return []
        return [f for f in self.functions if isinstance(f, EventFunction) and f.schedule is None]

    @property
    def scheduled_functions(self) -> list[EventFunction]:
        if not self.takes_events:
            return []
        return [
            f for f in self.functions if isinstance(f, EventFunction) and f.schedule is not None
        ]

    @property
    def http_functions(self) -> list[HttpFunction]:
        return [f for f in self.functions if isinstance(f, HttpFunction)]

    @property
    def public(self) -> bool:
        """Whether the Service needs an external route: some HTTP function is public."""
        return self.role != "events" and any(f.public for f in self.http_functions)

    @property
    def emits(self) -> tuple[str, ...]:
        """The event types this unit's functions declare they emit to K_SINK, sorted."""
        functions = [*self.event_functions, *self.scheduled_functions]
        return tuple(sorted({t for f in functions for t in f.emits}))

    def host_timeout(self) -> float:
        """The host's default function timeout in this unit: KFN_TIMEOUT from env, else 60 s."""
        for variable in self.settings.env:
            if variable.name == "KFN_TIMEOUT" and variable.value is not None:
                try:
                    return parse_duration("KFN_TIMEOUT", variable.value)
                except ConfigError as error:
                    raise DeployError(f"[tool.kfn.env] {error}") from None
        return HostSettings().function_timeout

    def longest_timeout(self) -> tuple[float, str | None]:
        """The longest event-function timeout and the function that has it."""
        default = self.host_timeout()
        longest, owner = 0.0, None
        for function in self.functions:
            if isinstance(function, EventFunction):
                seconds = function.timeout or default
                if seconds > longest:
                    longest, owner = seconds, function.name
        return longest, owner

    def timeout_seconds(self, warnings: list[str]) -> int:
        """The revision's timeoutSeconds: above the longest function timeout, plus the drain.

        It is also the pod's terminationGracePeriodSeconds, which must cover Knative's
        30 s drain before SIGTERM and then the host's grace period and exit (kfn.deploy.grace).
        """
        longest, owner = self.longest_timeout()
        to_stop = grace.check_fits_knative(self.name, self.settings)
        configured = self.settings.timeout_seconds
        if configured is None:
            wanted = max(math.ceil(longest) + DRAIN_SECONDS, to_stop)
            if wanted > MAX_TIMEOUT_SECONDS:
                if longest >= MAX_TIMEOUT_SECONDS:
                    raise DeployError(
                        f"function {owner!r} in Service {self.name!r} has a {longest:g} s "
                        f"timeout; Knative allows at most {MAX_TIMEOUT_SECONDS} s per request"
                    )
                warnings.append(
                    f"Service {self.name!r}: timeoutSeconds is capped at {MAX_TIMEOUT_SECONDS}, "
                    f"less than function {owner!r}'s {longest:g} s plus the {DRAIN_SECONDS} s drain"
                )
                wanted = MAX_TIMEOUT_SECONDS
            return wanted
        if owner is not None and configured <= longest:
            raise DeployError(
                f"timeout-seconds = {configured} for Service {self.name!r} must be above "
                f"function {owner!r}'s timeout of {longest:g} s, or Knative cuts it off first"
            )
        grace.check_timeout(self.name, configured, self.settings)
        return configured


def plan(registry: Registry, settings: ProjectSettings) -> list[ServiceUnit]:
    """The app's units: the main Service first, then the groups by name."""
    functions = list(registry.functions.values())
    if not functions:
        raise DeployError(
            f"no functions found in {', '.join(settings.functions)}: decorate some with "
            "@http, @cloudevent or @schedule"
        )
    for function in functions:
        if function.service == settings.name:
            raise DeployError(
                f"function {function.name!r} in {where_defined(function.func)}: "
                f"service={function.service!r} is the app's main Service ([tool.kfn] name); "
                "functions without service= already run there, so leave it out"
            )
    declared = dict.fromkeys(function.service or settings.name for function in functions)
    groups = {name: functions_of_unit(functions, name) for name in declared}
    unknown = sorted(set(settings.services) - set(groups))
    if unknown:
        raise DeployError(
            f"[tool.kfn.services.{unknown[0]}]: no function is declared with service={unknown[0]!r}"
        )
    names = sorted(groups, key=lambda name: (name != settings.name, name))
    grouped = len(names) > 1
    units = [
        ServiceUnit(
            name=name,
            functions=tuple(groups[name]),
            settings=settings.for_unit(name),
            main=name == settings.name,
            grouped=grouped,
        )
        for name in names
    ]
    if settings.sender_identity or settings.public_events:
        return units
    return [part for unit in units for part in _split(unit, set(names))]


EVENTS_SUFFIX = "-events"


def _split(unit: ServiceUnit, taken: set[str]) -> list[ServiceUnit]:
    """A public unit with event functions as two Services: public HTTP, cluster-local events."""
    if not unit.public or not (unit.event_functions or unit.scheduled_functions):
        return [unit]
    name = unit.name + EVENTS_SUFFIX
    if name in taken or not formats.is_dns1035_label(name):
        why = "is a group of its own" if name in taken else "is too long for a Service name"
        raise DeployError(
            f"Service {unit.name!r} is public (it has public @http functions) and runs event "
            f"functions, which go to a cluster-local Service {name!r}; that name {why}. "
            "Give the event functions a service=... group of their own, or set [tool.kfn] "
            "sender-identity = true or public-events = true"
        )
    return [replace(unit, role="http"), replace(unit, name=name, role="events", group=unit.name)]
