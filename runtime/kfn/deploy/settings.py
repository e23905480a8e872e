"""`[tool.kfn]` in pyproject.toml: a pydantic model of the table, read once into typed settings.

    [tool.kfn]
    name = "shop"                 # the app's (main) Knative Service; default: [project].name
    namespace = "default"
    broker = "default"
    image = "registry.example.com/shop:1.0"
    functions = ["functions"]     # the modules to load (KFN_FUNCTIONS)
    port = 8080                   # where `kfn run` listens and `kfn invoke` sends, locally
    secrets = ["shop-db"]         # every key of these Secrets becomes an env var
    grace-period = "20s"          # KFN_GRACE_PERIOD; timeoutSeconds leaves the pod room for it

    [tool.kfn.scale]              # autoscaling.knative.dev/<key> annotations
    max-scale = 5

    [tool.kfn.resources]
    requests = { cpu = "100m", memory = "128Mi" }

    [tool.kfn.env]
    LOG_FORMAT = "json"
    DB_URL = { secret = "shop-db", key = "url" }

    [tool.kfn.idempotency]        # where idempotent functions keep their claims, from a Secret
    store = { secret = "shop-redis", key = "url" }
    ttl = "1h"

    [tool.kfn.delivery]           # the Triggers' delivery; a decorator's delivery= overrides keys
    retry = 5
    backoff-delay = "200ms"

    [tool.kfn.services.billing]   # a group of functions (service="billing"): its own overrides
    scale = { min-scale = 1 }

The table's shape and checks are pydantic models (kfn.deploy.table); `parse` resolves
them into kfn.deploy.types (groups over the app's settings, defaults from
kfn.deploy.defaults). An error is one line naming the full key path
(`tool.kfn.scale.max-scale = 'x': must be a whole number`), never a pydantic report.
pydantic is imported on this path only, at deploy time.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from kfn.config import DEFAULT_FUNCTIONS
from kfn.deploy import defaults, formats
from kfn.deploy.errors import DeployError
from kfn.deploy.knative import AUTOSCALING_PREFIX
from kfn.deploy.table import (
    APP_KEYS,
    IDEMPOTENCY_STORE_ENV,
    IDEMPOTENCY_TTL_ENV,
    UNION_BRANCHES,
    UNIT_KEYS,
    AppTable,
    DeliveryTable,
    DestinationReference,
    EnvReference,
    IdempotencyTable,
    Table,
    UnitTable,
)
from kfn.deploy.types import Delivery, Destination, EnvVar, ProjectSettings, UnitSettings

PYPROJECT = defaults.PYPROJECT
ROOT = "tool.kfn"


class SettingsError(DeployError):
    """A `[tool.kfn]` key or value is wrong; the message names its full key path."""


# -- reading ---------------------------------------------------------------------------


def load(project_dir: Path) -> ProjectSettings:
    """Read `[tool.kfn]` from the project's pyproject.toml (every key is optional)."""
    path = project_dir / PYPROJECT
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise SettingsError(
            f"no {PYPROJECT} in {project_dir.resolve()}: run kfn from the project's "
            "directory, or pass --project"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: {error}") from None
    project = document.get("project", {})
    tool = document.get("tool", {})
    raw = tool.get("kfn", {}) if isinstance(tool, dict) else {}
    default_name = project.get("name") if isinstance(project, dict) else None
    return parse(raw, project_dir=project_dir, project_name=default_name)


def parse(
    raw: object, *, project_dir: Path = Path("."), project_name: Any = None
) -> ProjectSettings:
    """ProjectSettings from the `[tool.kfn]` table (a dict, as tomllib reads it)."""
    table = _validated(AppTable, raw, ROOT)
    name = table.name
    if name is None:
        if not isinstance(project_name, str) or not project_name:
            raise SettingsError(
                f"{ROOT}.name is not set and [project] has no name: set "
                '[tool.kfn] name = "<service>"'
            )
        name = formats.dns_name(project_name)
    unit = _unit(table, UnitSettings(), ROOT)
    if table.idempotency is not None:
        unit = replace(unit, env=(*unit.env, *_idempotency_env(table.idempotency)))
    services = {
        group: _unit(overrides, unit, f"{ROOT}.services.{group}")
        for group, overrides in (table.services or {}).items()
    }
    return ProjectSettings(
        name=name,
        project_dir=project_dir,
        namespace=table.namespace or defaults.NAMESPACE,
        broker=table.broker or defaults.BROKER,
        image=table.image,
        functions=table.functions or DEFAULT_FUNCTIONS,
        port=table.port,
        output=table.output or defaults.OUTPUT,
        python_version=table.python_version or defaults.PYTHON_VERSION,
        base_image=table.base_image,
        extras=table.extras or (),
        event_types=table.event_types,
        sender_identity=table.sender_identity,
        public_events=table.public_events,
        delivery=_delivery(table.delivery) if table.delivery is not None else Delivery(),
        unit=unit,
        services=services,
    )


def _unit(table: UnitTable, base: UnitSettings, where: str) -> UnitSettings:
    """The unit-level keys of a table, over `base` (the app's settings, for a group)."""
    scale = dict(base.scale)
    if table.scale is not None:
        scale.update(table.scale.given())
        _check_scale(scale, f"{where}.scale")
    requests, limits = dict(base.requests), dict(base.limits)
    if table.resources is not None:
        requests.update(table.resources.requests or {})
        limits.update(table.resources.limits or {})
    env = list(base.env)
    for name, value in (table.env or {}).items():
        env = [v for v in env if v.name != name]
        if isinstance(value, EnvReference):
            env.append(
                EnvVar(name, secret=value.secret, config_map=value.config_map, key=value.key)
            )
        else:
            env.append(EnvVar(name, value=value))
    return UnitSettings(
        scale=scale,
        requests=requests,
        limits=limits,
        env=tuple(env),
        secrets=_added(base.secrets, table.secrets),
        config_maps=_added(base.config_maps, table.config_maps),
        container_concurrency=(
            base.container_concurrency
            if table.container_concurrency is None
            else table.container_concurrency
        ),
        timeout_seconds=(
            base.timeout_seconds if table.timeout_seconds is None else table.timeout_seconds
        ),
        service_account=table.service_account or base.service_account,
        grace_period=base.grace_period if table.grace_period is None else table.grace_period,
    )


def _added(base: tuple[str, ...], names: tuple[str, ...] | None) -> tuple[str, ...]:
    return base + tuple(name for name in dict.fromkeys(names or ()) if name not in base)


def _check_scale(scale: Mapping[str, str], where: str) -> None:
    """Knative's annotation rules, reported against the settings keys."""
    from kfn.deploy.rules import autoscaling

    annotations = {AUTOSCALING_PREFIX + key: value for key, value in scale.items()}
    for violation in autoscaling.check(annotations, path="")[:1]:
        raise SettingsError(f"{where}: {violation.message}")


def _delivery(table: DeliveryTable) -> Delivery:
    sink = table.dead_letter_sink
    if isinstance(sink, DestinationReference):
        destination: Destination | None = Destination(
            uri=sink.uri, api_version=sink.api_version, kind=sink.kind, name=sink.name
        )
    else:
        destination = None if sink is None else Destination(uri=sink)
    return Delivery(
        retry=table.retry,
        backoff_policy=table.backoff_policy,
        backoff_delay=table.backoff_delay,
        timeout=table.timeout,
        dead_letter_sink=destination,
    )


def _idempotency_env(table: IdempotencyTable) -> tuple[EnvVar, ...]:
    """KFN_IDEMPOTENCY_STORE from a Secret's key (a Redis URL holds its password), and the TTL."""
    assert table.store is not None
    variables = [EnvVar(IDEMPOTENCY_STORE_ENV, secret=table.store.secret, key=table.store.key)]
    if table.ttl is not None:
        variables.append(EnvVar(IDEMPOTENCY_TTL_ENV, value=table.ttl))
    return tuple(variables)


def parse_delivery(raw: object, where: str = f"{ROOT}.delivery") -> Delivery:
    """A delivery table ([tool.kfn.delivery], or a decorator's delivery=)."""
    return _delivery(_validated(DeliveryTable, raw, where))


def parse_decorator_delivery(delivery: Mapping[str, Any], where: str) -> Delivery:
    """`delivery=` on a decorator: the same keys, in snake_case or kebab-case."""
    normalized = {str(key).replace("_", "-"): value for key, value in delivery.items()}
    return parse_delivery(normalized, f"{where}: delivery")


# -- errors: the first one, as one line naming its key path ----------------------------

_T = TypeVar("_T", bound=Table)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _validated(model: type[_T], raw: object, root: str) -> _T:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise SettingsError(_message(error.errors()[0], root)) from None


def _key(part: str) -> str:
    return part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'


def _message(error: ErrorDetails, root: str) -> str:
    """`tool.kfn.scale.min-scale = '1': must be a whole number`, and the like."""
    loc = [part for part in error["loc"] if isinstance(part, str) and part not in UNION_BRANCHES]
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc.pop()
    path = ".".join([root, *(_key(part) for part in loc)])
    value = error.get("input")
    kind = error["type"]
    if kind == "unknown_key":
        context = error.get("ctx", {})
        key, known = context["key"], list(context["known"])
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{path}.{_key(key)}: unknown key{hint}; the keys are {', '.join(known)}"
    if kind == "missing_key":
        return f"{path}.{_key(error.get('ctx', {})['key'])}: {error['msg']}"
    if kind == "unrepeated":
        return f"{path}: {error['msg']}"
    if kind == "value_error":
        problem = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        problem = "must be a table"
    else:
        problem = error["msg"]
    if is_key or isinstance(value, dict):
        return f"{path}: {problem}"
    return f"{path} = {value!r}: {problem}"


__all__ = [
    "APP_KEYS",
    "IDEMPOTENCY_STORE_ENV",
    "IDEMPOTENCY_TTL_ENV",
    "PYPROJECT",
    "UNIT_KEYS",
    "AppTable",
    "Delivery",
    "Destination",
    "EnvVar",
    "ProjectSettings",
    "SettingsError",
    "UnitSettings",
    "load",
    "parse",
    "parse_decorator_delivery",
    "parse_delivery",
]
