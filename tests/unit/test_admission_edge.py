"""The sender check comes before anything else: a refused sender's event never runs.

In-process (httpx over ASGI), with the check replaced: a refusal is answered with its
problem (and challenge) and nothing else happens; a fault in the check itself is a
500 problem, and the event does not run either.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import httpx
import pytest

from kfn import CloudEvent, Registry
from kfn._errors import Unauthenticated, Unavailable
from kfn.app import App
from kfn.codec import to_http
from kfn.config import Settings
from kfn.testing import event

registry = Registry()
RAN: list[str] = []


@registry.cloudevent(type="edge.admitted")
async def admitted(received: CloudEvent) -> None:
    RAN.append(received.get_id())


Check = Callable[[list[tuple[bytes, bytes]]], object]


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch) -> Callable[[Check], None]:
    def put(check: Check) -> None:
        async def admit(headers: list[tuple[bytes, bytes]]) -> object:
            return check(headers)

        monkeypatch.setattr("kfn._startup.admission", lambda settings: admit)

    RAN.clear()
    return put


async def _post(settings: Settings | None = None) -> httpx.Response:
    app = App(settings or Settings(), registry, load=False)
    await app.startup()
    try:
        headers, body = to_http(event("edge.admitted", id="e-admit"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as client:
            return await client.post("/", headers=headers, content=body)
    finally:
        await app.shutdown()


def _refuse(headers: list[tuple[bytes, bytes]]) -> object:
    raise Unauthenticated("no token", challenge=b'Bearer realm="kfn"')


def _fault(headers: list[tuple[bytes, bytes]]) -> object:
    raise RuntimeError("a bug in the sender check")


def _unavailable(headers: list[tuple[bytes, bytes]]) -> object:
    raise Unavailable("keys-unavailable", "the issuer's keys cannot be fetched")


async def test_a_refused_sender_gets_401_with_the_challenge_and_its_event_never_runs(
    install: Callable[[Check], None],
) -> None:
    install(_refuse)
    response = await _post()
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="kfn"'
    assert response.json()["type"] == "urn:kfn:problem:unauthenticated"
    assert RAN == []


async def test_a_check_that_cannot_decide_is_503_without_a_challenge(
    install: Callable[[Check], None],
) -> None:
    install(_unavailable)
    response = await _post()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "www-authenticate" not in response.headers
    assert RAN == []


async def test_a_fault_in_the_sender_check_is_a_500_problem_and_the_event_never_runs(
    install: Callable[[Check], None],
) -> None:
    install(_fault)
    response = await _post()
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:kfn:problem:internal-error"
    assert "a bug" not in response.text
    assert RAN == []


async def test_an_admitted_sender_is_delivered(install: Callable[[Check], None]) -> None:
    install(lambda headers: None)
    response = await _post()
    assert response.status_code == 202
    assert RAN == ["e-admit"]


async def test_a_service_that_takes_no_events_refuses_them_with_403() -> None:
    RAN.clear()
    response = await _post(Settings(event_endpoints=False))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:kfn:problem:events-not-accepted"
    assert RAN == []


def test_a_sender_check_without_its_jose_library_stops_startup_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """KFN_OIDC_AUDIENCE set where kfn-host[oidc] is not installed: a startup error, not a crash."""
    import kfn
    from kfn._admission import admission
    from kfn._errors import StartupError

    monkeypatch.setitem(sys.modules, "kfn.sender_identity", None)  # its import now fails
    monkeypatch.delattr(kfn, "sender_identity", raising=False)  # as if never imported
    settings = Settings.from_env({"KFN_OIDC_AUDIENCE": "serving.knative.dev/service/ns/shop"})
    with pytest.raises(StartupError, match=r"pip install 'kfn-host\[oidc\]'"):
        admission(settings)
