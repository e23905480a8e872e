"""The CloudEvents HTTP binding rules (shared/cloudevents/HTTP-RULES.md), one behaviour per test."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import BATCH, STRUCTURED, binary_headers, reply_data, structured_body


def send(server: Server, headers: dict[str, str], body: bytes = b"") -> httpx.Response:
    return httpx.post(server.url + "/", headers=headers, content=body, timeout=10)


def seen(server: Server, headers: dict[str, str], body: bytes = b"") -> dict[str, Any]:
    response = send(server, headers, body)
    assert response.status_code == 200, response.text
    return reply_data(response)  # type: ignore[no-any-return]


def rejected(server: Server, headers: dict[str, str], body: bytes = b"") -> str:
    response = send(server, headers, body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["type"]).rsplit(":", 1)[-1]


# -- binary mode ----------------------------------------------------------------------


def test_binary_json_body_is_parsed_and_content_type_kept_whole(mirror_server: Server) -> None:
    ct = "application/json; charset=utf-8"
    got = seen(mirror_server, binary_headers("t", **{"content-type": ct}), b'{"a": [1, 2]}')
    assert got["data"] == {"a": [1, 2]}
    assert got["attributes"]["datacontenttype"] == ct


def test_binary_without_content_type_or_body_has_no_data(mirror_server: Server) -> None:
    got = seen(mirror_server, binary_headers("t"))
    assert got["data"] is None
    assert "datacontenttype" not in got["attributes"]


@pytest.mark.parametrize("missing", ["ce-id", "ce-source", "ce-type", "ce-specversion"])
def test_binary_missing_a_required_attribute_is_400(mirror_server: Server, missing: str) -> None:
    headers = binary_headers("t")
    del headers[missing]
    assert rejected(mirror_server, headers) in {"missing-attribute", "not-a-cloudevent"}


def test_an_unknown_specversion_is_400(mirror_server: Server) -> None:
    headers = binary_headers("t")
    headers["ce-specversion"] = "9.9"
    assert rejected(mirror_server, headers) == "unsupported-specversion"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀"),
        ("%e2%82%ac", "€"),
        ("%41", "A"),
        ('"a b"', "a b"),
        ("100%2541", "100%41"),
        ("%20padded%20", " padded "),
    ],
)
def test_header_values_are_percent_decoded_once(
    mirror_server: Server, raw: str, decoded: str
) -> None:
    got = seen(mirror_server, binary_headers("t", subject=raw, x=raw))
    assert got["attributes"]["subject"] == decoded
    assert got["attributes"]["x"] == decoded


def test_percent_encoded_invalid_utf8_is_400(mirror_server: Server) -> None:
    assert rejected(mirror_server, binary_headers("t", x="%C0%A0")) == "invalid-header-encoding"


def test_an_invalid_attribute_name_in_a_header_is_400(mirror_server: Server) -> None:
    headers = binary_headers("t")
    headers["ce-bad-ext"] = "1"
    assert rejected(mirror_server, headers) == "invalid-attribute-name"


def test_ce_datacontenttype_header_in_binary_mode_is_400(mirror_server: Server) -> None:
    headers = binary_headers("t", datacontenttype="application/json")
    assert rejected(mirror_server, headers) == "datacontenttype-header"


def test_binary_extensions_arrive_as_strings(mirror_server: Server) -> None:
    got = seen(mirror_server, binary_headers("t", count="42"))
    assert got["attributes"]["count"] == "42"
    assert got["types"]["count"] == "str"


def test_binary_bytes_arrive_byte_for_byte(mirror_server: Server) -> None:
    payload = bytes(range(256))
    got = seen(
        mirror_server, binary_headers("t", **{"content-type": "application/octet-stream"}), payload
    )
    assert base64.b64decode(got["data"]) == payload


def test_binary_json_content_type_with_a_broken_body_is_400(mirror_server: Server) -> None:
    headers = binary_headers("t", **{"content-type": "application/json"})
    assert rejected(mirror_server, headers, b"{not json") == "invalid-data"


# -- structured mode --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/cloudevents+json",
        "application/cloudevents+json; charset=UTF-8",
        "Application/CloudEvents+JSON",
    ],
)
def test_structured_media_type_is_matched_case_insensitively(
    mirror_server: Server, content_type: str
) -> None:
    got = seen(mirror_server, {"content-type": content_type}, structured_body("t", data={"k": 1}))
    assert got["data"] == {"k": 1}


def test_structured_integer_and_string_extensions_keep_their_types(mirror_server: Server) -> None:
    got = seen(mirror_server, STRUCTURED, structured_body("t", n=42, s="42", b=True))
    assert got["types"]["n"] == "int" and got["types"]["s"] == "str" and got["types"]["b"] == "bool"


def test_structured_null_attributes_are_unset(mirror_server: Server) -> None:
    got = seen(mirror_server, STRUCTURED, structured_body("t", subject=None, myext=None))
    assert "subject" not in got["attributes"] and "myext" not in got["attributes"]


def test_structured_data_base64_arrives_as_bytes(mirror_server: Server) -> None:
    body = structured_body("t", data_base64=base64.b64encode(b"\x00\x01binary").decode())
    got = seen(mirror_server, STRUCTURED, body)
    assert got["data_type"] == "bytes"
    assert base64.b64decode(got["data"]) == b"\x00\x01binary"


def test_a_json_string_is_not_parsed_again(mirror_server: Server) -> None:
    got = seen(mirror_server, STRUCTURED, structured_body("t", data='{"a":1}'))
    assert got["data"] == '{"a":1}'


def test_a_ce_header_does_not_override_the_structured_body(mirror_server: Server) -> None:
    headers = {**STRUCTURED, "ce-type": "from.header"}
    got = seen(mirror_server, headers, structured_body("from.body"))
    assert got["attributes"]["type"] == "from.body"


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (structured_body("t", data=1, data_base64="AA=="), "data-and-data-base64"),
        (structured_body("t", BadExt=1), "invalid-attribute-name"),
        (structured_body("t", **{"bad-ext": 1}), "invalid-attribute-name"),  # type: ignore[arg-type]
        (b"{not json", "invalid-json"),
        (b"[1, 2]", "not-an-object"),
        (b'"a string"', "not-an-object"),
        (structured_body("t", x=1.5), "invalid-attribute-value"),
        (structured_body("t", x=2147483648), "invalid-attribute-value"),
        (structured_body("t", x={}), "invalid-attribute-value"),
        (structured_body("t", x=[]), "invalid-attribute-value"),
        (structured_body("t", time="2018-04-05 17:31:00"), "invalid-time"),
        (structured_body("t", dataschema="/schemas/x"), "invalid-dataschema"),
        (structured_body("t", id_=""), "missing-attribute"),
        (structured_body("t", source=""), "missing-attribute"),
        (structured_body("t", data_base64="not base64!"), "invalid-data-base64"),
        # base64 once the stray characters are dropped, which a lenient decoder would do
        (structured_body("t", data_base64="aGVs*bG8="), "invalid-data-base64"),
        (structured_body("t", subject="bell\u0007"), "invalid-attribute-value"),
    ],
)
def test_invalid_structured_events_are_400(mirror_server: Server, body: bytes, rule: str) -> None:
    assert rejected(mirror_server, STRUCTURED, body) == rule


def test_an_unknown_structured_format_is_415(mirror_server: Server) -> None:
    response = send(mirror_server, {"content-type": "application/cloudevents+avro"}, b"x")
    assert response.status_code == 415


def test_a_60_kib_event_is_accepted(mirror_server: Server) -> None:
    big = "x" * 60 * 1024
    assert seen(mirror_server, STRUCTURED, structured_body("t", data=big))["data"] == big
    binary = seen(
        mirror_server, binary_headers("t", **{"content-type": "text/plain"}), big.encode()
    )
    assert binary["data"] == big


def test_time_keeps_its_instant(mirror_server: Server) -> None:
    got = seen(
        mirror_server, STRUCTURED, structured_body("t", time="2018-04-05T17:31:00.123456+02:00")
    )
    assert got["attributes"]["time"] == "2018-04-05T17:31:00.123456+02:00"


# -- batches ----------------------------------------------------------------------------


def test_an_empty_batch_is_accepted(mirror_server: Server) -> None:
    response = send(mirror_server, BATCH, b"[]")
    assert response.status_code == 202


def test_a_batch_is_dispatched_event_by_event_and_answered_with_a_batch(
    mirror_server: Server,
) -> None:
    events = [json.loads(structured_body("t", id_=f"b{i}", data=i)) for i in range(3)]
    response = send(mirror_server, BATCH, json.dumps(events).encode())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/cloudevents-batch+json"
    replies = response.json()
    assert [r["data"]["attributes"]["id"] for r in replies] == ["b0", "b1", "b2"]
    assert all(r["type"] == "kfn.mirror" for r in replies)


@pytest.mark.parametrize("element", ["42", "null", '{"specversion": "1.0"}'])
def test_a_batch_with_an_invalid_element_is_rejected_whole(
    mirror_server: Server, element: str
) -> None:
    body = b"[" + structured_body("t") + b"," + element.encode() + b"]"
    assert rejected(mirror_server, BATCH, body) == "invalid-batch-event"


def test_a_batch_that_is_not_an_array_is_400(mirror_server: Server) -> None:
    assert rejected(mirror_server, BATCH, structured_body("t")) == "batch-not-an-array"
