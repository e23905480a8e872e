"""The rules of the wire, one helper each: strict JSON, charsets, reply checks, clipping, rate limits."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kfn import logs
from kfn._errors import DecodingError, ReplyNotEncodable
from kfn.codec import Mode, encode
from kfn.codec.attributes import check_outgoing
from kfn.codec.data import codec_for
from kfn.codec.event import new_event
from kfn.codec.strict_json import MAX_DEPTH, depth_of, dumps, loads
from kfn.problems import MAX_ECHO, Problem, clip


def rule(call: Any, *args: Any) -> str:
    with pytest.raises(DecodingError) as raised:
        call(*args)
    return raised.value.kind


def test_depth_counts_arrays_and_objects_but_not_strings() -> None:
    assert depth_of(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert depth_of(b'"[[["') == 0
    assert depth_of(b'["\\"[", ["\\\\"], "\\u005b]"]') == 2
    assert depth_of('["é]]"]'.encode()) == 1
    assert depth_of(b"7") == 0


def test_loads_bounds_nesting_below_the_envelope() -> None:
    assert loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    deeper = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert rule(loads, deeper) == "too-deeply-nested"
    assert loads(deeper, 1) is not None  # one level is the event's own object
    assert rule(loads, b"[" * 50_000 + b"]" * 50_000) == "too-deeply-nested"


def test_loads_refuses_what_is_not_json_or_not_a_double() -> None:
    assert rule(loads, b"[NaN]") == "not-json"
    assert rule(loads, b"-Infinity") == "not-json"
    assert rule(loads, b"1e400") == "number-out-of-range"
    assert loads(b"1e-400") == 0.0
    assert loads(b'"\\u00e9"') == "é"
    with pytest.raises(ValueError):
        loads(b"{")
    with pytest.raises(ValueError):  # a lone surrogate, encoded, is not UTF-8
        loads(b'"\xed\xa0\x80"')


def test_loads_reads_utf16_json_and_its_nesting() -> None:
    text = json.dumps({"a": [[1]]}).encode("utf-16")
    assert loads(text) == {"a": [[1]]}


def test_dumps_writes_only_json() -> None:
    assert dumps({"a": "é"}) == '{"a": "é"}'.encode()
    for value in (float("nan"), [float("inf")]):
        with pytest.raises(ValueError):
            dumps(value)
    with pytest.raises(UnicodeEncodeError):
        dumps("\ud800")


@pytest.mark.parametrize(
    "charset",
    ["idna", "punycode", "unicode-escape", "undefined", "rot13", "base64", "zlib", "nope"],
)
def test_charsets_that_are_no_text_charset_have_no_codec(charset: str) -> None:
    assert codec_for(charset) is None


@pytest.mark.parametrize(
    ("charset", "codec"), [("UTF-8", "utf-8"), ("latin1", "iso8859-1"), ("Shift_JIS", "shift_jis")]
)
def test_iana_charsets_have_their_codec(charset: str, codec: str) -> None:
    assert codec_for(charset) == codec


def attributes(**extra: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", **extra}


@pytest.mark.parametrize(
    "extra",
    [
        {"bad\n": "x"},
        {"Upper": "x"},
        {"note": "\ud800"},
        {"note": "a\rb"},
        {"score": 0.5},
        {"count": 2**31},
        {"datacontenttype": "text/plain\r\nx: y"},
        {"datacontenttype": "text/plain; name=café"},
        {"datacontenttype": "not a media type"},
        {"datacontenttype": "text/plain; charset=idna"},
    ],
)
def test_outgoing_attributes_that_cannot_go_out(extra: dict[str, Any]) -> None:
    with pytest.raises(ReplyNotEncodable):
        check_outgoing(attributes(**extra))


def test_outgoing_attributes_of_every_cloudevents_type_pass() -> None:
    check_outgoing(
        attributes(
            flag=True,
            count=-(2**31),
            time=datetime.now(UTC),
            datacontenttype="text/plain; charset=utf-8",
            gone=None,
        )
    )


@pytest.mark.parametrize("mode", list(Mode))
def test_encode_names_the_reply_that_failed_in_a_batch(mode: Mode) -> None:
    good = new_event("t", "/s", {"ok": 1})
    bad = new_event("t", "/s", {"x": float("nan")})
    replies = [good, bad] if mode is Mode.BATCH else [bad]
    with pytest.raises(ReplyNotEncodable) as raised:
        encode(mode, replies)
    assert raised.value.context["index"] == len(replies) - 1
    assert "Out of range float values" not in raised.value.detail  # never the exception's text


def test_clip_keeps_head_and_tail_and_says_how_much_was_cut() -> None:
    text = "a" * 1_000 + "z" * 1_000
    clipped = clip(text)
    assert len(clipped) <= MAX_ECHO
    assert clipped.startswith("aaa") and clipped.endswith("zzz")
    assert "characters cut" in clipped
    assert clip("short") == "short"


def test_clip_bounds_lists_nesting_and_non_json_numbers() -> None:
    value = {"errors": [{"input": "x" * 10_000}] * 100, "nan": float("nan")}
    clipped = clip(value)
    assert len(clipped["errors"]) == 21
    assert len(clipped["errors"][0]["input"]) <= MAX_ECHO
    assert clipped["nan"] == "nan"
    deep: Any = []
    for _ in range(50):
        deep = [deep]
    assert len(json.dumps(clip(deep))) < 50


def test_a_problem_body_is_json_whatever_it_carries() -> None:
    problem = Problem(422, "invalid-data", "x" * 100_000, errors=[{"input": float("inf")}])
    document = json.loads(problem.body())
    assert len(document["detail"]) <= MAX_ECHO
    assert document["errors"] == [{"input": "inf"}]


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    logs.logger.addHandler(handler)
    level = logs.logger.level
    logs.logger.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        logs.logger.removeHandler(handler)
        logs.logger.setLevel(level)
        logs.flush_limited()


async def test_limited_writes_the_first_line_then_one_count_per_interval(
    records: list[logging.LogRecord],
) -> None:
    for index in range(100):
        logs.limited("unit:flood", logging.WARNING, "refused", interval=0.2, index=index)
    assert [r.getMessage() for r in records] == ["refused"]
    await asyncio.sleep(0.35)
    assert len(records) == 2
    summary = records[1]
    assert summary.fields["suppressed"] == 99  # type: ignore[attr-defined]
    assert summary.levelno == logging.WARNING
    await asyncio.sleep(0.3)  # an interval with nothing held ends the flood
    logs.limited("unit:flood", logging.WARNING, "refused", interval=0.2)
    assert len(records) == 3


def test_limited_without_a_loop_reports_on_the_next_call_or_at_flush(
    records: list[logging.LogRecord],
) -> None:
    for _ in range(5):
        logs.limited("unit:sync", logging.WARNING, "refused", interval=60)
    assert len(records) == 1
    logs.flush_limited()
    assert records[-1].fields["suppressed"] == 4  # type: ignore[attr-defined]


def test_limited_holds_back_each_key_on_its_own(records: list[logging.LogRecord]) -> None:
    for _ in range(3):
        logs.limited("unit:one", logging.WARNING, "one", interval=60)
        logs.limited("unit:two", logging.WARNING, "two", interval=60)
    assert [r.getMessage() for r in records] == ["one", "two"]
    logs.flush_limited()
    summaries = sorted((r.getMessage(), r.fields["suppressed"]) for r in records[2:])  # type: ignore[attr-defined]
    assert summaries == [("one (2 more in 60s)", 2), ("two (2 more in 60s)", 2)]


def test_log_fields_are_clipped(records: list[logging.LogRecord]) -> None:
    logs.event(logging.WARNING, "m" * 10_000, event_id="i" * 10_000)
    (record,) = records
    assert len(record.getMessage()) <= MAX_ECHO
    assert len(record.fields["event_id"]) <= MAX_ECHO  # type: ignore[attr-defined]
