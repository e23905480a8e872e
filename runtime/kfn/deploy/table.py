"""The `[tool.kfn]` table as pydantic models: its keys (kebab-case), their types and checks.

Every table refuses a key it does not know (the message suggests the closest one), and
every check raises a ValueError saying what the value must be; kfn.deploy.settings turns
the first error into one line naming the key's full path, and resolves the table into
kfn.deploy.types. A new `[tool.kfn]` key is a field here and a line in settings.parse.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kfn._syntax import is_module_name
from kfn.deploy import formats
from kfn.deploy.knative import RESERVED_ENV_NAMES

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
        "KFN_OIDC_AUDIENCE",
        "KFN_EVENT_ENDPOINTS",
        "KFN_GRACE_PERIOD",
    }
)
"""Env vars kfn sets itself, which `[tool.kfn.env]` may not."""
BACKOFF_POLICIES = ("exponential", "linear")


# -- value checks: each raises ValueError with what the value must be ------------------

_DNS1035_HINT = "lower-case letters, digits and '-', starting with a letter, at most 63"
_DNS1123_HINT = "lower-case letters, digits, '-' and '.', starting and ending alphanumeric"
_IMAGE_HINT = "an image reference such as 'registry.example.com/team/app:1.0'"


def _text(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _valid(test: Callable[[str], bool], hint: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not test(value):
            raise ValueError(f"is not valid: {hint}")
        return value

    return check


def _whole(low: int, high: int) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return check


def _boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _string_list(value: object) -> object:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
        raise ValueError("must be a list of strings")
    return tuple(items)


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _scale_integer(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be a whole number")
    return str(value)


def _scale_number(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("must be a number")
    return _number_text(value)


def _scale_duration(value: object) -> str:
    try:
        seconds = formats.parse_seconds(value)
    except formats.DurationError:
        raise ValueError("must be a duration such as '30s', '5m' or 90") from None
    return _go_duration(seconds)


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


def _quantity(value: object) -> str:
    text = (
        _number_text(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value
    )
    if not isinstance(text, str) or not formats.is_quantity(text):
        raise ValueError("must be a Kubernetes quantity such as '100m', '0.5' or '256Mi'")
    return text


def _env_name(name: object) -> object:
    if not isinstance(name, str) or not formats.ENV_NAME.match(name):
        raise ValueError("is not a valid environment variable name")
    if name in RESERVED_ENV_NAMES:
        raise ValueError("is reserved; Knative sets it in every container")
    if name in MANAGED_ENV:
        raise ValueError(
            "is set by kfn itself (use [tool.kfn] functions, grace-period, "
            "[tool.kfn.idempotency], service= on the decorators, or emits=)"
        )
    return name


def _env_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError("must be a string, a number, or a secret/config-map reference")


def _group_name(name: object) -> object:
    if not isinstance(name, str) or not formats.is_dns1035_label(name):
        raise ValueError(f"is not a Knative Service name ({_DNS1035_HINT})")
    return name


def _iso_duration(allow_zero: bool) -> Callable[[object], str]:
    def convert(raw: object) -> str:
        try:
            if isinstance(raw, str) and raw.strip().upper().startswith(("P", "-P", "+P")):
                seconds = formats.parse_iso8601_duration(raw.strip())
                text = raw.strip()
            else:
                seconds = formats.parse_seconds(raw)
                text = formats.format_iso8601_seconds(seconds)
        except formats.DurationError:
            raise ValueError(
                "must be a duration such as '200ms', '30s', 2 or ISO-8601 'PT0.2S'"
            ) from None
        if seconds < 0:
            raise ValueError("must not be negative")
        if seconds == 0 and not allow_zero:
            raise ValueError("must be greater than zero")
        return text

    return convert


def _host_duration(name: str, example: str) -> Callable[[object], str]:
    """A duration as the host reads it from `name` (kept as written, for the env var)."""

    def check(raw: object) -> str:
        from kfn._errors import ConfigError
        from kfn.config import parse_duration

        try:
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                raise ConfigError("not a duration")
            parse_duration(name, str(raw))
        except ConfigError:
            raise ValueError(f"must be a duration such as {example}") from None
        return str(raw).strip()

    return check


_ttl = _host_duration(IDEMPOTENCY_TTL_ENV, "'1h', '30m' or 3600")


def _absolute_uri(value: object) -> object:
    if not isinstance(value, str) or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s]+", value):
        raise ValueError("must be an absolute URI such as 'http://dlq.default.svc'")
    return value


def _output(value: str) -> str:
    if Path(value).is_absolute() or ".." in Path(value).parts:
        raise ValueError("is not valid: a folder inside the project")
    return value


def _is_python_version(version: str) -> bool:
    return re.fullmatch(r"3\.[0-9]{1,2}", version) is not None


def _is_extra_name(extra: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", extra) is not None


_TABLE, _TEXT = "(table)", "(text)"
"""The branch names of the scalar-or-table unions (env values, dead-letter sinks)."""


UNION_BRANCHES = frozenset({_TABLE, _TEXT})
"""What pydantic puts in an error's path inside a scalar-or-table value: no key of the table."""


