"""`time` to the nanosecond: read as Go reads RFC 3339, kept through kfn, written back."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from kfn._errors import DecodingError
from kfn._timestamps import NanoTime, nanoseconds, parse_rfc3339
from kfn.codec import Mode, from_http, to_http
from kfn.goformat import rfc3339_nano

NANO_TEXT = "2026-01-02T03:04:05.123456789-05:30"


def test_a_time_with_nanoseconds_is_a_datetime_that_keeps_them() -> None:
    moment = parse_rfc3339(NANO_TEXT)

    assert isinstance(moment, datetime)
    assert moment.microsecond == 123456
    assert nanoseconds(moment) == 123_456_789
    assert rfc3339_nano(moment) == NANO_TEXT


@pytest.mark.parametrize(
    "text", ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5Z", "2026-01-02T03:04:05.123456000Z"]
)
def test_a_time_datetime_holds_exactly_stays_a_plain_datetime(text: str) -> None:
    assert type(parse_rfc3339(text)) is datetime


def test_digits_past_the_ninth_are_dropped_as_go_does() -> None:
    assert nanoseconds(parse_rfc3339("2026-01-02T03:04:05.0000000019Z")) == 1


@pytest.mark.parametrize(
    "text", ["2026-01-02", "2026-01-02T03:04:05", "2026-02-30T03:04:05Z", "2026-01-02 03:04:05Z"]
)
def test_a_time_that_is_not_rfc_3339_is_refused(text: str) -> None:
    with pytest.raises(DecodingError) as raised:
        parse_rfc3339(text)
    assert raised.value.kind == "invalid-time"


def test_iso_text_and_str_show_the_nanoseconds() -> None:
    moment = parse_rfc3339(NANO_TEXT)

    assert moment.isoformat() == NANO_TEXT
    assert str(moment) == "2026-01-02 03:04:05.123456789-05:30"
    assert moment.isoformat(timespec="milliseconds") == "2026-01-02T03:04:05.123-05:30"


def test_a_change_of_zone_keeps_the_nanoseconds() -> None:
    assert (
        rfc3339_nano(parse_rfc3339(NANO_TEXT).astimezone(UTC)) == "2026-01-02T08:34:05.123456789Z"
    )


def test_copies_and_pickles_keep_the_nanoseconds() -> None:
    moment = parse_rfc3339(NANO_TEXT)

    for copied in (copy.copy(moment), copy.deepcopy(moment), pickle.loads(pickle.dumps(moment))):
        assert isinstance(copied, NanoTime)
        assert (copied, nanoseconds(copied)) == (moment, 123_456_789)


def test_arithmetic_gives_datetimes_microseconds() -> None:
    later = parse_rfc3339(NANO_TEXT) + timedelta(seconds=1)

    assert nanoseconds(later) == 123_456_000


@pytest.mark.parametrize("mode", [Mode.BINARY, Mode.STRUCTURED])
def test_a_received_time_is_written_back_with_its_nanoseconds(mode: Mode) -> None:
    body = json.dumps(
        {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "time": NANO_TEXT}
    ).encode()
    [event] = from_http([("content-type", "application/cloudevents+json")], body)

    headers, written = to_http(event, mode)
    [again] = from_http(headers, written)

    time = again.get_time()
    assert time is not None and rfc3339_nano(time) == NANO_TEXT
