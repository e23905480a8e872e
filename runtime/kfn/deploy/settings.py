"""`[tool.kfn]` in pyproject.toml, read once into typed settings; a wrong key or value names itself.

    [tool.kfn]
    name = "shop"                 # the app's (main) Knative Service; default: [project].name
    namespace = "default"
    broker = "default"
    image = "registry.example.com/shop:1.0"
    functions = ["functions"]     # the modules to load (KFN_FUNCTIONS)
    port = 8080                   # where `kfn run` listens and `kfn invoke` sends, locally
    secrets = ["shop-db"]         # every key of these Secrets becomes an env var

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

The types live in kfn.deploy.types, the defaults in kfn.deploy.defaults, as Knative
keeps `_types`, `_defaults` and `_validation` apart; this module reads and checks.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from kfn._syntax import is_module_name
from kfn.config import DEFAULT_FUNCTIONS
from kfn.deploy import defaults, formats
from kfn.deploy.errors import DeployError
from kfn.deploy.knative import AUTOSCALING_PREFIX, RESERVED_ENV_NAMES, SCALE_KEYS
from kfn.deploy.types import Delivery, Destination, EnvVar, ProjectSettings, UnitSettings

PYPROJECT = "pyproject.toml"
IDEMPOTENCY_STORE_ENV = "KFN_IDEMPOTENCY_STORE"
IDEMPOTENCY_TTL_ENV = "KFN_IDEMPOTENCY_TTL"
MANAGED_ENV = frozenset(
    {
        "KFN_FUNCTIONS",
        "KFN_SERVICE_UNIT",
        "K_SINK",
        "K_CE_OVERRIDES",
        IDEMPOTENCY_STORE_ENV,
        IDEMPOTENCY_TTL_ENV,
    }
)
_SCALE_INTEGERS = frozenset({"min-scale", "max-scale", "initial-scale", "activation-scale"})
_SCALE_DURATIONS = frozenset({"window", "scale-down-delay", "scale-to-zero-pod-retention-period"})
_SCALE_STRINGS = frozenset({"class", "metric", "metric-aggregation-algorithm"})
BACKOFF_POLICIES = ("exponential", "linear")
UNIT_KEYS = (
    "scale",
    "resources",
    "env",
    "secrets",
    "config-maps",
    "container-concurrency",
    "timeout-seconds",
    "service-account",
)
APP_KEYS = (
    "name",
    "namespace",
    "broker",
    "image",
    "functions",
    "port",
    "output",
    "python-version",
    "base-image",
    "extras",
    "event-types",
    "delivery",
    "idempotency",
    "services",
    *UNIT_KEYS,
)


class SettingsError(DeployError):
    """A `[tool.kfn]` key or value is wrong; the message names it."""


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
    table = _Table(raw, "[tool.kfn]")
    name = table.text("name")
    if name is None:
        if not isinstance(project_name, str) or not project_name:
            raise SettingsError(
                "[tool.kfn] name is not set and [project] has no name: set "
                '[tool.kfn] name = "<service>"'
            )
        name = formats.dns_name(project_name)
    _check(table, "name", name, formats.is_dns1035_label(name), _DNS1035_HINT)
    namespace = table.text("namespace") or defaults.NAMESPACE
    _check(table, "namespace", namespace, formats.is_dns1123_label(namespace), _DNS1123_HINT)
    broker = table.text("broker") or defaults.BROKER
    _check(table, "broker", broker, formats.is_dns1123_subdomain(broker), _DNS1123_HINT)
    image = table.text("image")
    if image is not None:
        _check(table, "image", image, formats.is_image_reference(image), _IMAGE_HINT)
    functions = table.strings("functions") or DEFAULT_FUNCTIONS
    for module in functions:
        _check(
            table,
            "functions",
            module,
            is_module_name(module),
            "an importable module name such as 'functions' or 'app.handlers'",
        )
    port = table.integer("port", low=1, high=65535)
    output = table.text("output") or defaults.OUTPUT
    _check(
        table,
        "output",
        output,
        not Path(output).is_absolute() and ".." not in Path(output).parts,
        "a folder inside the project",
    )
    python_version = table.text("python-version") or defaults.PYTHON_VERSION
    _check(
        table,
        "python-version",
        python_version,
        bool(re.fullmatch(r"3\.[0-9]{1,2}", python_version)),
        "a Python version such as '3.13' (the python:<version>-slim base image)",
    )
    base_image = table.text("base-image")
    if base_image is not None:
        _check(table, "base-image", base_image, formats.is_image_reference(base_image), _IMAGE_HINT)
    extras = table.strings("extras") or ()
    for extra in extras:
        _check(
            table,
            "extras",
            extra,
            bool(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", extra)),
            "the name of an optional-dependencies group of the project, such as 'redis'",
        )
    event_types = table.boolean("event-types", default=True)
    delivery_table = table.table("delivery")
    delivery = parse_delivery(delivery_table) if delivery_table is not None else Delivery()
    unit = _unit(table, UnitSettings())
    idempotency_table = table.table("idempotency")
    if idempotency_table is not None:
        unit = replace(unit, env=(*unit.env, *_idempotency(idempotency_table)))
    services: dict[str, UnitSettings] = {}
    services_table = table.table("services")
    if services_table is not None:
        for group in services_table.names():
            group_table = services_table.table(group)
            assert group_table is not None
            if not formats.is_dns1035_label(group):
                raise SettingsError(
                    f"[tool.kfn.services] {group!r} is not a Knative Service name ({_DNS1035_HINT})"
                )
            services[group] = _unit(group_table, unit)
            group_table.finish(UNIT_KEYS)
        services_table.finish(services_table.names())
    table.finish(APP_KEYS)
    return ProjectSettings(
        name=name,
        project_dir=project_dir,
        namespace=namespace,
        broker=broker,
        image=image,
        functions=functions,
        port=port,
        output=output,
        python_version=python_version,
        base_image=base_image,
        extras=extras,
        event_types=event_types,
        delivery=delivery,
        unit=unit,
        services=services,
    )


def _unit(table: _Table, base: UnitSettings) -> UnitSettings:
    """The unit-level keys of a table, over `base` (the app's settings, for a group)."""
    scale = dict(base.scale)
    scale_table = table.table("scale")
    if scale_table is not None:
        scale.update(_scale(scale_table))
        _check_scale(scale, scale_table.where)
    requests, limits = dict(base.requests), dict(base.limits)
    resources = table.table("resources")
    if resources is not None:
        for key, target in (("requests", requests), ("limits", limits)):
            sub = resources.table(key)
            if sub is not None:
                target.update(_quantities(sub))
        resources.finish(("requests", "limits"))
    env = list(base.env)
    env_table = table.table("env")
    if env_table is not None:
        for variable in _env(env_table):
            env = [v for v in env if v.name != variable.name]
            env.append(variable)
    secrets = _names(table, "secrets", base.secrets)
    config_maps = _names(table, "config-maps", base.config_maps)
    concurrency = table.integer("container-concurrency", low=0, high=1000)
    timeout = table.integer("timeout-seconds", low=1, high=600)
    account = table.text("service-account")
    if account is not None:
        _check(
            table,
            "service-account",
            account,
            formats.is_dns1123_subdomain(account),
            _DNS1123_HINT,
        )
    return UnitSettings(
        scale=scale,
        requests=requests,
        limits=limits,
        env=tuple(env),
        secrets=secrets,
        config_maps=config_maps,
        container_concurrency=base.container_concurrency if concurrency is None else concurrency,
        timeout_seconds=base.timeout_seconds if timeout is None else timeout,
        service_account=account if account is not None else base.service_account,
    )


def _scale(table: _Table) -> dict[str, str]:
    values: dict[str, str] = {}
    for key in table.names():
        if key not in SCALE_KEYS:
            continue  # reported by finish() with a suggestion
        raw = table.get(key)
        if key in _SCALE_INTEGERS:
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise table.error(key, raw, "must be a whole number")
            values[key] = str(raw)
        elif key in _SCALE_DURATIONS:
            try:
                seconds = formats.parse_seconds(raw)
            except formats.DurationError:
                raise table.error(
                    key, raw, "must be a duration such as '30s', '5m' or 90"
                ) from None
            values[key] = _go_duration(seconds)
        elif key in _SCALE_STRINGS:
            if not isinstance(raw, str) or not raw:
                raise table.error(key, raw, "must be a non-empty string")
            values[key] = raw
        else:
            if not isinstance(raw, int | float) or isinstance(raw, bool):
                raise table.error(key, raw, "must be a number")
            values[key] = _number(raw)
    table.finish(SCALE_KEYS)
    return values


def _check_scale(scale: Mapping[str, str], where: str) -> None:
    """Knative's annotation rules, reported against the settings keys."""
    from kfn.deploy.rules import autoscaling

    annotations = {AUTOSCALING_PREFIX + key: value for key, value in scale.items()}
    for violation in autoscaling.check(annotations, path="")[:1]:
        raise SettingsError(f"{where}: {violation.message}")


def _go_duration(seconds: Fraction) -> str:
    nanos = seconds * formats.NANOS_PER_SECOND
    if nanos.denominator != 1:
        return f"{float(seconds)}s"
    whole = int(nanos)
    if whole % formats.NANOS_PER_SECOND == 0:
        return formats.format_go_duration(whole // formats.NANOS_PER_SECOND)
    if whole % 1_000_000 == 0:
        return f"{whole // 1_000_000}ms"
    return f"{whole}ns"


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quantities(table: _Table) -> dict[str, str]:
    values: dict[str, str] = {}
    for key in table.names():
        raw = table.get(key)
        text = _number(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else raw
        if not isinstance(text, str) or not formats.is_quantity(text):
            raise table.error(
                key, raw, "must be a Kubernetes quantity such as '100m', '0.5' or '256Mi'"
            )
        values[key] = text
    table.finish(table.names())
    return values


def _env(table: _Table) -> list[EnvVar]:
    variables: list[EnvVar] = []
    for name in table.names():
        if not formats.ENV_NAME.match(name):
            raise SettingsError(f"{table.where}: {name!r} is not a valid environment variable name")
        if name in RESERVED_ENV_NAMES:
            raise SettingsError(
                f"{table.where}: {name} is reserved; Knative sets it in every container"
            )
        if name in MANAGED_ENV:
            raise SettingsError(
                f"{table.where}: {name} is set by kfn itself (use [tool.kfn] functions, "
                "[tool.kfn.idempotency], service= on the decorators, or emits=)"
            )
        raw = table.get(name)
        if isinstance(raw, bool):
            variables.append(EnvVar(name, value="true" if raw else "false"))
        elif isinstance(raw, str | int | float):
            variables.append(EnvVar(name, value=str(raw)))
        elif isinstance(raw, dict):
            ref = _Table(raw, f"{table.where} {name}")
            secret, config_map, key = ref.text("secret"), ref.text("config-map"), ref.text("key")
            ref.finish(("secret", "config-map", "key"))
            if (secret is None) == (config_map is None) or key is None:
                raise SettingsError(
                    f'{table.where} {name}: write {{ secret = "<name>", key = "<key>" }} or '
                    f'{{ config-map = "<name>", key = "<key>" }}'
                )
            for source in (secret, config_map):
                if source is not None and not formats.is_dns1123_subdomain(source):
                    raise SettingsError(f"{table.where} {name}: {source!r} is not a valid name")
            variables.append(EnvVar(name, secret=secret, config_map=config_map, key=key))
        else:
            raise table.error(
                name, raw, "must be a string, a number, or a secret/config-map reference"
            )
    table.finish(table.names())
    return variables


def _idempotency(table: _Table) -> tuple[EnvVar, ...]:
    """KFN_IDEMPOTENCY_STORE from a Secret's key (a Redis URL holds its password), and the TTL."""
    store = table.get("store")
    hint = (
        f'{table.where} store: write {{ secret = "<name>", key = "<key>" }}; the Redis URL '
        "carries its password, so it comes from a Secret, never a literal in a manifest"
    )
    if not isinstance(store, dict):
        raise SettingsError(hint)
    ref = _Table(store, f"{table.where} store")
    secret, key = ref.text("secret"), ref.text("key")
    ref.finish(("secret", "key"))
    if secret is None or key is None:
        raise SettingsError(hint)
    _check(ref, "secret", secret, formats.is_dns1123_subdomain(secret), _DNS1123_HINT)
    variables = [EnvVar(IDEMPOTENCY_STORE_ENV, secret=secret, key=key)]
    ttl = table.get("ttl")
    if ttl is not None:
        from kfn._errors import ConfigError
        from kfn.config import parse_duration

        try:
            if isinstance(ttl, bool) or not isinstance(ttl, str | int | float):
                raise ConfigError("not a duration")
            parse_duration(IDEMPOTENCY_TTL_ENV, str(ttl))
        except ConfigError:
            raise table.error(
                "ttl", ttl, "must be a duration such as '1h', '30m' or 3600"
            ) from None
        variables.append(EnvVar(IDEMPOTENCY_TTL_ENV, value=str(ttl).strip()))
    table.finish(("store", "ttl"))
    return tuple(variables)


def _names(table: _Table, key: str, base: tuple[str, ...]) -> tuple[str, ...]:
    names = list(base)
    for name in table.strings(key) or ():
        _check(table, key, name, formats.is_dns1123_subdomain(name), _DNS1123_HINT)
        if name not in names:
            names.append(name)
    return tuple(names)


def parse_delivery(table: _Table) -> Delivery:
    """A delivery table ([tool.kfn.delivery], or a decorator's delivery=)."""
    retry = table.integer("retry", low=0, high=2**31 - 1)
    policy = table.text("backoff-policy")
    if policy is not None and policy not in BACKOFF_POLICIES:
        raise table.error("backoff-policy", policy, "must be 'exponential' or 'linear'")
    delay = _iso_duration(table, "backoff-delay", allow_zero=True)
    timeout = _iso_duration(table, "timeout", allow_zero=False)
    sink = table.get("dead-letter-sink")
    destination = None if sink is None else _destination(table, "dead-letter-sink", sink)
    table.finish(("retry", "backoff-policy", "backoff-delay", "timeout", "dead-letter-sink"))
    return Delivery(
        retry=retry,
        backoff_policy=policy,
        backoff_delay=delay,
        timeout=timeout,
        dead_letter_sink=destination,
    )


def parse_decorator_delivery(delivery: Mapping[str, Any], where: str) -> Delivery:
    """`delivery=` on a decorator: the same keys, in snake_case or kebab-case."""
    normalized: dict[str, Any] = {}
    for key, value in delivery.items():
        normalized[str(key).replace("_", "-")] = value
    return parse_delivery(_Table(normalized, where))


def _iso_duration(table: _Table, key: str, allow_zero: bool) -> str | None:
    raw = table.get(key)
    if raw is None:
        return None
    try:
        if isinstance(raw, str) and raw.strip().upper().startswith(("P", "-P", "+P")):
            seconds = formats.parse_iso8601_duration(raw.strip())
            text = raw.strip()
        else:
            seconds = formats.parse_seconds(raw)
            text = formats.format_iso8601_seconds(seconds)
    except formats.DurationError:
        raise table.error(
            key, raw, "must be a duration such as '200ms', '30s', 2 or ISO-8601 'PT0.2S'"
        ) from None
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise table.error(
            key, raw, "must be greater than zero" if not allow_zero else "must not be negative"
        )
    return text


def _destination(table: _Table, key: str, raw: object) -> Destination:
    if isinstance(raw, str):
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s]+", raw):
            raise table.error(key, raw, "must be an absolute URI such as 'http://dlq.default.svc'")
        return Destination(uri=raw)
    if isinstance(raw, dict):
        ref = _Table(raw, f"{table.where} {key}")
        api_version, kind, name = ref.text("api-version"), ref.text("kind"), ref.text("name")
        uri = ref.text("uri")
        ref.finish(("api-version", "kind", "name", "uri"))
        if not (api_version and kind and name):
            raise SettingsError(
                f'{table.where} {key}: a reference needs api-version, kind and name, e.g. {{ api-version = "serving.knative.dev/v1", kind = "Service", name = "dlq" }}'
            )
        if uri is not None and "://" in uri:
            raise SettingsError(
                f"{table.where} {key}: with a reference, uri must be a relative path"
            )
        return Destination(uri=uri, api_version=api_version, kind=kind, name=name)
    raise table.error(key, raw, "must be a URI or a { api-version, kind, name } reference")


# -- a TOML table that remembers what was read ----------------------------------------

_DNS1035_HINT = "lower-case letters, digits and '-', starting with a letter, at most 63"
_DNS1123_HINT = "lower-case letters, digits, '-' and '.', starting and ending alphanumeric"
_IMAGE_HINT = "an image reference such as 'registry.example.com/team/app:1.0'"


def _check(table: _Table, key: str, value: object, ok: bool, hint: str) -> None:
    if not ok:
        raise table.error(key, value, f"is not valid: {hint}")


class _Table:
    """One TOML table: typed getters, and `finish` to reject keys nobody read."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise SettingsError(f"{where} must be a table, not {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.where = where

    def names(self) -> list[str]:
        return list(self.data)

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def error(self, key: str, value: object, problem: str) -> SettingsError:
        return SettingsError(f"{self.where} {key} = {value!r}: {problem}")

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.error(key, value, "must be a non-empty string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, value, "must be true or false")
        return value

    def integer(self, key: str, low: int, high: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.error(key, value, f"must be a whole number from {low} to {high}")
        return value

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, value, "must be a list of strings")
        return tuple(value)

    def table(self, key: str) -> _Table | None:
        value = self.data.get(key)
        if value is None:
            return None
        where = f"{self.where[:-1]}.{key}]" if self.where.endswith("]") else f"{self.where} {key}"
        return _Table(value, where)

    def finish(self, known: Iterable[str]) -> None:
        """Reject a key that is not a setting, suggesting the closest one."""
        allowed = list(known)
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SettingsError(
                    f"{self.where}: unknown key {key!r}{hint}; the keys are {', '.join(allowed)}"
                )


__all__ = [
    "IDEMPOTENCY_STORE_ENV",
    "IDEMPOTENCY_TTL_ENV",
    "PYPROJECT",
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
