"""What a Trigger's filter sees: the event after the broker's ingress, through the oracle.

Eventing's ingress stamps `knativearrivaltime` and defaults the TTL, the dispatcher
carries the event over HTTP (so extensions arrive as strings and `time` in UTC RFC 3339
with nanoseconds), and the filter removes the TTL before it filters. These are
Knative's answers; kfn's local broker (kfn.broker_ingress) must give the same view.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from kfn.broker_ingress import as_filtered
from kfn.codec import from_http
from kfn.filters import AllOf
from kfn.goformat import rfc3339_nano
from tests.apps import nanosecond_time
from tests.conftest import Server
from tests.helpers import STRUCTURED
from tests.knative.oracle_client import ARRIVAL, Answer, Oracle
from tests.knative.routing_cases import attributes_seen, case_from_seed

EVENT: dict[str, Any] = {"specversion": "1.0", "id": "1", "source": "/orders", "type": "t"}


def routed(oracle: Oracle, filters: list[dict[str, Any]], **attributes: Any) -> Answer:
    event = {**EVENT, **attributes}
    return oracle.ask({"trigger": {"filters": filters}, "event": event, "arrival": ARRIVAL})


def test_the_arrival_time_is_stamped_at_ingress(knative_filter: Oracle) -> None:
    answer = routed(knative_filter, [{"exact": {"knativearrivaltime": ARRIVAL}}])
    assert answer["verdict"] == "delivered"
    assert answer["event"]["knativearrivaltime"] == ARRIVAL


def test_the_ttl_is_gone_before_the_filter_runs(knative_filter: Oracle) -> None:
    answer = routed(knative_filter, [{"cesql": "EXISTS knativebrokerttl"}], knativebrokerttl=5)
    assert answer["verdict"] == "filtered"
    assert "knativebrokerttl" not in answer["event"]


def test_an_event_whose_ttl_runs_out_is_dropped_at_ingress(knative_filter: Oracle) -> None:
    assert routed(knative_filter, [], knativebrokerttl=1)["verdict"] == "dropped"


def test_an_unreadable_ttl_is_replaced_by_the_default(knative_filter: Oracle) -> None:
    assert routed(knative_filter, [], knativebrokerttl="many")["verdict"] == "delivered"


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("2026-01-02T03:04:05+02:00", "2026-01-02T01:04:05Z"),
        ("2026-01-02T03:04:05.5-01:00", "2026-01-02T04:04:05.5Z"),
        ("2026-01-02T03:04:05.000Z", "2026-01-02T03:04:05Z"),
    ],
)
def test_time_reaches_the_filter_in_utc(knative_filter: Oracle, sent: str, seen: str) -> None:
    answer = routed(knative_filter, [{"exact": {"time": seen}}], time=sent)
    assert answer["event"]["time"] == seen
    assert answer["verdict"] == "delivered"


@pytest.mark.parametrize(("sent", "seen"), [(10, "10"), (True, "true"), ("x", "x")])
def test_extensions_reach_the_filter_as_strings(
    knative_filter: Oracle, sent: object, seen: str
) -> None:
    answer = routed(knative_filter, [{"cesql": f"myext = '{seen}'"}], myext=sent)
    assert answer["event"]["myext"] == seen
    assert answer["verdict"] == "delivered"


def test_an_invalid_event_is_refused_at_ingress(knative_filter: Oracle) -> None:
    answer = knative_filter.ask({"trigger": {}, "event": {"specversion": "1.0", "id": "1"}})
    assert answer["verdict"] == "refused"


def test_a_non_boolean_cesql_root_makes_knatives_filter_panic(knative_filter: Oracle) -> None:
    assert routed(knative_filter, [{"cesql": "type"}])["verdict"] == "panic"


def _kfn_view(event: dict[str, Any]) -> dict[str, Any]:
    """What kfn's local broker hands its filters, for an event POSTed in structured mode."""
    [decoded] = from_http(
        [("content-type", "application/cloudevents+json")], json.dumps(event).encode()
    )
    attributes = as_filtered(decoded, ARRIVAL).get_attributes()
    if isinstance(attributes.get("time"), datetime):
        attributes["time"] = rfc3339_nano(attributes["time"])
    return dict(attributes)


@pytest.mark.parametrize("seed", range(0, 4000, 50))
def test_kfn_sees_the_event_as_knatives_filter_does(knative_filter: Oracle, seed: int) -> None:
    _, event = case_from_seed(seed)
    answer = knative_filter.ask({"trigger": {}, "event": event, "arrival": ARRIVAL})
    assert _kfn_view(event) == attributes_seen(answer["event"])


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("2026-01-02T03:04:05.123456789-05:30", "2026-01-02T08:34:05.123456789Z"),
        ("2026-01-02T03:04:05.1234567Z", "2026-01-02T03:04:05.1234567Z"),
        ("2026-01-02T03:04:05.123456780+00:00", "2026-01-02T03:04:05.12345678Z"),
        ("2026-01-02T03:04:05.000000500Z", "2026-01-02T03:04:05.0000005Z"),
        ("2026-01-02T03:04:05.000000000Z", "2026-01-02T03:04:05Z"),
        ("2026-01-02T03:04:05.1234567891234Z", "2026-01-02T03:04:05.123456789Z"),
    ],
)
def test_time_keeps_its_nanoseconds_as_knatives_filter_sees_them(
    knative_filter: Oracle, sent: str, seen: str
) -> None:
    answer = routed(knative_filter, [{"exact": {"time": seen}}], time=sent)
    assert (answer["verdict"], answer["event"]["time"]) == ("delivered", seen)
    assert _kfn_view({**EVENT, "time": sent})["time"] == seen


def _knative_verdicts(oracle: Oracle) -> dict[str, str]:
    """Knative's verdict for each function of tests.apps.nanosecond_time on its event."""
    types = list(nanosecond_time.FILTERS)
    answers = oracle.ask_all(
        [
            {
                "trigger": {"filters": AllOf([nanosecond_time.FILTERS[type_]]).trigger_items()},
                "event": {**EVENT, "type": type_, "time": nanosecond_time.SENT_TIME},
                "arrival": ARRIVAL,
            }
            for type_ in types
        ]
    )
    return {type_: answer["verdict"] for type_, answer in zip(types, answers, strict=True)}


def test_kfn_run_routes_a_nanosecond_time_as_a_trigger_does(
    knative_filter: Oracle, kfn_server: Callable[..., Server]
) -> None:
    knative = _knative_verdicts(knative_filter)
    assert sorted(knative.values()).count("delivered") == 4
    server = kfn_server("tests.apps.nanosecond_time")
    local: dict[str, str] = {}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for type_ in knative:
            body = json.dumps({**EVENT, "type": type_, "time": nanosecond_time.SENT_TIME})
            response = client.post("/", headers=STRUCTURED, content=body)
            assert response.status_code in (200, 404), response.text
            local[type_] = "delivered" if response.status_code == 200 else "filtered"
            if response.status_code == 200:
                assert response.json()["time"] == nanosecond_time.SEEN_TIME
    assert local == knative


def test_kfn_run_filters_a_binary_mode_time_to_the_nanosecond(
    kfn_server: Callable[..., Server],
) -> None:
    server = kfn_server("tests.apps.nanosecond_time")
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/orders",
        "ce-type": "time.cesql",
        "ce-time": nanosecond_time.SENT_TIME,
    }

    response = httpx.post(server.url + "/", headers=headers, content=b"", timeout=10)

    assert response.status_code == 200
    assert response.headers["ce-time"] == nanosecond_time.SEEN_TIME
