"""The local event loop end to end, on a real `kfn run` on 127.0.0.1: every hop in its log."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.events.conftest import LiveServer, SinkServer
from tests.helpers import binary_headers

ORDER = {
    "order_id": "o-7",
    "customer": "ann",
    "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}],
}
INVOICE = {"invoice_id": "inv-o-7", "order_id": "o-7", "customer": "ann", "total": 6.5}
JSON = {"content-type": "application/json"}

Start = Callable[..., LiveServer]


def post(
    server: LiveServer, path: str, type_: str, data: object = None, **extra: str
) -> httpx.Response:
    body = json.dumps(data).encode() if data is not None else b""
    headers = binary_headers(type_, id_="in-1", **(JSON if data is not None else {}), **extra)
    return httpx.post(server.url + path, headers=headers, content=body, timeout=10)


def test_an_order_flows_through_every_step(live_server: Start) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "functions"})
    response = post(server, "/", "com.example.order.created", ORDER)
    # The sender still gets bill's reply, as from any Trigger delivery...
    assert response.status_code == 200
    assert response.headers["ce-type"] == "com.example.invoice.created"
    # ...and the reply also goes to the broker, which delivers it on, hop by hop.
    expected = {
        ("com.example.invoice.created", "bill", "ship", 202, 254),
        ("com.example.invoice.created", "bill", "audit", 202, 254),
        ("com.example.shipment.dispatched", "ship", "notify", 200, 253),
        ("com.example.shipment.dispatched", "ship", "audit", 202, 253),
        ("com.example.customer.notified", "notify", "audit", 202, 252),
    }

    def hops() -> set[tuple[object, ...]]:
        return {(h["type"], h["from"], h["to"], h["status"], h["ttl"]) for h in server.hops()}

    server.wait_for(lambda: expected <= hops(), what="every hop of the flow")
    # Stopping drains: a stray delivery still running is logged before the process exits,
    # and one starting after the signal is logged as dropped.
    assert server.stop() == 0
    assert hops() == expected
    invoice_hops = [h for h in server.hops() if h["type"] == "com.example.invoice.created"]
    assert {h["event_id"] for h in invoice_hops} == {response.headers["ce-id"]}


def test_a_reply_loop_stops_at_the_hop_limit(live_server: Start) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "tests.apps.loop"})
    assert post(server, "/events/reply_loop", "test.loop").status_code == 200
    # The drop is logged before the delivery whose reply it drops (the one at TTL 1).
    server.wait_for(lambda: loop_ended(server), what="the drop and the last delivery")
    assert server.stop() == 0
    hops = server.hops()
    delivered = [h for h in hops if h["to"] == "reply_loop"]
    assert len(delivered) == 254  # 255 calls with the one posted
    assert sorted(h["ttl"] for h in delivered) == list(range(1, 255))
    (dropped,) = [h for h in hops if h["to"] is None]
    assert (dropped["status"], dropped["ttl"], dropped["level"]) == (400, 0, "warning")
    assert dropped["detail"] == "hop limit reached: dropped"


def loop_ended(server: LiveServer) -> bool:
    """The reply loop's end is in the log: the drop at TTL 0 and the delivery at TTL 1."""
    hops = server.hops()
    return any(h["to"] is None for h in hops) and any(h["ttl"] == 1 for h in hops)


def test_a_ttl_on_the_event_posted_shortens_the_loop(live_server: Start) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "tests.apps.loop"})
    assert post(server, "/events/reply_loop", "test.loop", knativebrokerttl="5").status_code == 200
    server.wait_for(lambda: loop_ended(server), what="the drop and the last delivery")
    assert server.stop() == 0
    assert sorted(h["ttl"] for h in server.hops()) == [0, 1, 2, 3, 4]


def test_an_emit_loop_stops_at_the_hop_limit_too(live_server: Start) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "tests.apps.loop"})
    assert post(server, "/events/emit_loop", "test.emit.loop").status_code == 202
    server.wait_for(
        lambda: any(h["to"] == "emit_loop" and h["status"] == 500 for h in server.hops()),
        what="the emit at the limit to fail",
    )
    assert server.stop() == 0
    delivered = [h for h in server.hops() if h["to"] == "emit_loop"]
    assert len(delivered) == 254
    failed = [h for h in delivered if h["status"] != 202]
    assert [(h["status"], h["ttl"], h["retried_on_knative"]) for h in failed] == [(500, 1, True)]


def test_with_k_sink_set_emits_go_to_the_sink(live_server: Start, sink_server: SinkServer) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "functions", "K_SINK": sink_server.url})
    response = post(server, "/events/ship", "com.example.invoice.created", INVOICE)
    assert response.status_code == 202
    (request,) = sink_server.requests
    assert request.headers["ce-type"] == "com.example.shipment.dispatched"
    assert request.headers["ce-subject"] == "o-7"
    assert json.loads(request.body)["shipment_id"] == "ship-o-7"
    assert server.stop() == 0
    assert server.records("ready")  # the whole log was read
    assert server.hops() == []  # no local broker when a real sink is set


def test_a_failing_sink_fails_the_function_so_the_event_is_retried(
    live_server: Start, sink_server: SinkServer
) -> None:
    server = live_server(
        env={"KFN_FUNCTIONS": "functions", "K_SINK": sink_server.url, "KFN_EMIT_RETRIES": "1"}
    )
    sink_server.script(503, 503)
    response = post(server, "/events/ship", "com.example.invoice.created", INVOICE)
    assert response.status_code == 500  # Knative retries the invoice delivery
    assert len(sink_server.requests) == 2


def test_no_local_broker_keeps_replies_with_the_sender(live_server: Start) -> None:
    server = live_server("--no-local-broker", env={"KFN_FUNCTIONS": "functions"})
    assert post(server, "/", "com.example.order.created", ORDER).status_code == 200
    assert server.stop() == 0
    assert server.records("ready")  # the whole log was read
    assert server.hops() == []
