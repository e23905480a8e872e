"""Where emitted events go: the SinkBinding contract (CONTRACT.md "SinkBinding").

A SinkBinding injects `K_SINK` (the Broker's URL), `K_CE_OVERRIDES` (JSON such as
`{"extensions": {"team": "shop"}}`, applied to every event sent), `K_CA_CERTS`
(PEM certificates to trust, only when the sink has its own CA) and, with OIDC on,
mounts a token at `/oidc/token` that is refreshed in place and must be re-read for
each request. All of it is read and checked here, once, so a malformed value stops
the app at startup instead of failing the first emit.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kfn._errors import ConfigError
from kfn._syntax import is_attribute_name

DEFAULT_TOKEN_PATH = "/oidc/token"
"""Where a SinkBinding with OIDC mounts the token (eventing sinkbinding_lifecycle.go)."""

CORE_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)


class TokenError(OSError):
    """The OIDC token file exists but cannot be read."""


@dataclass(frozen=True)
class SinkConfig:
    """The sink of one process: its URL, the overrides, the CA certificates, the token file."""

    url: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    ca_certs: str | None = None
    token_path: str = DEFAULT_TOKEN_PATH

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SinkConfig:
        """Read K_SINK, K_CE_OVERRIDES, K_CA_CERTS and KFN_OIDC_TOKEN_PATH; ConfigError names a bad one."""
        env = os.environ if environ is None else environ
        url = (env.get("K_SINK") or "").strip() or None
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"K_SINK={url!r} is not an absolute http(s) URL")
        ca_certs = (env.get("K_CA_CERTS") or "").strip() or None
        if ca_certs is not None:
            _check_pem(ca_certs)
        token_path = (env.get("KFN_OIDC_TOKEN_PATH") or "").strip() or DEFAULT_TOKEN_PATH
        return cls(
            url=url,
            overrides=parse_overrides(env.get("K_CE_OVERRIDES") or ""),
            ca_certs=ca_certs,
            token_path=token_path,
        )

    def verify(self) -> ssl.SSLContext | bool:
        """What httpx verifies the sink's certificate with: system CAs plus K_CA_CERTS."""
        if self.ca_certs is None:
            return True
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=self.ca_certs)
        return context

    def bearer_token(self) -> str | None:
        """The OIDC token, read now (it is rotated in place), or None when none is mounted."""
        try:
            token = Path(self.token_path).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise TokenError(
                f"cannot read the OIDC token at {self.token_path}: {error.strerror or error}"
            ) from None
        return token or None


def parse_overrides(raw: str) -> dict[str, str]:
    """The extensions of K_CE_OVERRIDES (`{"extensions": {...}}`, or empty for none)."""
    if not raw.strip():
        return {}
    try:
        document: Any = json.loads(raw)
    except ValueError:
        raise ConfigError(
            f'K_CE_OVERRIDES={raw!r} is not JSON; expected {{"extensions": {{"name": "value"}}}}'
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(f"K_CE_OVERRIDES={raw!r} must be a JSON object")
    extensions = document.get("extensions") or {}
    if not isinstance(extensions, dict):
        raise ConfigError(f"K_CE_OVERRIDES={raw!r}: 'extensions' must be an object")
    overrides: dict[str, str] = {}
    for name, value in extensions.items():
        # Knative's sdk-go lower-cases extension names when it sets them.
        lowered = str(name).lower()
        if not is_attribute_name(lowered):
            raise ConfigError(
                f"K_CE_OVERRIDES: extension {name!r} is not a valid name (letters and digits)"
            )
        if lowered in CORE_ATTRIBUTES or lowered == "data":
            raise ConfigError(
                f"K_CE_OVERRIDES: {name!r} is a core attribute, not an extension; "
                "ceOverrides only sets extensions"
            )
        if not isinstance(value, str):
            raise ConfigError(f"K_CE_OVERRIDES: the value of extension {name!r} must be a string")
        overrides[lowered] = value
    return overrides


def _check_pem(pem: str) -> None:
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise ConfigError(
            "K_CA_CERTS does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)"
        )
    try:
        ssl.create_default_context().load_verify_locations(cadata=pem)
    except (ssl.SSLError, ValueError) as error:
        raise ConfigError(f"K_CA_CERTS holds no usable PEM certificate: {error}") from None
