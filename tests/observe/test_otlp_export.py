"""Spans exported over OTLP to a real receiver: a multi-hop flow under the local broker is one trace."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.helpers import binary_headers
from tests.observe.otlp_receiver import OtlpReceiver, ReceivedSpan

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
ORDER = {
    "order_id": "o-7",
    "customer": "ann",
    "lines": [{"sku": "tea", "quantity": 2, "unit_price": 3.25}],
}
CONSUMER = 5  # opentelemetry.proto.trace.v1.Span.SPAN_KIND_CONSUMER


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    server = OtlpReceiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def traced_shop(
    receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The example app under `kfn run` (local broker on), exporting to the receiver."""
    server = start_server(
        "functions",
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_SERVICE_NAME": "shop",
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "SHOP_ARCHIVE": str(tmp_path_factory.mktemp("shop") / "archive.jsonl"),
            "KFN_SCHEDULES": "false",
        },
    )
    yield server
    server.stop()  # SIGTERM: the server writes its coverage data


def _one(spans: list[ReceivedSpan], name: str, parent: ReceivedSpan | str) -> ReceivedSpan:
    parent_id = parent if isinstance(parent, str) else parent.span_id
    found = [s for s in spans if s.name == name and s.parent_id == parent_id]
    assert len(found) == 1, f"{name} under {parent_id}: {spans}"
    return found[0]


def test_an_order_flow_through_the_local_broker_is_one_connected_trace(
    traced_shop: Server, receiver: OtlpReceiver
) -> None:
    headers = {
        **binary_headers(
            "com.example.order.created", "o-7", **{"content-type": "application/json"}
        ),
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
    }
    response = httpx.post(
        traced_shop.url + "/events/bill", headers=headers, content=json.dumps(ORDER)
    )
    assert response.status_code == 200
    # bill -> (reply) ship, audit -> (emit) notify, audit -> (reply) audit
    spans = receiver.wait_for(
        lambda spans: len([s for s in spans if s.trace_id == CALLER_TRACE]) >= 6
    )
    spans = [s for s in spans if s.trace_id == CALLER_TRACE]
    assert len(spans) == 6
    bill = _one(spans, "bill", CALLER_SPAN)
    ship = _one(spans, "ship", bill)
    _one(spans, "audit", bill)
    notify = _one(spans, "notify", ship)
    _one(spans, "audit", ship)
    _one(spans, "audit", notify)
    assert response.headers["traceparent"].split("-")[2] == bill.span_id
    assert sum(s.attributes["faas.coldstart"] for s in receiver.spans) == 1


def test_spans_follow_the_faas_and_cloudevents_conventions(
    traced_shop: Server, receiver: OtlpReceiver
) -> None:
    headers = binary_headers(
        "com.example.order.created", "o-8", subject="eu-1", **{"content-type": "application/json"}
    )
    httpx.post(traced_shop.url + "/events/bill", headers=headers, content=json.dumps({}))
    spans = receiver.wait_for(
        lambda spans: any(s.attributes.get("faas.invocation_id") == "o-8" for s in spans)
    )
    (bill,) = [s for s in spans if s.attributes.get("faas.invocation_id") == "o-8"]
    assert bill.kind == CONSUMER and bill.parent_id == ""
    assert bill.resource["service.name"] == "shop"
    assert {
        "faas.name": "bill",
        "faas.trigger": "pubsub",
        "faas.invocation_id": "o-8",
        "cloudevents.event_id": "o-8",
        "cloudevents.event_type": "com.example.order.created",
        "cloudevents.event_source": "/tests",
        "cloudevents.event_subject": "eu-1",
        "http.response.status_code": 422,
        "kfn.outcome": "rejected",
        "error.type": "invalid-data",
    }.items() <= bill.attributes.items()
