"""/metrics: what operators look for, in Prometheus names, with no label from a request."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Server, start_server
from tests.events.conftest import SinkServer
from tests.helpers import binary_headers

Start = Callable[..., Server]

ORDER = {
    "order_id": "o-9",
    "customer": "ann",
    "lines": [{"sku": "tea", "quantity": 1, "unit_price": 1}],
}
INVOICE = {"invoice_id": "inv-9", "order_id": "o-9", "customer": "ann", "total": 1.0}


@pytest.fixture(scope="module")
def contract() -> Iterator[Server]:
    """The contract app: a function for each way a call can end."""
    server = start_server("tests.apps.contract")
    yield server
    server.stop()


def _samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(server.url + "/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(server: Server, name: str, **labels: str) -> float:
    return _samples(server).get((name, tuple(sorted(labels.items()))), 0.0)


def _post(server: Server, path: str, type_: str, data: object, **headers: str) -> httpx.Response:
    return httpx.post(
        server.url + path,
        headers={**binary_headers(type_, **{"content-type": "application/json"}), **headers},
        content=json.dumps(data),
    )


def test_events_are_counted_by_function_outcome_and_status(shop: Server) -> None:
    before = _value(shop, "kfn_events_total", function="bill", outcome="ok", status="200")
    rejected = _value(shop, "kfn_events_total", function="bill", outcome="rejected", status="422")
    assert _post(shop, "/events/bill", "com.example.order.created", ORDER).status_code == 200
    assert _post(shop, "/events/bill", "com.example.order.created", {}).status_code == 422
    after = _samples(shop)
    key = ("kfn_events_total", (("function", "bill"), ("outcome", "ok"), ("status", "200")))
    assert after[key] == before + 1
    bad = ("kfn_events_total", (("function", "bill"), ("outcome", "rejected"), ("status", "422")))
    assert after[bad] == rejected + 1
    assert after[("kfn_event_duration_seconds_count", (("function", "bill"),))] >= 2


@pytest.mark.parametrize(
    ("type_", "function", "outcome", "status"),
    [
        ("test.noreply", "noreply", "ok", 202),
        ("test.echo", "echo", "ok", 200),
        ("test.raise", "explode", "failed", 500),
        ("test.drop", "drop", "rejected", 422),
        ("test.retry", "retry", "failed", 503),
        ("test.slow", "too_slow", "failed", 504),
    ],
)
def test_each_way_a_call_ends_is_counted_with_its_status(
    contract: Server, type_: str, function: str, outcome: str, status: int
) -> None:
    """Answered, replied, raised, dropped, retried, timed out: one event each, the status answered."""
    labels = {"function": function, "outcome": outcome, "status": str(status)}
    before = _value(contract, "kfn_events_total", **labels)
    assert _post(contract, "/", type_, {"n": 1}).status_code == status
    assert _value(contract, "kfn_events_total", **labels) == before + 1


def test_emits_and_their_failures_are_counted_by_the_emitting_function(
    shop: Server, sink: SinkServer
) -> None:
    emits = _value(shop, "kfn_emits_total", function="ship")
    failures = _value(shop, "kfn_emit_failures_total", function="ship")
    # ship is idempotent per order: each post is a new order
    first, second = {**INVOICE, "order_id": "o-10"}, {**INVOICE, "order_id": "o-11"}
    assert _post(shop, "/events/ship", "com.example.invoice.created", first).status_code == 202
    sink.script(400)  # the sink refuses the next one for good
    assert _post(shop, "/events/ship", "com.example.invoice.created", second).status_code == 500
    assert _value(shop, "kfn_emits_total", function="ship") == emits + 2
    assert _value(shop, "kfn_emit_failures_total", function="ship") == failures + 1


def test_refused_requests_are_counted_by_reason_never_by_what_the_request_named(
    shop: Server,
) -> None:
    _post(shop, "/events/no-such-function", "com.example.order.created", ORDER)
    httpx.post(shop.url + "/", headers={"ce-specversion": "1.0"}, content=b"")
    samples = _samples(shop)
    assert (
        samples[("kfn_refused_requests_total", (("reason", "unknown-function"), ("status", "404")))]
        >= 1
    )
    assert (
        samples[
            ("kfn_refused_requests_total", (("reason", "missing-attribute"), ("status", "400")))
        ]
        >= 1
    )
    assert not [key for key in samples if "no-such-function" in str(key)]


def test_startup_time_and_in_flight_are_gauges(shop: Server) -> None:
    samples = _samples(shop)
    startup = samples[("kfn_startup_duration_seconds", ())]
    assert 0 < startup < 60
    assert samples[("kfn_requests_in_flight", ())] == 0


def test_the_duration_histogram_measures_the_time_the_function_took(kfn_server: Start) -> None:
    server = kfn_server("tests.apps.contract")
    key = ("kfn_event_duration_seconds_sum", (("function", "sleeper"),))
    slow = {"content-type": "text/plain"}
    answer = httpx.post(server.url + "/", headers=binary_headers("test.sleep", **slow),
                        content=b"0.3", timeout=30)  # fmt: skip
    assert answer.status_code == 202
    samples = _samples(server)
    assert samples[("kfn_event_duration_seconds_count", (("function", "sleeper"),))] == 1
    assert 0.28 <= samples[key] < 0.75  # the function's own time (a sleep may wake early)
    bucket = "kfn_event_duration_seconds_bucket"
    assert samples[(bucket, (("function", "sleeper"), ("le", "0.25")))] == 0
    assert samples[(bucket, (("function", "sleeper"), ("le", "0.75")))] == 1