def _table_or_text(value: object) -> str:
    return _TABLE if isinstance(value, dict) else _TEXT


Text = Annotated[str, BeforeValidator(_text)]
ServiceName = Annotated[
    str, BeforeValidator(_text), AfterValidator(_valid(formats.is_dns1035_label, _DNS1035_HINT))
]
Dns1123Label = Annotated[
    str, BeforeValidator(_text), AfterValidator(_valid(formats.is_dns1123_label, _DNS1123_HINT))
]
Dns1123Name = Annotated[
    str,
    BeforeValidator(_text),
    AfterValidator(_valid(formats.is_dns1123_subdomain, _DNS1123_HINT)),
]
ImageReference = Annotated[
    str, BeforeValidator(_text), AfterValidator(_valid(formats.is_image_reference, _IMAGE_HINT))
]
ModuleName = Annotated[
    str,
    BeforeValidator(_text),
    AfterValidator(
        _valid(is_module_name, "an importable module name such as 'functions' or 'app.handlers'")
    ),
]
ExtraName = Annotated[
    str,
    BeforeValidator(_text),
    AfterValidator(
        _valid(
            _is_extra_name,
            "the name of an optional-dependencies group of the project, such as 'redis'",
        )
    ),
]
PythonVersion = Annotated[
    str,
    BeforeValidator(_text),
    AfterValidator(
        _valid(
            _is_python_version,
            "a Python version such as '3.13' (the python:<version>-slim base image)",
        )
    ),
]
Folder = Annotated[str, BeforeValidator(_text), AfterValidator(_output)]
Port = Annotated[int, BeforeValidator(_whole(1, 65535))]
Concurrency = Annotated[int, BeforeValidator(_whole(0, 1000))]
TimeoutSeconds = Annotated[int, BeforeValidator(_whole(1, 600))]
GracePeriod = Annotated[
    str, BeforeValidator(_host_duration("KFN_GRACE_PERIOD", "'20s', '1m' or 45"))
]
Retry = Annotated[int, BeforeValidator(_whole(0, 2**31 - 1))]
Backoff = Annotated[str, BeforeValidator(_iso_duration(allow_zero=True))]
Timeout = Annotated[str, BeforeValidator(_iso_duration(allow_zero=False))]
Names = Annotated[tuple[Dns1123Name, ...], BeforeValidator(_string_list)]
Boolean = Annotated[bool, BeforeValidator(_boolean)]
ScaleInteger = Annotated[str, BeforeValidator(_scale_integer)]
ScaleNumber = Annotated[str, BeforeValidator(_scale_number)]
ScaleDuration = Annotated[str, BeforeValidator(_scale_duration)]
Quantities = dict[str, Annotated[str, BeforeValidator(_quantity)]]
EnvName = Annotated[str, BeforeValidator(_env_name)]
GroupName = Annotated[str, BeforeValidator(_group_name)]


# -- the table's model ------------------------------------------------------------------


