"""Sender identity on a real `kfn run`: tokens as Knative Eventing sends them, checked.

The test is its own issuer: it generates signing keys, serves their JWKS from an HTTP
server on 127.0.0.1, and signs JWTs with PyJWT the way the cluster signs a Trigger's
or PingSource's token (RS256, `iss`, `aud` = the subscriber's audience, `exp`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.conftest import Server, start_server
from tests.helpers import binary_headers, counter

AUDIENCE = "serving.knative.dev/service/default/shop"
ISSUER = "https://kubernetes.default.svc.cluster.local"
EVENT_TYPE = "com.example.identity.checked"


class Issuer:
    """Signing keys and the JWKS document a server on 127.0.0.1 publishes for them."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {"k1": rsa.generate_private_key(65537, 2048)}
        self.published = ["k1"]
        self.fetches = 0
        self.down = False
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                if issuer.down:
                    self.send_error(500)
                    return
                body = json.dumps({"keys": issuer.jwks()}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/openid/v1/jwks"

    def jwks(self) -> list[dict[str, Any]]:
        published = []
        for kid in self.published:
            key = self.keys[kid]
            if isinstance(key, rsa.RSAPrivateKey):
                jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
                jwk["alg"] = "RS256"
            else:
                jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
            published.append({**jwk, "kid": kid, "use": "sig"})
        return published

    def token(
        self, kid: str = "k1", *, algorithm: str = "RS256", signer: str | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": [AUDIENCE],
            "sub": "system:serviceaccount:default:shop-bill-oidc-eventing.knative.dev-trigger",
            "iat": now,
            "exp": now + 3600,
            **claims,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        key = self.keys[signer or kid]
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    issuer.keys["stranger"] = rsa.generate_private_key(65537, 2048)
    issuer.keys["ec"] = ec.generate_private_key(ec.SECP256R1())
    yield issuer
    issuer.stop()


def start_identity_host(issuer: Issuer) -> Server:
    """A `kfn run` of tests/apps/identity.py that verifies tokens against `issuer`."""
    return start_server(
        "tests.apps.identity",
        {
            "KFN_OIDC_AUDIENCE": AUDIENCE,
            "KFN_OIDC_ISSUER": ISSUER,
            "KFN_OIDC_JWKS_URL": issuer.url,
            "KFN_LOCAL_BROKER": "false",
        },
    )


@pytest.fixture(scope="module")
def host(issuer: Issuer) -> Iterator[Server]:
    server = start_identity_host(issuer)
    yield server
    server.stop()


def send(
    server: Server, token: str | None, event_id: str, path: str = "/events/seen", **headers: str
) -> httpx.Response:
    request_headers = {**binary_headers(EVENT_TYPE, event_id), "content-type": "application/json"}
    if token is not None:
        request_headers["authorization"] = f"Bearer {token}"
    request_headers.update(headers)
    return httpx.post(server.url + path, headers=request_headers, content=b"{}", timeout=10)


def runs(server: Server) -> list[str]:
    answer: list[str] = httpx.get(server.url + "/runs", timeout=5).json()
    return answer


def assert_refused(answer: httpx.Response, server: Server, event_id: str) -> dict[str, Any]:
    """401 problem+json with a Bearer challenge, and the function never saw the event."""
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == "urn:kfn:problem:unauthenticated"
    assert problem["status"] == 401
    assert "Traceback" not in answer.text
    assert event_id not in runs(server)
    return problem


def test_a_valid_token_is_delivered(host: Server, issuer: Issuer) -> None:
    answer = send(host, issuer.token(), "valid-1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "valid-1"}
    assert "valid-1" in runs(host)


def test_post_root_needs_the_token_too(host: Server, issuer: Issuer) -> None:
    assert_refused(send(host, None, "root-1", path="/"), host, "root-1")
    assert send(host, issuer.token(), "root-2", path="/").status_code == 200
    assert "root-2" in runs(host)


def test_keys_are_fetched_once_for_many_tokens(host: Server, issuer: Issuer) -> None:
    send(host, issuer.token(), "warm")
    before = issuer.fetches
    for number in range(5):
        assert send(host, issuer.token(), f"cached-{number}").status_code == 200
    assert issuer.fetches == before


REFUSALS: dict[str, Callable[[Issuer], str | None]] = {
    "wrong audience": lambda issuer: issuer.token(aud=["eventing.knative.dev/broker/default/x"]),
    "expired": lambda issuer: issuer.token(exp=int(time.time()) - 60, iat=int(time.time()) - 3660),
    "wrong issuer": lambda issuer: issuer.token(iss="https://issuer.example.com"),
    "no expiry": lambda issuer: issuer.token(exp=None),
    "unknown key": lambda issuer: issuer.token("stranger"),
    "bad signature": lambda issuer: issuer.token("k1", signer="stranger"),
    "alg none": lambda issuer: jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
        "",
        algorithm="none",
        headers={"kid": "k1"},
    ),
    "shared secret": lambda issuer: jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60},
        "k1-public-key-as-secret-which-is-long-enough",
        algorithm="HS256",
        headers={"kid": "k1"},
    ),
    "another algorithm than its key's": lambda issuer: issuer.token(
        "k1", algorithm="ES256", signer="ec"
    ),
    "not a JWT": lambda issuer: "not.a.jwt",
    "missing header": lambda issuer: None,
}


