"""The example shop, tested in-process with kfn's test kit (`kfn.testing`).

No server and no socket: `kfn_client` talks to the app over httpx's ASGI
transport, `kfn_sink` catches what the functions emit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.audit import AUDIT_TRAIL
from functions.models import Invoice, Notification, Order, OrderLine, Shipment
from kfn.testing import CapturedSink, KfnClient, event

ORDER = Order(
    order_id="o-1", customer="ann", lines=[OrderLine(sku="tea", quantity=2, unit_price=3.25)]
)
INVOICE = Invoice(invoice_id="inv-o-1", order_id="o-1", customer="ann", total=6.5)
SHIPMENT = Shipment(
    shipment_id="ship-o-1", order_id="o-1", customer="ann", carrier="parcel-express"
)


async def test_hello_is_a_plain_http_function(kfn_client: KfnClient) -> None:
    response = await kfn_client.http.get("/hello", params={"name": "kit"})
    assert response.json()["greeting"] == "hello kit"


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_an_order_is_billed_with_an_invoice(kfn_client: KfnClient, mode: str) -> None:
    order = event("com.example.order.created", ORDER, subject="o-1")
    invoice = await kfn_client.reply(order, to="bill", mode=mode)  # type: ignore[arg-type]
    assert invoice.get_type() == "com.example.invoice.created"
    assert invoice.get_subject() == "o-1"
    assert Invoice.model_validate(invoice.get_data()) == INVOICE


async def test_a_blocked_customer_is_dropped_for_good(kfn_client: KfnClient) -> None:
    blocked = ORDER.model_copy(update={"customer": "blocked"})
    answer = await kfn_client.send(event("com.example.order.created", blocked), to="bill")
    assert answer.status_code == 422
    assert answer.problem is not None and answer.problem["type"].endswith(":dropped")


async def test_an_order_without_lines_is_refused(kfn_client: KfnClient) -> None:
    data = {"order_id": "o-2", "customer": "ann", "lines": []}
    answer = await kfn_client.send(event("com.example.order.created", data), to="bill")
    assert answer.status_code == 422
    assert answer.problem is not None and answer.problem["errors"][0]["loc"] == ["lines"]


async def test_an_invoice_ships_the_order_with_an_emitted_event(
    kfn_client: KfnClient, kfn_sink: CapturedSink
) -> None:
    answer = await kfn_client.send(event("com.example.invoice.created", INVOICE), to="ship")
    assert (answer.status_code, answer.reply) == (202, None)
    (shipped,) = kfn_sink.of_type("com.example.shipment.dispatched")
    assert shipped.get_source() == "/shop/shipping"
    assert shipped.get_subject() == "o-1"
    assert Shipment.model_validate(shipped.get_data()) == SHIPMENT


async def test_an_order_ships_once_however_often_its_invoice_arrives(
    kfn_client: KfnClient, kfn_sink: CapturedSink
) -> None:
    for _ in range(2):  # the invoice sent twice, each time as a new event
        again = await kfn_client.send(event("com.example.invoice.created", INVOICE), to="ship")
        assert again.status_code == 202
    assert len(kfn_sink.of_type("com.example.shipment.dispatched")) == 1
    assert [d.function for d in kfn_client.duplicates] == ["ship"]


async def test_a_sink_that_is_briefly_down_is_retried(
    kfn_client: KfnClient, kfn_sink: CapturedSink
) -> None:
    kfn_sink.fail(503, times=2)
    answer = await kfn_client.send(event("com.example.invoice.created", INVOICE), to="ship")
    assert answer.status_code == 202
    assert len(kfn_sink.requests) == 3
    assert len(kfn_sink.events) == 1


async def test_when_the_sink_stays_down_shipping_fails_so_knative_retries(
    kfn_client: KfnClient, kfn_sink: CapturedSink
) -> None:
    kfn_sink.fail(503, times=10)
    answer = await kfn_client.send(event("com.example.invoice.created", INVOICE), to="ship")
    assert answer.status_code == 500
    assert kfn_sink.events == []


async def test_a_dispatched_shipment_notifies_the_customer(kfn_client: KfnClient) -> None:
    notified = await kfn_client.reply(event("com.example.shipment.dispatched", SHIPMENT))
    assert notified.get_type() == "com.example.customer.notified"
    assert Notification.model_validate(notified.get_data()).customer == "ann"


async def test_the_nightly_sweep_runs_on_its_ping(
    kfn_client: KfnClient, kfn_sink: CapturedSink
) -> None:
    answer = await kfn_client.fire("nightly_sweep")
    assert answer.status_code == 202
    assert kfn_sink.of_type("com.example.carts.expired")


async def test_every_step_is_audited(kfn_client: KfnClient) -> None:
    answer = await kfn_client.send(event("com.example.cart.updated", id="c-1"))
    assert answer.status_code == 202
    assert list(AUDIT_TRAIL) == ["com.example.cart.updated c-1"]


@pytest.mark.kfn(local_broker=True)
async def test_the_whole_order_flow_runs_in_process(kfn_client: KfnClient) -> None:
    invoice = await kfn_client.reply(event("com.example.order.created", ORDER))
    await kfn_client.settle()
    assert {(h.type, h.origin, h.to, h.status) for h in kfn_client.hops} == {
        ("com.example.invoice.created", "bill", "ship", 202),
        ("com.example.invoice.created", "bill", "audit", 202),
        ("com.example.shipment.dispatched", "ship", "notify", 200),
        ("com.example.shipment.dispatched", "ship", "audit", 202),
        ("com.example.customer.notified", "notify", "audit", 202),
    }
    assert f"com.example.invoice.created {invoice.get_id()}" in AUDIT_TRAIL
    assert len(AUDIT_TRAIL) == 4  # the order and the three events it caused


async def test_order_events_are_archived_by_the_sync_function(
    kfn_client: KfnClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "orders.jsonl"
    monkeypatch.setenv("SHOP_ARCHIVE", str(archive))
    answer = await kfn_client.send(
        event("com.example.order.cancelled", {"order_id": "o-9"}), to="archive"
    )
    assert answer.status_code == 202
    (line,) = archive.read_text().splitlines()
    assert json.loads(line)["type"] == "com.example.order.cancelled"
    assert json.loads(line)["data"] == {"order_id": "o-9"}
