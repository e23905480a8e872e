"""`emit` against a real sink on 127.0.0.1: the SinkBinding contract, retries and failures."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from kfn import CloudEvent, ConfigError, EmitError, emit, emitter
from kfn._errors import NoSinkError
from kfn.codec.event import trusted_event
from kfn.emitter import Emitter
from kfn.sink import SinkConfig, parse_overrides
from tests.events.conftest import Answer, SinkServer
from tests.helpers import binary_headers


def order_event(**extra: object) -> CloudEvent:
    return CloudEvent(
        {"type": "com.example.order.created", "source": "/tests", "id": "e-1", **extra},
        {"order_id": "o-1"},
    )


_OPEN: list[Emitter] = []


def opened(emitter: Emitter) -> Emitter:
    """Close this emitter's connections after the test, as the app does on shutdown."""
    _OPEN.append(emitter)
    return emitter


@pytest.fixture(autouse=True)
async def close_emitters() -> AsyncIterator[None]:
    yield
    while _OPEN:
        await _OPEN.pop().aclose()


def emitter_for(url: str, tmp_path: Path, **options: float) -> Emitter:
    """An emitter with fast backoff; the OIDC token path points into tmp_path."""
    sink = SinkConfig(url=url, token_path=str(tmp_path / "token"))
    options.setdefault("backoff", 0.01)
    return opened(Emitter(sink, **options))  # type: ignore[arg-type]


async def test_an_event_arrives_in_binary_mode(sink_server: SinkServer, tmp_path: Path) -> None:
    await emitter_for(sink_server.url, tmp_path).send(order_event(subject="o-1"))
    (request,) = sink_server.requests
    assert request.headers["ce-specversion"] == "1.0"
    assert request.headers["ce-id"] == "e-1"
    assert request.headers["ce-type"] == "com.example.order.created"
    assert request.headers["ce-source"] == "/tests"
    assert request.headers["ce-subject"] == "o-1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"order_id": "o-1"}
    assert "authorization" not in request.headers