def test_a_remembered_token_is_refused_once_it_expires(host: Server, issuer: Issuer) -> None:
    token = issuer.token(exp=int(time.time()) + 2)
    assert send(host, token, "short-lived-1").status_code == 200
    assert send(host, token, "short-lived-2").status_code == 200
    time.sleep(
        max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.2
    )
    assert_refused(send(host, token, "short-lived-3"), host, "short-lived-3")


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_or_missing_token_is_refused_and_the_function_not_run(
    host: Server, issuer: Issuer, case: str
) -> None:
    event_id = "refused-" + case.replace(" ", "-")
    token = REFUSALS[case](issuer)
    problem = assert_refused(send(host, token, event_id), host, event_id)
    if token is not None:
        assert token not in json.dumps(problem)


def test_a_missing_token_is_told_which_scheme(host: Server) -> None:
    answer = send(host, None, "challenge")
    assert answer.headers["www-authenticate"] == 'Bearer realm="kfn"'
    invalid = send(host, "x.y.z", "challenge-2")
    assert 'error="invalid_token"' in invalid.headers["www-authenticate"]


def test_another_scheme_is_refused(host: Server, issuer: Issuer) -> None:
    answer = send(host, None, "basic", authorization="Basic dXNlcjpwYXNz")
    assert_refused(answer, host, "basic")


def test_refusals_are_counted_and_logged_without_the_token(host: Server, issuer: Issuer) -> None:
    token = issuer.token(aud=["someone-else"])
    send(host, token, "counted")
    metrics = httpx.get(host.url + "/metrics", timeout=5).text
    assert counter(metrics, "kfn_refused_requests_total", reason="unauthenticated") >= 1
    assert token not in host.logs()


def test_probes_and_http_functions_need_no_token(host: Server) -> None:
    assert httpx.get(host.url + "/health/readiness", timeout=5).status_code == 200
    assert httpx.get(host.url + "/health/liveness", timeout=5).status_code == 200
    assert httpx.get(host.url + "/runs", timeout=5).status_code == 200
    assert httpx.get(host.url + "/metrics", timeout=5).status_code == 200


def test_a_rotated_key_is_fetched_when_a_token_names_it(host: Server, issuer: Issuer) -> None:
    old_token = issuer.token("k1")
    assert send(host, old_token, "before-rotation").status_code == 200
    issuer.keys["k2"] = rsa.generate_private_key(65537, 2048)
    issuer.published = ["k2"]
    fetches = issuer.fetches
    answer = send(host, issuer.token("k2"), "after-rotation")
    assert answer.status_code == 200, answer.text
    assert issuer.fetches == fetches + 1
    # The retired key left the published set, so its tokens no longer verify, not even
    # the one verified (and remembered) before the rotation.
    assert_refused(send(host, old_token, "retired-key"), host, "retired-key")
    issuer.published = ["k1", "k2"]


def test_keys_that_cannot_be_fetched_are_a_503_the_sender_retries(
    host: Server, issuer: Issuer
) -> None:
    issuer.down = True
    try:
        answer = send(host, issuer.token("k-new", signer="stranger"), "keys-down")
    finally:
        issuer.down = False
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["type"] == "urn:kfn:problem:identity-unavailable"
    assert "keys-down" not in runs(host)


def test_a_service_with_event_endpoints_off_refuses_every_event(
    kfn_server: Callable[..., Server],
) -> None:
    server = kfn_server("tests.apps.identity", {"KFN_EVENT_ENDPOINTS": "false"})
    for path in ("/", "/events/seen"):
        answer = send(server, None, "off", path=path)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "urn:kfn:problem:events-not-accepted"
    assert runs(server) == []
    assert httpx.get(server.url + "/health/readiness", timeout=5).status_code == 200


def test_the_generated_manifests_and_the_host_agree_on_the_audience(
    kfn_server: Callable[..., Server], issuer: Issuer
) -> None:
    """The Service env `kfn manifests` writes makes the host take what its Trigger sends."""
    from dataclasses import replace

    from kfn.deploy.generate import generate
    from kfn.registry import Registry
    from tests.deploy.conftest import IMAGE, make_settings

    app = Registry()

    @app.http("/runs", methods=["GET"])
    async def runs_route() -> None:
        return None

    @app.cloudevent(type=EVENT_TYPE)
    async def seen(event: Any) -> None:
        return None

    settings = replace(make_settings(name="shop", namespace="default"), sender_identity=True)
    manifests = generate(settings, app, image=IMAGE).manifests
    (service,) = [m for m in manifests if m["kind"] == "Service"]
    (trigger,) = [m for m in manifests if m["kind"] == "Trigger"]
    container = service["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    audience = trigger["spec"]["subscriber"]["audience"]
    assert env["KFN_OIDC_AUDIENCE"] == audience == AUDIENCE
    server = kfn_server(
        "tests.apps.identity",
        {**env, "KFN_OIDC_ISSUER": ISSUER, "KFN_OIDC_JWKS_URL": issuer.url},
    )
    path = trigger["spec"]["subscriber"]["uri"]
    assert send(server, issuer.token(aud=[audience]), "from-trigger", path=path).status_code == 200
    assert_refused(send(server, None, "no-token", path=path), server, "no-token")
