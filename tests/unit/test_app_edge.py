"""The host's edge, in-process: startup leaves signals alone, a host fault is a 500 problem."""

from __future__ import annotations

import signal

import httpx
import pytest

from kfn import CloudEvent, Registry
from kfn.app import App
from kfn.codec import to_http
from kfn.config import Settings
from kfn.testing import event

registry = Registry()


@registry.cloudevent(type="edge.echo", reply_type="edge.echoed")
async def echo(received: CloudEvent) -> dict[str, str]:
    return {"id": received.get_id()}


async def test_startup_installs_no_signal_handler() -> None:
    before = signal.getsignal(signal.SIGTERM)
    app = App(Settings(), registry, load=False)
    await app.startup()
    try:
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        await app.shutdown()


async def test_a_fault_in_the_host_is_answered_as_a_500_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the encoder")

    headers, body = to_http(event("edge.echo"))
    monkeypatch.setattr("kfn.codec.encode", broken)  # the reply's encoding fails
    app = App(Settings(), registry, load=False)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kfn.test") as client:
            response = await client.post("/", headers=headers, content=body)
    finally:
        await app.shutdown()
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:kfn:problem:internal-error"
    assert "a bug in the encoder" not in response.text
