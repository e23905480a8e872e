"""Sender identity's settings, and its in-cluster defaults against an API server of the test's.

The API server here is an HTTPS server on 127.0.0.1 with a certificate the test makes;
the pod's service-account folder is a temporary one holding its token and that CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from kfn import ConfigError
from kfn._errors import Unauthenticated, Unavailable
from kfn.config import Settings
from kfn.sender_identity import IdentityConfig, SenderIdentity, bearer_token
from tests.helpers import cold_start

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "serving.knative.dev/service/default/shop"
POD_TOKEN = "the-pods-own-service-account-token"


def test_an_audience_turns_sender_identity_on() -> None:
    settings = Settings.from_env(
        {"KFN_OIDC_AUDIENCE": AUDIENCE, "KFN_OIDC_JWKS_URL": "https://keys.example/jwks"}
    )
    assert settings.oidc_audience == AUDIENCE
    assert settings.oidc_jwks_url == "https://keys.example/jwks"
    assert Settings.from_env({}).oidc_audience == ""


def test_issuer_or_keys_without_an_audience_are_refused() -> None:
    with pytest.raises(ConfigError, match="KFN_OIDC_AUDIENCE"):
        Settings.from_env({"KFN_OIDC_ISSUER": ISSUER})


def test_a_jwks_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="KFN_OIDC_JWKS_URL"):
        Settings.from_env({"KFN_OIDC_AUDIENCE": AUDIENCE, "KFN_OIDC_JWKS_URL": "file:///keys"})


def test_event_endpoints_can_be_turned_off() -> None:
    assert Settings.from_env({"KFN_EVENT_ENDPOINTS": "false"}).event_endpoints is False
    assert Settings.from_env({}).event_endpoints is True
    with pytest.raises(ConfigError, match="KFN_EVENT_ENDPOINTS"):
        Settings.from_env({"KFN_EVENT_ENDPOINTS": "maybe"})


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ([], "need an Authorization: Bearer token"),
        ([(b"authorization", b"Bearer a"), (b"authorization", b"Bearer b")], "more than one"),
        ([(b"authorization", b"Bearer ")], "not a Bearer token"),
        ([(b"authorization", b"Token abc")], "not a Bearer token"),
    ],
)
def test_the_authorization_header_must_hold_one_bearer_token(
    headers: list[tuple[bytes, bytes]], detail: str
) -> None:
    with pytest.raises(Unauthenticated, match=detail):
        bearer_token(headers)


def test_the_scheme_is_case_insensitive() -> None:
    assert bearer_token([(b"authorization", b"bearer abc")]) == "abc"


def serving_json(
    documents: dict[str, Any], seen: list[str | None], authorization: str | None = None
) -> type[BaseHTTPRequestHandler]:
    """A GET handler: each path's document as JSON, every Authorization header noted in `seen`.

    Given `authorization`, a request that does not carry exactly that header gets 401.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("authorization"))
            if authorization is not None and self.headers.get("authorization") != authorization:
                self.send_error(401)
                return
            body = json.dumps(documents[self.path]).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class ApiServer:
    """/.well-known/openid-configuration and /openid/v1/jwks over TLS, for the pod's token only."""

    def __init__(self, directory: Path, issuer: str | None = ISSUER) -> None:
        self.key = rsa.generate_private_key(65537, 2048)
        self.seen: list[str | None] = []
        tls_key = rsa.generate_private_key(65537, 2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(tls_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(tls_key, hashes.SHA256())
        )
        (directory / "ca.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        (directory / "token").write_text(POD_TOKEN + "\n")
        key_file = directory / "tls.key"
        key_file.write_bytes(
            tls_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        documents: dict[str, Any] = {
            "/.well-known/openid-configuration": {"issuer": issuer} if issuer else {},
            "/openid/v1/jwks": {
                "keys": [
                    {
                        **RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True),
                        "kid": "api",
                        "use": "sig",
                    },
                    {"kty": "oct", "k": "c2VjcmV0", "kid": "symmetric", "use": "enc"},
                ]
            },
        }
        handler = serving_json(documents, self.seen, f"Bearer {POD_TOKEN}")
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(directory / "ca.crt", key_file)
        self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.http.server_address[1]}"

    def token(self, **claims: Any) -> str:
        payload = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600, **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": "api"})

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path)
    yield server
    server.stop()


def in_cluster(api_server: ApiServer, directory: Path, **config: Any) -> SenderIdentity:
    return SenderIdentity(
        IdentityConfig(
            audience=AUDIENCE, api_server=api_server.url, service_account_dir=directory, **config
        )
    )


async def test_the_issuer_and_keys_come_from_the_api_server_with_the_pods_credentials(
    api_server: ApiServer, tmp_path: Path
) -> None:
    identity = in_cluster(api_server, tmp_path)
    claims = await identity.verify([(b"authorization", f"Bearer {api_server.token()}".encode())])
    assert claims["iss"] == ISSUER
    assert api_server.seen == [f"Bearer {POD_TOKEN}"] * 2  # the keys, then the discovery
    with pytest.raises(Unauthenticated, match="not issued by the cluster's issuer"):
        token = api_server.token(iss="https://elsewhere.example")
        await identity.verify([(b"authorization", f"Bearer {token}".encode())])


async def test_the_pods_token_goes_to_the_api_server_only(
    api_server: ApiServer, tmp_path: Path
) -> None:
    seen: list[str | None] = []
    jwks = {
        "keys": [{**RSAAlgorithm.to_jwk(api_server.key.public_key(), as_dict=True), "kid": "api"}]
    }
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), serving_json({"/jwks": jwks}, seen))
    thread = threading.Thread(target=elsewhere.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{elsewhere.server_address[1]}/jwks"
        identity = in_cluster(api_server, tmp_path, issuer=ISSUER, jwks_url=url)
        await identity.verify([(b"authorization", f"Bearer {api_server.token()}".encode())])
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert seen == [None]
    assert api_server.seen == []


async def test_a_discovery_without_an_issuer_is_unavailable(tmp_path: Path) -> None:
    server = ApiServer(tmp_path, issuer=None)
    try:
        identity = in_cluster(server, tmp_path)
        with pytest.raises(Unavailable, match="names no issuer"):
            await identity.verify([(b"authorization", f"Bearer {server.token()}".encode())])
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("env", "imported"),
    [({}, set()), ({"KFN_OIDC_AUDIENCE": AUDIENCE}, {"jwt", "kfn.sender_identity"})],
)
def test_the_jose_library_is_imported_only_when_an_audience_is_set(
    env: dict[str, str], imported: set[str]
) -> None:
    modules = cold_start("tests.apps.loop", env).modules
    assert modules & {"jwt", "kfn.sender_identity"} == imported
