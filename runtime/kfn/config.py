"""Settings read once, at startup, from the environment into one typed object.

Every knob of the host lives here so that a bad value stops the process before it
serves anything, with a message that names the variable, instead of surfacing as a
strange failure on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from kfn._errors import ConfigError
from kfn._syntax import (
    NANOS_PER_SECOND,
    DurationError,
    is_module_name,
    is_service_name,
)
from kfn._syntax import parse_duration as parse_duration_nanos

DEFAULT_PORT = 8080
"""Knative's default user port; Knative sets PORT in the container."""
DEFAULT_FUNCTIONS = ("functions",)
"""The modules the host loads when KFN_FUNCTIONS (or [tool.kfn] functions) names none."""
EMIT_TIMEOUT_SECONDS = 10.0
EMIT_RETRIES = 3


def default_sync_threads() -> int:
    """Worker threads for sync functions when KFN_SYNC_THREADS is unset: the stdlib's default."""
    return min(32, (os.cpu_count() or 1) + 4)


def parse_duration(name: str, raw: str) -> float:
    """Seconds from '30', '1.5', '30s', '500ms', '2m' or '1m30s' (the grammar of [tool.kfn] too)."""
    try:
        seconds = parse_duration_nanos(raw) / NANOS_PER_SECOND
    except DurationError:
        raise ConfigError(
            f"{name}={raw!r} is not a duration: use seconds ('30'), or Go's syntax "
            "('500ms', '2m', '1m30s')"
        ) from None
    if seconds <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than zero")
    return seconds


def _parse_int(name: str, raw: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}{upper}")
    return value


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false")


STORE_SCHEMES = ("memory", "redis", "rediss", "unix")


def _parse_store(name: str, raw: str) -> str:
    """`memory`, or a Redis URL (redis://, rediss://, unix://); the URL is never echoed back."""
    if raw == "memory":
        return raw
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else None
    if scheme not in STORE_SCHEMES:
        raise ConfigError(
            f"{name} must be 'memory' or a Redis URL (redis://, rediss://, unix://); "
            "the value set is neither"
        )
    return "memory" if scheme == "memory" else raw


