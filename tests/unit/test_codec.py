"""Codec details that need no server: header encoding, data rules, replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from kfn import CloudEvent, Registry
from kfn._errors import DecodingError
from kfn.codec import Mode, binary, detect_mode, structured
from kfn.codec.attributes import parse_time
from kfn.codec.event import trusted_event
from kfn.codec.headers import decode_value, encode_value
from kfn.problems import status_of
from kfn.replies import build_reply


def test_the_spec_example_is_percent_encoded() -> None:
    assert encode_value("Euro € 😀") == b"Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert encode_value('say "100%"') == b"say%20%22100%25%22"


def test_a_raw_non_ascii_header_byte_is_rejected() -> None:
    with pytest.raises(DecodingError, match="ce-x holds raw non-ASCII bytes") as caught:
        decode_value("x", "é".encode())
    assert (status_of(caught.value), caught.value.kind) == (400, "invalid-header-encoding")


def test_quoted_strings_unescape_backslashes() -> None:
    assert decode_value("x", b'"a \\"b\\" c"') == 'a "b" c'


@pytest.mark.parametrize(
    ("content_type", "mode"),
    [
        (None, Mode.BINARY),
        (b"application/json", Mode.BINARY),
        (b"application/cloudevents+json", Mode.STRUCTURED),
        (b"application/cloudevents-batch+json", Mode.BATCH),
        (b"APPLICATION/CLOUDEVENTS-BATCH+JSON; charset=utf-8", Mode.BATCH),
    ],
)
def test_content_mode_detection(content_type: bytes | None, mode: Mode) -> None:
    assert detect_mode(content_type) is mode


def test_lower_case_rfc3339_separators_are_accepted() -> None:
    assert parse_time("2018-04-05t17:31:00z") == datetime(2018, 4, 5, 17, 31, tzinfo=UTC)


def test_a_json_string_reply_goes_out_quoted_in_binary_mode() -> None:
    event = CloudEvent({"type": "t", "source": "/s"}, "I'm just a string")
    headers, body = binary.encode(event)
    assert body == b'"I\'m just a string"'
    assert (b"content-type", b"application/json") in headers


def test_a_list_reply_is_json_not_python_repr() -> None:
    attributes = {"type": "t", "source": "/s", "datacontenttype": "application/json"}
    event = CloudEvent(attributes, [1, 2])  # type: ignore[arg-type]  # JSON data may be a list
    assert binary.encode(event)[1] == b"[1,2]"


def test_bytes_go_to_data_base64_in_structured_mode() -> None:
    event = CloudEvent({"type": "t", "source": "/s"}, b"\x00\xff")
    assert b'"data_base64": "AP8="' in structured.encode(event)


class Answer(BaseModel):
    value: int


def test_a_model_reply_gets_the_reply_type_and_the_subject() -> None:
    reg = Registry()
    reg.cloudevent(type="q", reply_type="a", reply_source="/me", name="q")(lambda e: None)
    spec = reg.event_functions[0]
    request = CloudEvent({"type": "q", "source": "/s", "subject": "sub", "id": "1"})
    reply = build_reply(Answer(value=3), request, spec, "/default")
    assert reply is not None
    assert reply.get_type() == "a" and reply.get_source() == "/me"
    assert reply.get_subject() == "sub" and reply.get_id() != "1"
    assert reply.get_data() == {"value": 3}


def test_no_reply_for_none() -> None:
    reg = Registry()
    reg.cloudevent(type="q", name="q")(lambda e: None)
    request = CloudEvent({"type": "q", "source": "/s"})
    assert build_reply(None, request, reg.event_functions[0], "/d") is None


def test_the_trusted_fast_path_builds_what_the_sdk_constructor_builds() -> None:
    attributes = {
        "specversion": "1.0",
        "id": "42",
        "source": "/tests",
        "type": "com.example.checked",
        "time": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "subject": "eu-1",
        "datacontenttype": "application/json",
        "region": "eu",
    }
    fast = trusted_event(dict(attributes), {"total": 3})
    public = CloudEvent(dict(attributes), {"total": 3})
    assert type(fast) is type(public)
    assert fast.get_attributes() == public.get_attributes()
    assert fast.get_data() == public.get_data()
    assert vars(fast) == vars(public)


@pytest.mark.parametrize("value", [-(2**31), 2**31 - 1])
def test_integer_extensions_at_the_int32_bounds_are_kept(value: int) -> None:
    body = f'{{"specversion":"1.0","id":"1","source":"s","type":"t","n":{value}}}'.encode()
    assert structured.decode(body).get_extension("n") == value


@pytest.mark.parametrize("value", [-(2**31) - 1, 2**31])
def test_integer_extensions_past_the_int32_bounds_are_refused(value: int) -> None:
    body = f'{{"specversion":"1.0","id":"1","source":"s","type":"t","n":{value}}}'.encode()
    with pytest.raises(DecodingError, match="'n' is an Integer outside the 32-bit range") as error:
        structured.decode(body)
    assert status_of(error.value) == 400