async def test_k_ce_overrides_extensions_are_set_on_every_event(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    sink = SinkConfig(
        url=sink_server.url,
        overrides=parse_overrides('{"extensions": {"Team": "shop", "region": "eu"}}'),
        token_path=str(tmp_path / "token"),
    )
    await opened(Emitter(sink)).send(order_event(region="us"))
    (request,) = sink_server.requests
    assert request.headers["ce-team"] == "shop"
    assert request.headers["ce-region"] == "eu"  # the binding's value wins


async def test_the_oidc_token_is_read_for_every_request(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    sender = emitter_for(sink_server.url, tmp_path)
    token.write_text("first-token\n")
    await sender.send(order_event())
    token.write_text("rotated-token")  # Knative refreshes the mounted file in place
    await sender.send(order_event())
    assert [r.headers["authorization"] for r in sink_server.requests] == [
        "Bearer first-token",
        "Bearer rotated-token",
    ]


async def test_the_token_path_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KFN_OIDC_TOKEN_PATH", str(tmp_path / "t"))
    assert SinkConfig.from_env().token_path == str(tmp_path / "t")
    monkeypatch.delenv("KFN_OIDC_TOKEN_PATH")
    assert SinkConfig.from_env().token_path == "/oidc/token"


async def test_a_503_is_retried_until_the_sink_accepts(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    sink_server.script(503, 503)
    await emitter_for(sink_server.url, tmp_path).send(order_event())
    assert len(sink_server.requests) == 3
    assert {r.headers["ce-id"] for r in sink_server.requests} == {"e-1"}


@pytest.mark.parametrize("status", [404, 408, 409, 429, 500, 502, 504])
async def test_what_knative_retries_is_retried(
    sink_server: SinkServer, tmp_path: Path, status: int
) -> None:
    sink_server.script(status)
    await emitter_for(sink_server.url, tmp_path).send(order_event())
    assert len(sink_server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 413, 422])
async def test_what_knative_does_not_retry_raises_at_once(
    sink_server: SinkServer, tmp_path: Path, status: int
) -> None:
    sink_server.script(status)
    with pytest.raises(EmitError) as raised:
        await emitter_for(sink_server.url, tmp_path).send(order_event())
    assert len(sink_server.requests) == 1
    assert raised.value.status == status
    assert raised.value.attempts == 1
    assert f"status {status}: sink says no" in str(raised.value)


async def test_when_the_retries_run_out_the_emit_raises(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    sink_server.script(500, 500, 500)
    with pytest.raises(EmitError) as raised:
        await emitter_for(sink_server.url, tmp_path, retries=2).send(order_event())
    assert len(sink_server.requests) == 3
    assert raised.value.status == 500
    assert raised.value.attempts == 3
    assert "after 3 attempts" in str(raised.value)


async def test_backoff_doubles_and_retry_after_is_honoured(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    sink_server.answers.append(Answer(429, {"retry-after": "0.3"}))
    sink_server.script(503)
    started = time.monotonic()
    await emitter_for(sink_server.url, tmp_path, backoff=0.05).send(order_event())
    # 0.3s (Retry-After, above the first 0.05s wait), then 0.1s (doubled)
    assert time.monotonic() - started >= 0.4
    assert len(sink_server.requests) == 3


async def test_an_unreachable_sink_is_retried_then_raises(tmp_path: Path) -> None:
    closed = SinkServer().start()
    url = closed.url
    closed.stop()
    with pytest.raises(EmitError) as raised:
        await emitter_for(url, tmp_path, retries=2).send(order_event())
    assert raised.value.status is None
    assert raised.value.attempts == 3
    assert "ConnectError" in str(raised.value)


async def test_a_sink_slower_than_the_timeout_raises(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    sink_server.answers.extend([Answer(202, delay=1.0), Answer(202, delay=1.0)])
    with pytest.raises(EmitError, match="Timeout"):
        await emitter_for(sink_server.url, tmp_path, timeout=0.2, retries=1).send(order_event())


async def test_no_sink_raises_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoSinkError, match="K_SINK is not set"):
        await Emitter(SinkConfig()).send(order_event())


async def test_one_pooled_client_carries_every_emit(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    sender = emitter_for(sink_server.url, tmp_path)
    for _ in range(3):
        await sender.send(order_event())
    assert len({r.client_port for r in sink_server.requests}) == 1  # one kept-alive connection
    client = sender.client()
    await sender.send(order_event())
    assert sender.client() is client
    await sender.aclose()
    assert sender.client() is not client  # closed at shutdown; a later emit opens a new one


async def test_emit_reads_the_sink_from_the_environment(
    sink_server: SinkServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("K_SINK", sink_server.url)
    monkeypatch.setenv("K_CE_OVERRIDES", '{"extensions": {"team": "shop"}}')
    monkeypatch.setenv("KFN_OIDC_TOKEN_PATH", str(tmp_path / "token"))
    (tmp_path / "token").write_text("jwt")
    await emit(order_event())
    (request,) = sink_server.requests
    assert request.headers["ce-team"] == "shop"
    assert request.headers["authorization"] == "Bearer jwt"
    await emitter.current().aclose()  # the one this test's context built from the environment


async def test_a_pydantic_model_is_sent_as_json(sink_server: SinkServer, tmp_path: Path) -> None:
    class Shipment(BaseModel):
        shipment_id: str
        weight: float

    # The SDK's annotations ask for a dict; a model passed anyway must not go out as str(model).
    model: Any = Shipment(shipment_id="s", weight=2)
    event = CloudEvent({"type": "com.example.shipped", "source": "/tests"}, model)
    await emitter_for(sink_server.url, tmp_path).send(event)
    (request,) = sink_server.requests
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"shipment_id": "s", "weight": 2.0}


async def test_an_invalid_event_raises_before_anything_is_sent(
    sink_server: SinkServer, tmp_path: Path
) -> None:
    bad = trusted_event(
        {"specversion": "1.0", "id": "x", "source": "/t", "type": "t", "Bad-Name": "v"}, None
    )
    with pytest.raises(EmitError, match="not a valid CloudEvent"):
        await emitter_for(sink_server.url, tmp_path).send(bad)
    assert sink_server.requests == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("K_CE_OVERRIDES", "{not json", "is not JSON"),
        ("K_CE_OVERRIDES", '{"extensions": {"type": "x"}}', "core attribute"),
        ("K_CE_OVERRIDES", '{"extensions": {"n": 1}}', "must be a string"),
        ("K_CE_OVERRIDES", '{"extensions": {"a-b": "x"}}', "not a valid name"),
        ("K_SINK", "broker.default.svc", "absolute http(s) URL"),
        ("K_CA_CERTS", "not a certificate", "PEM"),
    ],
)
def test_a_malformed_binding_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable) as raised:
        SinkConfig.from_env()
    assert message in str(raised.value)


def test_empty_overrides_mean_none() -> None:
    assert parse_overrides("") == {}
    assert parse_overrides("{}") == {}


# -- K_CA_CERTS: a sink with its own CA ------------------------------------------------------


@pytest.fixture
def tls_sink(tmp_path: Path) -> tuple[SinkServer, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return SinkServer(tls=context).start(), cert.read_text()


async def test_k_ca_certs_are_trusted(
    tls_sink: tuple[SinkServer, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server, pem = tls_sink
    try:
        with pytest.raises(EmitError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
            await emitter_for(server.url, tmp_path, retries=0).send(order_event())
        monkeypatch.setenv("K_SINK", server.url)
        monkeypatch.setenv("K_CA_CERTS", pem)
        monkeypatch.setenv("KFN_OIDC_TOKEN_PATH", str(tmp_path / "token"))
        sender = opened(Emitter(SinkConfig.from_env()))
        await sender.send(order_event())
        await sender.aclose()
        assert len(server.requests) == 1
    finally:
        server.stop()


async def test_each_app_emits_to_its_own_sink_in_one_process() -> None:
    from kfn import Registry
    from kfn.app import App
    from kfn.config import Settings

    got: dict[str, list[str]] = {"one": [], "two": []}

    def app_named(name: str) -> App:
        registry = Registry()

        @registry.cloudevent(type="start", name="start")
        async def start(event: CloudEvent) -> None:
            await emit(CloudEvent({"type": "next", "source": f"/{name}"}))

        @registry.cloudevent(type="next", name="next")
        def record(event: CloudEvent) -> None:
            got[name].append(event.get_source())

        settings = Settings(local_broker=True, schedules=False, console=False)
        return App(settings, registry, load=False)

    one, two = app_named("one"), app_named("two")
    await one.startup()
    await two.startup()  # the later app's emitter must not take the first one's emits
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=one), base_url="http://one"
        ) as client:
            answer = await client.post("/", headers=binary_headers("start"), content=b"")
        assert answer.status_code == 202
        assert one.local_broker is not None and two.local_broker is not None
        await one.local_broker.settle()
        await two.local_broker.settle()
    finally:
        await two.shutdown()
        await one.shutdown()
    assert got == {"one": ["/one"], "two": []}
