"""The broker's view of an event: what eventing's ingress and channel make of it before a Trigger filters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kfn._errors import HopLimitReached
from kfn.broker_ingress import (
    DEFAULT_TTL,
    filtered_attributes,
    next_ttl,
    read_ttl,
    received,
)
from kfn.codec.event import trusted_event
from kfn.problems import status_of

ARRIVED = "2026-01-02T03:04:05.123456Z"
SENT = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def test_the_arrival_time_is_set_even_over_one_the_sender_wrote() -> None:
    seen = filtered_attributes({**SENT, "knativearrivaltime": "yesterday"}, ARRIVED)

    assert seen["knativearrivaltime"] == ARRIVED


def test_the_ttl_is_removed_before_filtering() -> None:
    assert "knativebrokerttl" not in filtered_attributes({**SENT, "knativebrokerttl": "9"}, ARRIVED)


def test_time_is_rewritten_in_utc() -> None:
    local = datetime(2020, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))

    seen = filtered_attributes({**SENT, "time": local}, ARRIVED)

    assert seen["time"] == local
    assert seen["time"].utcoffset() == timedelta(0)


def test_extensions_arrive_as_strings_as_binary_mode_carries_them() -> None:
    seen = filtered_attributes(
        {**SENT, "n": 5, "flag": True, "when": datetime(2020, 1, 1)}, ARRIVED
    )

    assert (seen["n"], seen["flag"], seen["when"]) == ("5", "true", "2020-01-01T00:00:00Z")


def test_context_attributes_keep_their_values() -> None:
    seen = filtered_attributes({**SENT, "subject": "x"}, ARRIVED)

    assert {name: seen[name] for name in (*SENT, "subject")} == {**SENT, "subject": "x"}


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("9", 9),
        (9, 9),
        ("2.9", 2),  # sdk-go reads a TTL as a float and truncates it
        ("1e2", 100),
        (" 5", None),
        ("abc", None),
        (True, None),
        (2**40, None),
        ("4294967296", None),
        (None, None),
    ],
)
def test_the_ttl_is_read_as_sdk_go_reads_an_integer(raw: object, read: int | None) -> None:
    assert read_ttl(raw) == read


@pytest.mark.parametrize(
    ("carried", "ttl"),
    [(None, DEFAULT_TTL), (1, 0), (0, 0), (-5, 0), (1000, 999), (-(2**31), 2**31 - 1)],
)
def test_the_ingress_counts_the_ttl_down_without_a_ceiling(carried: int | None, ttl: int) -> None:
    assert next_ttl(carried) == ttl


def test_an_event_with_a_spent_ttl_is_refused_with_400() -> None:
    with pytest.raises(HopLimitReached) as caught:
        received(trusted_event({**SENT, "knativebrokerttl": "1"}, None))

    assert status_of(caught.value) == 400
    assert caught.value.kind == "hop-limit"
