"""Sender identity: the OIDC token Knative Eventing sends with every delivery.

With Eventing's `authentication-oidc` feature on, a Trigger's broker filter and a
PingSource request a token from the cluster for their subscriber's (sink's)
`audience` and send it as `Authorization: Bearer <token>`. The token is a JWT
signed by the cluster's service-account issuer. `SenderIdentity.verify` checks
one: signature by a key of the issuer's JWKS, `iss`, `aud` and `exp`; anything
else raises Unauthenticated (401).

Defaults are the cluster's own: the issuer from the API server's discovery
document, the keys from its `/openid/v1/jwks`, both fetched with the pod's
service-account token and CA. Keys are cached and fetched again when a token
names a key id the cache does not hold (a rotation), at most once per second.
A verified token is remembered until its `exp` (or the next fetch of the keys), so
the signature of the token a Trigger reuses for an hour is checked once.

This module and PyJWT (the `oidc` extra) are imported only when
KFN_OIDC_AUDIENCE is set.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt.algorithms import has_crypto

from kfn._errors import Unauthenticated, Unavailable

if not has_crypto:  # PyJWT without `cryptography` verifies no asymmetric signature
    raise ImportError("PyJWT[crypto] is needed: the cryptography package is missing")

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""Asymmetric algorithms only: a shared-secret (HS*) or `none` token is never accepted."""
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
API_SERVER = "https://kubernetes.default.svc"
"""Where a pod reaches the API server (Knative's default `oidc-discovery-base-url`)."""
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/openid/v1/jwks"
REFETCH_INTERVAL = 1.0
"""Seconds between two fetches of the keys, so unknown key ids cannot flood the issuer."""
KEYS_MAX_AGE = 600.0
"""Seconds a fetched key set is trusted before the next token makes it fetched again."""
FETCH_TIMEOUT = 5.0
VERIFIED_TOKENS = 1024
"""How many verified tokens are remembered until they expire (Knative reuses one for an hour)."""
MISSING = b'Bearer realm="kfn"'
INVALID = b'Bearer realm="kfn", error="invalid_token"'


@dataclass(frozen=True)
class IdentityConfig:
    """What a token must say (audience, issuer) and where the keys come from."""

    audience: str
    issuer: str = ""
    """Empty: the issuer of the API server's discovery document."""
    jwks_url: str = ""
    """Empty: the API server's /openid/v1/jwks."""
    api_server: str = API_SERVER
    service_account_dir: Path = SERVICE_ACCOUNT_DIR


