"""The local broker in-process: replies and emits routed like a Broker, the hop limit, the log of hops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kfn import CloudEvent, Registry, emit
from kfn.app import App
from kfn.broker_ingress import DEFAULT_TTL
from kfn.config import Settings
from kfn.filters import prefix
from kfn.local_broker import HopRecord
from kfn.local_schedules import Scheduler
from kfn.schedule import schedule
from kfn.testing import KfnClient, event

pytestmark = pytest.mark.kfn(local_broker=True)

registry = Registry()
CALLS: list[tuple[str, dict[str, Any]]] = []


def seen(function: str, event: CloudEvent) -> None:
    CALLS.append((function, dict(event.get_attributes())))


@registry.cloudevent(type="flow.start", reply_type="flow.next")
async def start(event: CloudEvent) -> dict[str, int]:
    seen("start", event)
    return {"step": 1}


@registry.cloudevent(type="flow.next")
async def follow(event: CloudEvent) -> None:
    seen("follow", event)


@registry.cloudevent(filters=[prefix(type="flow.")])
def watch(event: CloudEvent) -> None:
    seen("watch", event)


@registry.cloudevent(type="flow.emit")
async def announce(event: CloudEvent) -> None:
    seen("announce", event)
    await emit(CloudEvent({"type": "flow.next", "source": "/tests/announce"}, {"step": 2}))


@registry.cloudevent(type="flow.fail")
async def fail(event: CloudEvent) -> None:
    raise RuntimeError("broken")


@registry.cloudevent(type="loop.reply", reply_type="loop.reply")
async def echo(event: CloudEvent) -> dict[str, str]:
    seen("echo", event)
    return {"again": "yes"}


@registry.cloudevent(type="loop.emit")
async def repeat(event: CloudEvent) -> None:
    seen("repeat", event)
    await emit(CloudEvent({"type": "loop.emit", "source": "/tests/repeat"}))


@registry.cloudevent(type="copy.check")
async def mutate(event: CloudEvent) -> None:
    data = event.get_data()
    assert isinstance(data, dict)
    data["touched"] = True


@registry.cloudevent(type="copy.check")
async def observe(event: CloudEvent) -> None:
    data = event.get_data()
    assert isinstance(data, dict)
    CALLS.append(("observe", dict(data)))


@schedule("0 * * * *", registry=registry)
async def tick(event: CloudEvent) -> CloudEvent:
    seen("tick", event)
    return CloudEvent({"type": "flow.next", "source": "/tests/tick"})


@pytest.fixture
def kfn_registry() -> Registry:
    return registry


@pytest.fixture(autouse=True)
def clear_calls() -> Iterator[None]:
    CALLS.clear()
    yield
    CALLS.clear()


def called(function: str) -> list[dict[str, Any]]:
    return [attributes for name, attributes in CALLS if name == function]


def deliveries(
    hops: list[HopRecord], to: str | None = None
) -> list[tuple[str, str, str | None, int]]:
    return [(h.type, h.origin, h.to, h.status) for h in hops if to is None or h.to == to]


async def test_the_sender_gets_the_reply_and_the_broker_delivers_it_too(
    kfn_client: KfnClient,
) -> None:
    answer = await kfn_client.send(event("flow.start"), to="start")
    assert answer.status_code == 200
    assert answer.reply is not None and answer.reply.get_type() == "flow.next"
    await kfn_client.settle()
    assert sorted(deliveries(kfn_client.hops)) == [
        ("flow.next", "start", "follow", 202),
        ("flow.next", "start", "watch", 202),
    ]
    assert called("follow")[0]["id"] == answer.reply.get_id()


async def test_every_matching_function_gets_its_own_delivery(kfn_client: KfnClient) -> None:
    answer = await kfn_client.send(event("flow.start"))  # POST /: start and watch
    assert answer.status_code == 200
    await kfn_client.settle()
    assert [name for name, _ in CALLS].count("watch") == 2  # the order, then the reply
    assert {h.to for h in kfn_client.hops} == {"follow", "watch"}
    assert all(h.ttl == DEFAULT_TTL - 1 for h in kfn_client.hops)


async def test_a_delivery_carries_no_ttl_and_an_arrival_time(kfn_client: KfnClient) -> None:
    await kfn_client.send(event("flow.start", knativebrokerttl="9"), to="start")
    await kfn_client.settle()
    (delivered,) = called("follow")
    assert "knativebrokerttl" not in delivered
    assert delivered["knativearrivaltime"].endswith("Z")
    assert kfn_client.hops[0].ttl == 8


async def test_a_reply_loop_stops_at_the_hop_limit(kfn_client: KfnClient) -> None:
    await kfn_client.send(event("loop.reply"), to="echo")
    await kfn_client.settle()
    assert len(called("echo")) == 255  # the event sent, then 254 broker hops
    delivered = [h for h in kfn_client.hops if h.to is not None]
    assert [h.ttl for h in delivered] == list(range(254, 0, -1))
    # The last reply is dropped (logged while the hop that produced it is finishing).
    (dropped,) = [h for h in kfn_client.hops if h.to is None]
    assert (dropped.status, dropped.ttl) == (400, 0)
    assert dropped.detail is not None and "hop limit" in dropped.detail


async def test_a_ttl_sent_with_the_event_shortens_the_loop(kfn_client: KfnClient) -> None:
    await kfn_client.send(event("loop.reply", knativebrokerttl="3"), to="echo")
    await kfn_client.settle()
    assert sorted((h.ttl, h.to or "-") for h in kfn_client.hops) == [
        (0, "-"),
        (1, "echo"),
        (2, "echo"),
    ]


async def test_an_emit_goes_to_the_broker_from_the_emitting_function(
    kfn_client: KfnClient,
) -> None:
    answer = await kfn_client.send(event("flow.emit"), to="announce")
    assert answer.status_code == 202
    await kfn_client.settle()
    assert sorted(deliveries(kfn_client.hops)) == [
        ("flow.next", "announce", "follow", 202),
        ("flow.next", "announce", "watch", 202),
    ]


async def test_an_emit_loop_stops_too_and_the_refused_emit_raises(kfn_client: KfnClient) -> None:
    await kfn_client.send(event("loop.emit"), to="repeat")
    await kfn_client.settle()
    assert len(called("repeat")) == 255
    (dropped,) = [h for h in kfn_client.hops if h.to is None]
    assert (dropped.status, dropped.ttl) == (400, 0)
    # The emit at the limit raised in the function: its own delivery failed.
    last = kfn_client.hops[-1]
    assert (last.to, last.status, last.ttl) == ("repeat", 500, 1)


async def test_a_failed_delivery_is_one_hop_with_its_status(
    kfn_app: App, kfn_client: KfnClient
) -> None:
    assert kfn_app.local_broker is not None
    assert kfn_app.local_broker.ingest(event("flow.fail"), "test", None) == 202
    await kfn_client.settle()
    failed = [h for h in kfn_client.hops if h.to == "fail"]
    assert [(h.origin, h.status, h.ttl) for h in failed] == [("test", 500, DEFAULT_TTL)]
    assert failed[0].detail == "function 'fail' raised RuntimeError"


async def test_while_draining_the_broker_refuses_events(kfn_app: App) -> None:
    assert kfn_app.local_broker is not None
    kfn_app.lifecycle.draining = True
    try:
        assert kfn_app.local_broker.ingest(event("flow.next"), "test", None) == 503
    finally:
        kfn_app.lifecycle.draining = False


async def test_a_ping_reply_goes_nowhere_as_with_a_pingsource(kfn_app: App) -> None:
    assert kfn_app.dispatcher is not None and kfn_app.local_broker is not None
    assert kfn_app.router is not None
    scheduler = Scheduler(kfn_app.router, kfn_app.lifecycle)
    assert await scheduler.fire(kfn_app.dispatcher.targets["tick"]) == 200
    await kfn_app.local_broker.settle()
    assert called("tick") and not called("follow")
    assert list(kfn_app.local_broker.hops) == []


@pytest.mark.kfn(local_broker=False)
async def test_without_the_local_broker_replies_only_go_back(kfn_client: KfnClient) -> None:
    answer = await kfn_client.send(event("flow.start"), to="start")
    assert answer.status_code == 200
    assert kfn_client.app.local_broker is None
    assert (
        kfn_client.app.dispatcher is not None and kfn_client.app.dispatcher.reply_observer is None
    )
    assert not called("follow")


async def test_with_k_sink_set_the_local_broker_stays_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("K_SINK", "http://broker-ingress.example/default/default")
    app = App(Settings(local_broker=True), registry, load=False)
    await app.startup()
    try:
        assert app.local_broker is None
        assert app.emitter is not None and app.emitter.target.startswith("http://broker")
    finally:
        await app.shutdown()


async def test_each_function_gets_its_own_copy_of_the_event(
    kfn_app: App, kfn_client: KfnClient
) -> None:
    assert kfn_app.local_broker is not None
    sent = event("copy.check", {"n": 1})
    kfn_app.local_broker.ingest(sent, "test", None)
    await kfn_client.settle()
    assert called("observe") == [{"n": 1}]
    assert sent.get_data() == {"n": 1}