@dataclass(frozen=True)
class Settings:
    """The host's configuration; see README "Configuration" for each variable."""

    port: int = DEFAULT_PORT
    functions: tuple[str, ...] = DEFAULT_FUNCTIONS
    max_body_bytes: int = 4 * 1024 * 1024
    max_in_flight: int = 1000
    function_timeout: float = 60.0
    grace_period: float = 30.0
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 2048
    """Open connections past this get 503; lowered at start to what the file limit allows."""
    reply_source: str = ""
    log_level: str = "INFO"
    access_log: bool = False
    log_format: str = ""
    """"json" or "text"; empty: text on a terminal, JSON otherwise."""
    local_broker: bool = False
    schedules: bool = False
    console: bool = False
    emit_timeout: float = EMIT_TIMEOUT_SECONDS
    emit_retries: int = EMIT_RETRIES
    service_unit: str = ""
    idempotency_store: str = field(default="memory", repr=False)  # a URL may hold a password
    idempotency_ttl: float = 3600.0
    sync_threads: int = field(default_factory=default_sync_threads)
    k_service: str = ""
    oidc_audience: str = ""
    """Set: event requests need a sender-identity token for this audience (kfn.sender_identity)."""
    oidc_issuer: str = ""
    oidc_jwks_url: str = ""
    event_endpoints: bool = True
    """False: `POST /` and `/events/...` refuse every event (a public Service's HTTP half)."""

    @property
    def default_reply_source(self) -> str:
        """The source of reply events when a function does not set its own."""
        return self.reply_source or f"/kfn/{self.k_service or 'local'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; raise ConfigError naming the first bad one."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value is not None and value.strip() != "" else None

        kwargs: dict[str, object] = {}
        if (raw := get("PORT")) is not None:
            kwargs["port"] = _parse_int("PORT", raw, 1, 65535)
        if (raw := get("KFN_FUNCTIONS")) is not None:
            modules = tuple(part.strip() for part in raw.split(",") if part.strip())
            for module in modules:
                if not is_module_name(module):
                    raise ConfigError(
                        f"KFN_FUNCTIONS={raw!r}: {module!r} is not an importable module name"
                    )
            if not modules:
                raise ConfigError(f"KFN_FUNCTIONS={raw!r} names no module")
            kwargs["functions"] = modules
        if (raw := get("KFN_MAX_BODY_BYTES")) is not None:
            kwargs["max_body_bytes"] = _parse_int("KFN_MAX_BODY_BYTES", raw, 1)
        if (raw := get("KFN_MAX_IN_FLIGHT")) is not None:
            kwargs["max_in_flight"] = _parse_int("KFN_MAX_IN_FLIGHT", raw, 1)
        if (raw := get("KFN_TIMEOUT")) is not None:
            kwargs["function_timeout"] = parse_duration("KFN_TIMEOUT", raw)
        if (raw := get("KFN_GRACE_PERIOD")) is not None:
            kwargs["grace_period"] = parse_duration("KFN_GRACE_PERIOD", raw)
        if (raw := get("KFN_MAX_HEADER_BYTES")) is not None:
            kwargs["max_header_bytes"] = _parse_int("KFN_MAX_HEADER_BYTES", raw, 1024)
        if (raw := get("KFN_MAX_HEADERS")) is not None:
            kwargs["max_headers"] = _parse_int("KFN_MAX_HEADERS", raw, 8)
        if (raw := get("KFN_HEADER_TIMEOUT")) is not None:
            kwargs["header_timeout"] = parse_duration("KFN_HEADER_TIMEOUT", raw)
        if (raw := get("KFN_BODY_TIMEOUT")) is not None:
            kwargs["body_timeout"] = parse_duration("KFN_BODY_TIMEOUT", raw)
        if (raw := get("KFN_MAX_CONNECTIONS")) is not None:
            kwargs["max_connections"] = _parse_int("KFN_MAX_CONNECTIONS", raw, 1)
        if (raw := get("KFN_REPLY_SOURCE")) is not None:
            kwargs["reply_source"] = raw.strip()
        if (raw := get("KFN_LOG_LEVEL")) is not None:
            level = raw.strip().upper()
            if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
                raise ConfigError(
                    f"KFN_LOG_LEVEL={raw!r} must be one of DEBUG, INFO, WARNING, ERROR"
                )
            kwargs["log_level"] = level
        if (raw := get("KFN_LOG_FORMAT")) is not None:
            kind = raw.strip().lower()
            if kind not in {"json", "text"}:
                raise ConfigError(f"KFN_LOG_FORMAT={raw!r} must be json or text")
            kwargs["log_format"] = kind
        if (raw := get("KFN_ACCESS_LOG")) is not None:
            kwargs["access_log"] = _parse_bool("KFN_ACCESS_LOG", raw)
        # The local event loop (runtime/kfn/local_broker.py, runtime/kfn/local_schedules.py): `kfn run`
        # turns these on off Knative; plain `uvicorn kfn.app:app` leaves them off.
        if (raw := get("KFN_LOCAL_BROKER")) is not None:
            kwargs["local_broker"] = _parse_bool("KFN_LOCAL_BROKER", raw)
        if (raw := get("KFN_SCHEDULES")) is not None:
            kwargs["schedules"] = _parse_bool("KFN_SCHEDULES", raw)
        if (raw := get("KFN_CONSOLE")) is not None:
            kwargs["console"] = _parse_bool("KFN_CONSOLE", raw)
        if (raw := get("KFN_EMIT_TIMEOUT")) is not None:
            kwargs["emit_timeout"] = parse_duration("KFN_EMIT_TIMEOUT", raw)
        if (raw := get("KFN_EMIT_RETRIES")) is not None:
            kwargs["emit_retries"] = _parse_int("KFN_EMIT_RETRIES", raw, 0, 10)
        if (raw := get("KFN_SERVICE_UNIT")) is not None:
            # Set by `kfn manifests` on each Service of an app grouped with service=...
            unit = raw.strip()
            if not is_service_name(unit):
                raise ConfigError(
                    f"KFN_SERVICE_UNIT={raw!r} is not a Knative Service name "
                    "(lower-case letters, digits and '-', starting with a letter)"
                )
            kwargs["service_unit"] = unit
        if (raw := get("KFN_IDEMPOTENCY_STORE")) is not None:
            kwargs["idempotency_store"] = _parse_store("KFN_IDEMPOTENCY_STORE", raw.strip())
        if (raw := get("KFN_IDEMPOTENCY_TTL")) is not None:
            kwargs["idempotency_ttl"] = parse_duration("KFN_IDEMPOTENCY_TTL", raw)
        if (raw := get("KFN_SYNC_THREADS")) is not None:
            kwargs["sync_threads"] = _parse_int("KFN_SYNC_THREADS", raw, 1, 1024)
        kwargs["k_service"] = env.get("K_SERVICE", "")
        if (raw := get("KFN_OIDC_AUDIENCE")) is not None:
            kwargs["oidc_audience"] = raw.strip()
        if (raw := get("KFN_OIDC_ISSUER")) is not None:
            kwargs["oidc_issuer"] = raw.strip()
        if (raw := get("KFN_OIDC_JWKS_URL")) is not None:
            url = raw.strip()
            if not url.startswith(("https://", "http://")):
                raise ConfigError(f"KFN_OIDC_JWKS_URL={raw!r} is not an http(s) URL")
            kwargs["oidc_jwks_url"] = url
        if not kwargs.get("oidc_audience") and (
            "oidc_issuer" in kwargs or "oidc_jwks_url" in kwargs
        ):
            raise ConfigError(
                "KFN_OIDC_ISSUER and KFN_OIDC_JWKS_URL take effect with KFN_OIDC_AUDIENCE, "
                "which is not set: set the audience the senders' tokens are for"
            )
        if (raw := get("KFN_EVENT_ENDPOINTS")) is not None:
            kwargs["event_endpoints"] = _parse_bool("KFN_EVENT_ENDPOINTS", raw)
        return cls(**kwargs)  # type: ignore[arg-type]