class SenderIdentity:
    """Checks the bearer token of an event request; one per host, shared by every request."""

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self._issuer = config.issuer
        self._keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        """kid -> (key, the algorithm the key set declares for it, if any)."""
        self._fetched_at = -KEYS_MAX_AGE
        self._lock = asyncio.Lock()
        self._verified: dict[str, tuple[float, dict[str, Any]]] = {}
        """token -> (its `exp`, its claims); emptied whenever the key set is fetched again."""

    async def verify(self, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
        """The token's claims; raises Unauthenticated (401) or Unavailable (503, no keys)."""
        token = bearer_token(headers)
        known = self._verified.get(token)
        if known is not None and known[0] > time.time() and self._fresh():
            return known[1]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid("the bearer token is not a JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise invalid("the token's algorithm is not accepted (asymmetric signatures only)")
        kid = header.get("kid")
        key, declared = await self._key(kid if isinstance(kid, str) else "")
        if declared is not None and declared != algorithm:
            raise invalid("the token's algorithm is not its key's")
        issuer = self._issuer or await self._discover_issuer()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise invalid("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise invalid(f"the token is not for this audience ({self.config.audience})") from None
        except jwt.InvalidIssuerError:
            raise invalid("the token was not issued by the cluster's issuer") from None
        except jwt.InvalidSignatureError:
            raise invalid("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as missing:
            raise invalid(f"the token has no {missing.claim!r} claim") from None
        except jwt.PyJWTError:
            raise invalid("the token is not valid") from None
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (float(claims["exp"]), claims)
        return claims

    async def _key(self, kid: str) -> tuple[jwt.PyJWK, str | None]:
        """The issuer's key `kid`, fetching the key set when it is unknown or old."""
        key = self._keys.get(kid) if self._fresh() else None
        if key is not None:
            return key
        seen = self._fetched_at
        async with self._lock:
            key = self._keys.get(kid) if self._fresh() else None
            if key is None and (self._fetched_at == seen or not self._fresh()):
                # Nobody fetched while this request waited: fetch, so a new key is found.
                wait = self._fetched_at + REFETCH_INTERVAL - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._fetch_keys()
                key = self._keys.get(kid)
        if key is None:
            raise invalid("the token is signed with a key the issuer does not publish")
        return key

    def _fresh(self) -> bool:
        return time.monotonic() - self._fetched_at < KEYS_MAX_AGE

    async def _fetch_keys(self) -> None:
        url = self.config.jwks_url or self.config.api_server + JWKS_PATH
        document = await self._get_json(url, "keys")
        keys: dict[str, tuple[jwt.PyJWK, str | None]] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type or curve PyJWT cannot use signs no token we accept
            declared = entry.get("alg")
            keys[str(entry.get("kid", ""))] = (key, declared if isinstance(declared, str) else None)
        self._keys = keys
        self._verified = {}  # a key that left the set must not vouch for a token any longer
        self._fetched_at = time.monotonic()

    async def _discover_issuer(self) -> str:
        """The cluster's issuer, as Knative's own verifier learns it: the discovery document."""
        async with self._lock:
            if not self._issuer:
                url = self.config.api_server + DISCOVERY_PATH
                document = await self._get_json(url, "issuer")
                issuer = document.get("issuer") if isinstance(document, dict) else None
                if not isinstance(issuer, str) or not issuer:
                    raise Unavailable(
                        "identity-unavailable", "the cluster's OIDC discovery names no issuer"
                    )
                self._issuer = issuer
        return self._issuer

    async def _get_json(self, url: str, what: str) -> Any:
        """GET a JSON document; from the API server with the pod's service-account credentials."""
        headers, verify = self._credentials(url)
        try:
            async with httpx.AsyncClient(verify=verify, timeout=FETCH_TIMEOUT) as client:
                response = await client.get(url, headers=headers)
            response.raise_for_status()
            return json.loads(response.content)
        except (httpx.HTTPError, OSError, ValueError):
            raise Unavailable(
                "identity-unavailable",
                f"the {what} to check the sender's token could not be fetched",
            ) from None

    def _credentials(self, url: str) -> tuple[dict[str, str], ssl.SSLContext | bool]:
        """The service-account token and CA, for the API server only (never sent elsewhere)."""
        if not url.startswith(self.config.api_server + "/"):
            return {}, True
        directory = self.config.service_account_dir
        headers = {}
        token_file = directory / "token"
        if token_file.is_file():  # read each time: the kubelet rotates it in place
            headers["authorization"] = "Bearer " + token_file.read_text().strip()
        ca_file = directory / "ca.crt"
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca_file)) if ca_file.is_file() else True
        )
        return headers, verify


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str:
    """The token of the request's one `Authorization: Bearer` header; raises Unauthenticated."""
    values = [value for key, value in headers if key == b"authorization"]
    if not values:
        raise Unauthenticated(
            "event requests need an Authorization: Bearer token (sender identity)",
            challenge=MISSING,
        )
    if len(values) > 1:
        raise invalid("the request has more than one Authorization header")
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise invalid("the Authorization header is not a Bearer token")
    return token


def invalid(detail: str) -> Unauthenticated:
    return Unauthenticated(detail, challenge=INVALID)


def from_settings(audience: str, issuer: str, jwks_url: str) -> SenderIdentity:
    """The checker the host runs with (KFN_OIDC_AUDIENCE, KFN_OIDC_ISSUER, KFN_OIDC_JWKS_URL)."""
    return SenderIdentity(IdentityConfig(audience=audience, issuer=issuer, jwks_url=jwks_url))


__all__ = ["IdentityConfig", "SenderIdentity", "bearer_token", "from_settings"]
