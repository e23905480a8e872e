"""The test kit with idempotent functions: claims in memory, duplicates listed for assertions."""

from __future__ import annotations

import pytest

from kfn import CloudEvent, Drop, Registry, schedule
from kfn.idempotency import Duplicate
from kfn.testing import KfnClient, Mode, event

registry = Registry()
ran: list[str] = []


@registry.cloudevent(type="kit.charge", reply_type="kit.charged", idempotent=True)
async def charge(event: CloudEvent) -> dict[str, str]:
    ran.append(f"charge {event.get_id()}")
    return {"charged": event.get_id()}


@registry.cloudevent(type="kit.render", reply_type="kit.pdf", idempotent=True)
async def render(event: CloudEvent) -> bytes:
    ran.append(f"render {event.get_id()}")
    return b"%PDF-1.7 \x00\xff"


@registry.cloudevent(type="kit.check", idempotent=True)
def check(event: CloudEvent) -> None:
    ran.append(f"check {event.get_id()}")
    raise Drop("not a valid card", status=422)


@registry.cloudevent(type="kit.charged", idempotent=True)
async def receipt(event: CloudEvent) -> None:
    ran.append(f"receipt {event.get_id()}")


def payment_id(event: CloudEvent) -> str:
    data = event.get_data()
    if not isinstance(data, dict) or "payment" not in data:
        raise Drop("no payment id", status=400)
    return str(data["payment"])


@registry.cloudevent(type="kit.pay", idempotent=True, idempotency_key=payment_id)
async def pay(event: CloudEvent) -> None:
    ran.append("pay")


@schedule("@hourly", idempotent=True, idempotency_key=lambda e: "tick", registry=registry)
async def hourly(event: CloudEvent) -> None:
    ran.append("hourly")


@pytest.fixture
def kfn_registry() -> Registry:
    ran.clear()
    return registry


async def test_a_duplicate_gets_the_recorded_reply_and_is_listed(kfn_client: KfnClient) -> None:
    sent = event("kit.charge")
    first = await kfn_client.reply(sent, to="charge")
    again = await kfn_client.reply(sent, to="charge")
    assert again.get_id() == first.get_id() and again.get_data() == first.get_data()
    assert ran == [f"charge {sent.get_id()}"]
    assert kfn_client.duplicates == [Duplicate("charge", sent.get_id(), 200)]


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_a_recorded_reply_comes_back_whole_in_the_request_mode(
    kfn_client: KfnClient, mode: Mode
) -> None:
    sent = event("kit.render")
    first = await kfn_client.send(sent, mode=mode)
    again = await kfn_client.send(sent, mode=mode)
    assert first.reply is not None and again.reply is not None
    assert again.reply.get_attributes() == first.reply.get_attributes()
    assert again.reply.get_data() == b"%PDF-1.7 \x00\xff"
    assert again.response.content == first.response.content
    assert again.response.headers == first.response.headers
    assert ran == [f"render {sent.get_id()}"]


async def test_a_duplicate_of_a_dropped_event_gets_the_same_drop(kfn_client: KfnClient) -> None:
    sent = event("kit.check")
    first, again = await kfn_client.send(sent), await kfn_client.send(sent)
    assert first.status_code == again.status_code == 422
    assert again.problem is not None and again.problem["detail"] == "not a valid card"
    assert ran == [f"check {sent.get_id()}"]


async def test_a_key_function_that_drops_answers_its_4xx_as_problem_json(
    kfn_client: KfnClient,
) -> None:
    answer = await kfn_client.send(event("kit.pay", {"amount": 3}))
    assert answer.status_code == 400
    assert answer.problem is not None and answer.problem["detail"] == "no payment id"
    assert ran == []


async def test_a_schedule_with_a_key_runs_once_per_key(kfn_client: KfnClient) -> None:
    assert (await kfn_client.fire("hourly")).status_code == 202
    assert (await kfn_client.fire("hourly")).status_code == 202
    assert ran == ["hourly"]
    assert [d.function for d in kfn_client.duplicates] == ["hourly"]


@pytest.mark.kfn(local_broker=True)
async def test_the_local_broker_delivers_a_duplicate_once(kfn_client: KfnClient) -> None:
    assert kfn_client.app.local_broker is not None
    sent = event("kit.charged")
    for _ in range(2):
        kfn_client.app.local_broker.ingest(sent, "test", None)
        await kfn_client.settle()
    assert ran == [f"receipt {sent.get_id()}"]
    assert [hop.status for hop in kfn_client.hops] == [202, 202]
    assert kfn_client.duplicates == [Duplicate("receipt", sent.get_id(), 202)]