def _kebab(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


class Table(BaseModel):
    """One TOML table: kebab-case keys, every key optional unless said, no unknown key."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=_kebab)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The table's keys, its own before those it shares with a base table."""
        own = inspect.get_annotations(cls)
        names = sorted(cls.model_fields, key=lambda name: name not in own)
        return tuple(cls.model_fields[name].alias or name for name in names)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = cls.keys()
            for key in data:
                if key not in known:
                    raise PydanticCustomError(
                        "unknown_key", "unknown key", {"key": str(key), "known": known}
                    )
        return data

    def given(self) -> dict[str, Any]:
        """The keys the table set, by their TOML names."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class ScaleTable(Table):
    """`[tool.kfn.scale]`: autoscaling annotations, each kept as the text Knative reads."""

    class_: Text | None = None
    min_scale: ScaleInteger | None = None
    max_scale: ScaleInteger | None = None
    initial_scale: ScaleInteger | None = None
    activation_scale: ScaleInteger | None = None
    metric: Text | None = None
    target: ScaleNumber | None = None
    target_utilization_percentage: ScaleNumber | None = None
    target_burst_capacity: ScaleNumber | None = None
    window: ScaleDuration | None = None
    panic_window_percentage: ScaleNumber | None = None
    panic_threshold_percentage: ScaleNumber | None = None
    scale_down_delay: ScaleDuration | None = None
    scale_to_zero_pod_retention_period: ScaleDuration | None = None
    metric_aggregation_algorithm: Text | None = None


class ResourcesTable(Table):
    requests: Quantities | None = None
    limits: Quantities | None = None


class EnvReference(Table):
    """One key of a Secret or a ConfigMap."""

    secret: Dns1123Name | None = None
    config_map: Dns1123Name | None = None
    key: Text | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnvReference:
        if (self.secret is None) == (self.config_map is None) or self.key is None:
            raise ValueError(
                'write { secret = "<name>", key = "<key>" } or '
                '{ config-map = "<name>", key = "<key>" }'
            )
        return self


EnvValue = Annotated[
    Annotated[EnvReference, Tag(_TABLE)]
    | Annotated[str, BeforeValidator(_env_literal), Tag(_TEXT)],
    Discriminator(_table_or_text),
]


class UnitTable(Table):
    """What one Knative Service runs with: the app's keys, and each group's overrides."""

    scale: ScaleTable | None = None
    resources: ResourcesTable | None = None
    env: dict[EnvName, EnvValue] | None = None
    secrets: Names | None = None
    config_maps: Names | None = None
    container_concurrency: Concurrency | None = None
    timeout_seconds: TimeoutSeconds | None = None
    grace_period: GracePeriod | None = None
    service_account: Dns1123Name | None = None


class DestinationReference(Table):
    api_version: Text | None = None
    kind: Text | None = None
    name: Text | None = None
    uri: Text | None = None

    @model_validator(mode="after")
    def _complete(self) -> DestinationReference:
        if not (self.api_version and self.kind and self.name):
            raise ValueError(
                'a reference needs api-version, kind and name, e.g. { api-version = "serving.knative.dev/v1", kind = "Service", name = "dlq" }'
            )
        if self.uri is not None and "://" in self.uri:
            raise ValueError("with a reference, uri must be a relative path")
        return self


def _sink_shape(value: object) -> object:
    if not isinstance(value, str | dict):
        raise ValueError("must be a URI or a { api-version, kind, name } reference")
    return value


DeadLetterSink = Annotated[
    Annotated[DestinationReference, Tag(_TABLE)]
    | Annotated[str, BeforeValidator(_absolute_uri), Tag(_TEXT)],
    Discriminator(_table_or_text),
    BeforeValidator(_sink_shape),
]


def _policy(value: object) -> object:
    if value not in BACKOFF_POLICIES:
        raise ValueError("must be 'exponential' or 'linear'")
    return value


class DeliveryTable(Table):
    """`[tool.kfn.delivery]`, or a decorator's delivery=: durations become ISO-8601."""

    retry: Retry | None = None
    backoff_policy: Annotated[str, BeforeValidator(_policy)] | None = None
    backoff_delay: Backoff | None = None
    timeout: Timeout | None = None
    dead_letter_sink: DeadLetterSink | None = None


_STORE_HINT = (
    'write { secret = "<name>", key = "<key>" }; the Redis URL carries its password, '
    "so it comes from a Secret, never a literal in a manifest"
)


class StoreReference(Table):
    secret: Dns1123Name
    key: Text

    @model_validator(mode="before")
    @classmethod
    def _a_secret_key(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "secret" not in data or "key" not in data:
            # The value is not repeated: a literal Redis URL holds a password.
            raise PydanticCustomError("unrepeated", _STORE_HINT)
        return data


class IdempotencyTable(Table):
    """`[tool.kfn.idempotency]`: the claims' store (a Secret's key) and their TTL."""

    store: StoreReference | None = None
    ttl: Annotated[str, BeforeValidator(_ttl)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_store(cls, data: Any) -> Any:
        if isinstance(data, dict) and "store" not in data:
            raise PydanticCustomError("missing_key", _STORE_HINT, {"key": "store"})
        return data


class AppTable(UnitTable):
    """`[tool.kfn]`: the app's settings, its groups under `services`."""

    name: ServiceName | None = None
    namespace: Dns1123Label | None = None
    broker: Dns1123Name | None = None
    image: ImageReference | None = None
    functions: Annotated[tuple[ModuleName, ...], BeforeValidator(_string_list)] | None = None
    port: Port | None = None
    output: Folder | None = None
    python_version: PythonVersion | None = None
    base_image: ImageReference | None = None
    extras: Annotated[tuple[ExtraName, ...], BeforeValidator(_string_list)] | None = None
    event_types: Boolean = True
    sender_identity: Boolean = False
    public_events: Boolean = False
    delivery: DeliveryTable | None = None
    idempotency: IdempotencyTable | None = None
    services: dict[GroupName, UnitTable] | None = None


UNIT_KEYS = UnitTable.keys()
APP_KEYS = AppTable.keys()


__all__ = [
    "APP_KEYS",
    "IDEMPOTENCY_STORE_ENV",
    "IDEMPOTENCY_TTL_ENV",
    "MANAGED_ENV",
    "UNION_BRANCHES",
    "UNIT_KEYS",
    "AppTable",
    "DeliveryTable",
    "DestinationReference",
    "EnvReference",
    "IdempotencyTable",
    "ScaleTable",
    "Table",
    "UnitTable",
]
