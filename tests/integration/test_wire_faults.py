"""Faults on the wire, against a production-mode `kfn run`: each answered with a problem.

Deep nesting, charsets that are no charset, JSON that is not JSON, replies that
cannot be written and echoes of huge values: found by the HTTP fuzzer
(tests/adversarial/test_fuzz_http.py), pinned here one by one.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from kfn.codec.strict_json import MAX_DEPTH
from tests.apps.wire import BAD_REPLIES
from tests.conftest import Server, start_server
from tests.helpers import BATCH, STRUCTURED, binary_headers, raw_request

PRODUCTION = {"K_SERVICE": "wire", "KFN_LOG_FORMAT": "json"}


@pytest.fixture(scope="module")
def wire() -> Iterator[Server]:
    server = start_server("tests.apps.wire", PRODUCTION)
    yield server
    server.stop()


def problem_of(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:kfn:problem:{kind}"
    assert problem["status"] == status
    assert "Traceback" not in response.text
    return problem


def log_lines(server: Server, needle: str) -> list[dict[str, Any]]:
    lines = []
    for line in server.logs().splitlines():
        if needle in line and line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def event_document(data: bytes, type_: str = "wire.echo", id_: str = "e-1") -> bytes:
    head = json.dumps({"specversion": "1.0", "id": id_, "source": "/tests", "type": type_})
    return head[:-1].encode() + b', "data": ' + data + b"}"


Send = Callable[[Server, bytes], httpx.Response]


def send_binary(server: Server, data: bytes) -> httpx.Response:
    headers = binary_headers("wire.echo", **{"content-type": "application/json"})
    return httpx.post(server.url, headers=headers, content=data)


def send_structured(server: Server, data: bytes) -> httpx.Response:
    return httpx.post(server.url, headers=STRUCTURED, content=event_document(data))


def send_batch(server: Server, data: bytes) -> httpx.Response:
    return httpx.post(server.url, headers=BATCH, content=b"[" + event_document(data) + b"]")


MODES = pytest.mark.parametrize(
    "send", [send_binary, send_structured, send_batch], ids=["binary", "structured", "batch"]
)


# -- B1: nesting ---------------------------------------------------------------------


@MODES
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_json_nested_past_the_limit_is_400(wire: Server, send: Send, depth: int) -> None:
    problem = problem_of(send(wire, nested(depth)), 400, "too-deeply-nested")
    assert str(MAX_DEPTH) in problem["detail"]


@MODES
def test_json_nested_to_the_limit_is_taken_and_echoed(wire: Server, send: Send) -> None:
    response = send(wire, nested(MAX_DEPTH))
    assert response.status_code == 200, response.text
    assert response.content.count(b"[") >= MAX_DEPTH


def test_brackets_inside_strings_do_not_count_as_nesting(wire: Server) -> None:
    data = json.dumps({"text": "[" * 5_000 + "{" * 5_000}).encode()
    response = send_binary(wire, data)
    assert response.status_code == 200, response.text
    assert response.json() == json.loads(data)


def test_deep_json_without_a_content_type_arrives_as_bytes(wire: Server) -> None:
    headers = binary_headers("wire.echo")
    response = httpx.post(wire.url, headers=headers, content=nested(1_000))
    assert response.status_code == 200, response.text
    assert response.content == nested(1_000)


# -- NaN, Infinity, 1e400 ------------------------------------------------------------


@MODES
@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"[1, NaN]"])
def test_nan_and_infinity_are_not_json(wire: Server, send: Send, literal: bytes) -> None:
    problem_of(send(wire, literal), 400, "not-json")


@MODES
@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"[1.5e309]", b"1" + b"0" * 400 + b".0"])
def test_a_number_beyond_a_double_is_400(wire: Server, send: Send, number: bytes) -> None:
    problem_of(send(wire, number), 400, "number-out-of-range")


def test_tiny_and_huge_integers_are_kept(wire: Server) -> None:
    data = b'{"tiny": 1e-400, "big": ' + b"9" * 400 + b"}"
    response = send_binary(wire, data)
    assert response.status_code == 200, response.text
    assert response.json() == {"tiny": 0.0, "big": int("9" * 400)}
    assert b"Infinity" not in response.content and b"NaN" not in response.content


# -- B2: charsets --------------------------------------------------------------------


@pytest.mark.parametrize(
    "charset", ["idna", "punycode", "unicode_escape", "undefined", "base64", "rot13", "nope"]
)
def test_a_charset_that_is_no_text_charset_is_415(wire: Server, charset: str) -> None:
    headers = binary_headers("wire.echo", **{"content-type": f"text/plain; charset={charset}"})
    response = httpx.post(wire.url, headers=headers, content=b"xn--" + b"a" * 70)
    problem_of(response, 415, "unsupported-charset")


def test_idna_with_a_label_its_codec_chokes_on_is_415_not_500(wire: Server) -> None:
    headers = binary_headers("wire.echo", **{"content-type": "text/plain; charset=idna"})
    problem_of(httpx.post(wire.url, headers=headers, content=b"xn--"), 415, "unsupported-charset")


def test_bytes_that_break_a_real_charset_are_400(wire: Server) -> None:
    headers = binary_headers("wire.echo", **{"content-type": "text/plain; charset=utf-8"})
    problem_of(httpx.post(wire.url, headers=headers, content=b"\xff\xfe\xed"), 400, "invalid-data")


def test_a_real_charset_decodes(wire: Server) -> None:
    headers = binary_headers("wire.echo", **{"content-type": "text/plain; charset=ISO-8859-1"})
    response = httpx.post(wire.url, headers=headers, content="café".encode("latin-1"))
    assert response.status_code == 200, response.text
    assert response.text == "café"


# -- B3: replies that cannot be encoded ----------------------------------------------


def send_reply_request(server: Server, mode: str, subject: str, id_: str) -> httpx.Response:
    if mode == "binary":
        return httpx.post(
            server.url, headers=binary_headers("wire.reply", id_=id_, subject=subject)
        )
    document = {
        "specversion": "1.0",
        "id": id_,
        "source": "/tests",
        "type": "wire.reply",
        "subject": subject,
    }
    if mode == "structured":
        return httpx.post(server.url, headers=STRUCTURED, content=json.dumps(document))
    return httpx.post(server.url, headers=BATCH, content=json.dumps([document]))


@pytest.mark.parametrize("mode", ["binary", "structured", "batch"])
@pytest.mark.parametrize("bad", sorted(BAD_REPLIES))
def test_a_reply_that_cannot_be_encoded_is_a_500_problem_logged_once(
    wire: Server, mode: str, bad: str
) -> None:
    id_ = f"bad-{uuid.uuid4()}"
    problem = problem_of(send_reply_request(wire, mode, bad, id_), 500, "reply-not-encodable")
    assert problem["function"] == "bad_reply"
    assert problem["event_id"] == id_
    assert "x-injected" not in json.dumps(problem)
    lines = log_lines(wire, id_)
    assert len(lines) == 1, lines
    assert lines[0]["level"] == "error"
    assert lines[0]["function"] == "bad_reply"
    assert lines[0]["problem"] == "reply-not-encodable"


def test_a_crlf_content_type_never_reaches_the_socket(wire: Server) -> None:
    request = (
        b"POST /events/bad_reply HTTP/1.1\r\nHost: kfn\r\nConnection: close\r\n"
        b"ce-specversion: 1.0\r\nce-id: crlf-1\r\nce-source: /tests\r\nce-type: wire.reply\r\n"
        b"ce-subject: crlf-content-type\r\nContent-Length: 0\r\n\r\n"
    )
    answer = raw_request(wire.port, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 ")
    assert b"x-injected" not in head.lower()
    assert json.loads(body)["type"] == "urn:kfn:problem:reply-not-encodable"


def test_an_encodable_reply_still_goes_out(wire: Server) -> None:
    response = httpx.post(
        wire.url, headers=binary_headers("wire.echo"), content=b'{"ok": "caf\xc3\xa9"}'
    )
    assert response.status_code == 200
    assert response.json() == {"ok": "café"}


# -- echoes of long values -----------------------------------------------------------


def test_a_huge_type_is_cut_in_the_problem_and_the_log(wire: Server) -> None:
    type_ = "wire.unknown." + "x" * 1_000_000
    body = json.dumps({"specversion": "1.0", "id": "huge-type", "source": "/t", "type": type_})
    problem = problem_of(
        httpx.post(wire.url, headers=STRUCTURED, content=body), 404, "no-matching-function"
    )
    assert len(problem["detail"]) <= 600
    assert "characters cut" in problem["detail"]
    (line,) = [entry for entry in log_lines(wire, "huge-type") if entry.get("status") == 404]
    assert len(json.dumps(line)) < 2_000


def test_a_huge_id_is_cut_in_the_problem(wire: Server) -> None:
    id_ = "i" * 200_000
    body = json.dumps(
        {"specversion": "1.0", "id": id_, "source": "/t", "type": "wire.reply", "subject": "nan"}
    )
    problem = problem_of(
        httpx.post(wire.url, headers=STRUCTURED, content=body), 500, "reply-not-encodable"
    )
    assert len(problem["event_id"]) <= 600


# -- log levels ----------------------------------------------------------------------


def test_refusals_while_draining_are_one_warning_and_a_count() -> None:
    server = start_server("tests.apps.wire", {**PRODUCTION, "KFN_GRACE_PERIOD": "10"})
    try:
        slow = httpx.Client(timeout=30)
        outcome: dict[str, int] = {}

        def hold() -> None:
            headers = binary_headers("wire.sleep", **{"content-type": "application/json"})
            outcome["status"] = slow.post(server.url, headers=headers, content=b"2").status_code

        holder = threading.Thread(target=hold)
        holder.start()
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        statuses = []
        with httpx.Client() as client:
            for index in range(60):
                headers = binary_headers("wire.quiet", id_=f"late-{index}")
                try:
                    statuses.append(client.post(server.url, headers=headers).status_code)
                except httpx.TransportError:
                    break
        holder.join(30)
        slow.close()
        assert server.process.wait(30) == 0
    finally:
        server.stop()
    assert outcome["status"] == 202
    assert statuses and set(statuses) == {503}
    lines = log_lines(server, "the host is shutting down")
    assert 1 <= len(lines) <= 2, lines
    assert {line["level"] for line in lines} == {"warning"}
    assert 1 + sum(line.get("suppressed", 0) for line in lines) == len(statuses)
