"""Under `kfn run`, filters see an event as a Trigger's filter does, at `POST /` and in the local broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from kfn import CloudEvent, Registry
from kfn.filters import cesql, prefix
from kfn.testing import KfnClient, event
from tests.helpers import STRUCTURED, reply_data, structured_body

pytestmark = pytest.mark.kfn(local_broker=True)

registry = Registry()
SEEN: list[tuple[str, dict[str, Any]]] = []


@registry.cloudevent(type="view.clock", filters=[prefix(time="2020-01-01T10:")])
def utc_clock(event: CloudEvent) -> None:
    SEEN.append(("utc_clock", dict(event.get_attributes())))


@registry.cloudevent(
    type="view.arrival",
    filters=[cesql("EXISTS knativearrivaltime AND NOT EXISTS knativebrokerttl")],
)
def arrival(event: CloudEvent) -> None:
    SEEN.append(("arrival", dict(event.get_attributes())))


@registry.cloudevent(type="view.count", filters=[cesql("n = TRUE")])
def as_boolean(event: CloudEvent) -> None:
    SEEN.append(("as_boolean", dict(event.get_attributes())))


@registry.cloudevent(type="view.count", filters=[cesql("n = 1")])
def as_integer(event: CloudEvent) -> None:
    SEEN.append(("as_integer", dict(event.get_attributes())))


@pytest.fixture
def kfn_registry() -> Registry:
    return registry


@pytest.fixture(autouse=True)
def clear_seen() -> Iterator[None]:
    SEEN.clear()
    yield
    SEEN.clear()


async def test_a_time_filter_compares_the_time_in_utc(kfn_client: KfnClient) -> None:
    sent = event("view.clock")
    sent.get_attributes()["time"] = datetime(2020, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    answer = await kfn_client.send(sent)

    assert answer.status_code == 202
    ((name, attributes),) = SEEN
    assert name == "utc_clock"
    assert attributes["time"] == datetime(2020, 1, 1, 10, 0, tzinfo=UTC)


async def test_a_filter_on_the_arrival_time_and_the_ttl_sees_the_brokers_view(
    kfn_client: KfnClient,
) -> None:
    answer = await kfn_client.send(event("view.arrival", knativebrokerttl="7"))

    assert answer.status_code == 202
    ((_, attributes),) = SEEN
    assert "knativebrokerttl" not in attributes
    assert attributes["knativearrivaltime"].endswith("Z")


async def test_an_extension_sent_as_a_json_number_is_filtered_as_its_text(
    kfn_client: KfnClient,
) -> None:
    # The string '1' does not cast to a Boolean, as the Integer 1 would.
    answer = await kfn_client.send(event("view.count", n=1), mode="structured")

    assert answer.status_code == 202
    assert [(name, attributes["n"]) for name, attributes in SEEN] == [("as_integer", "1")]


async def test_an_event_whose_ttl_is_spent_is_refused_as_the_ingress_does(
    kfn_client: KfnClient,
) -> None:
    answer = await kfn_client.send(event("view.arrival", knativebrokerttl="1"))

    assert answer.status_code == 400
    assert answer.problem is not None and answer.problem["type"].endswith("hop-limit")
    assert SEEN == []


async def test_the_local_brokers_deliveries_see_the_same_view(kfn_client: KfnClient) -> None:
    from kfn import emit

    await emit(CloudEvent({"type": "view.count", "source": "/tests", "n": 1}))
    await kfn_client.settle()

    assert [(name, attributes["n"]) for name, attributes in SEEN] == [("as_integer", "1")]


def test_kfn_run_routes_post_root_on_the_brokers_view(live_server: Callable[..., Any]) -> None:
    server = live_server(env={"KFN_FUNCTIONS": "tests.apps.broker_view"})
    body = structured_body(
        "view.live", time="2020-01-01T12:00:00.500+02:00", n=1, knativebrokerttl="9"
    )

    response = httpx.post(server.url + "/", headers=STRUCTURED, content=body, timeout=10)

    assert response.status_code == 200
    seen = reply_data(response)
    assert seen["time"] == "2020-01-01 10:00:00.500000+00:00"
    assert seen["n"] == "1"
    assert "knativebrokerttl" not in seen
    assert seen["knativearrivaltime"].endswith("Z")
