"""Every row of the delivery-contract table, seen from a sender on a real socket."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import BATCH, binary_headers, counter, raw_request

PROBLEM = "application/problem+json"


def post(server: Server, path: str = "/", **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].endswith(":" + kind)
    assert "Traceback" not in response.text
    return body


def test_handled_without_reply_is_202_with_an_empty_body(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.noreply"))
    assert response.status_code == 202
    assert response.content == b""
    assert not any(h.startswith("ce-") for h in response.headers)


def test_handled_with_reply_is_200_with_the_reply_event(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.echo", subject="s1", **{"content-type": "application/json"}),
        content=b'{"a": 1}',
    )
    assert response.status_code == 200
    assert response.headers["ce-type"] == "test.echoed"
    assert response.headers["ce-source"] == "/tests/host"
    assert response.headers["ce-subject"] == "s1"
    assert response.headers["ce-id"] != "e-1"
    assert response.json() == {"a": 1}


def test_an_invalid_cloudevent_is_400_naming_the_rule(contract_server: Server) -> None:
    headers = binary_headers("test.noreply")
    del headers["ce-id"]
    body = assert_problem(post(contract_server, headers=headers), 400, "missing-attribute")
    assert "'id'" in str(body["detail"])


def test_a_plain_request_without_ce_headers_is_400(contract_server: Server) -> None:
    response = post(contract_server, json={"hello": "world"})
    assert_problem(response, 400, "not-a-cloudevent")


def test_data_failing_the_declared_type_is_422_with_the_errors(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.point", **{"content-type": "application/json"}),
        content=b'{"x": "left", "y": 2}',
    )
    body = assert_problem(response, 422, "invalid-data")
    assert body["function"] == "move"
    assert body["event_id"] == "e-1"
    errors = body["errors"]
    assert isinstance(errors, list) and errors[0]["loc"] == ["x"]


def test_an_unsupported_event_format_is_415(contract_server: Server) -> None:
    response = post(
        contract_server, headers={"content-type": "application/cloudevents+avro"}, content=b"x"
    )
    assert_problem(response, 415, "unsupported-media-type")


def test_a_body_over_the_limit_is_413(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.noreply", **{"content-type": "text/plain"}),
        content=b"x" * 100_001,
    )
    assert_problem(response, 413, "body-too-large")


def _answer_to_a_part(server: Server, request: bytes) -> bytes:
    """Send the start of a request, never the rest; the first bytes of the answer.

    Times out, and fails, if the server waits for the rest.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        return sock.recv(4096)


def test_a_body_over_the_limit_is_refused_before_the_rest_arrives(
    contract_server: Server,
) -> None:
    """A chunked body: the first 150 kB are sent, the rest never is; 413 comes anyway."""
    chunk = b"y" * 150_000
    request = (
        b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
        b"ce-specversion: 1.0\r\nce-id: big\r\nce-source: /t\r\nce-type: test.noreply\r\n"
        b"Content-Type: text/plain\r\n\r\n" + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    )
    answer = _answer_to_a_part(contract_server, request)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"application/problem+json" in answer


def test_no_matching_function_at_root_is_404(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.nobody.listens"))
    assert_problem(response, 404, "no-matching-function")


def test_an_unknown_function_endpoint_is_404(contract_server: Server) -> None:
    response = post(contract_server, "/events/nope", headers=binary_headers("test.noreply"))
    assert_problem(response, 404, "unknown-function")


def test_an_event_its_function_filters_reject_is_a_non_retried_400(
    contract_server: Server,
) -> None:
    response = post(contract_server, "/events/noreply", headers=binary_headers("test.other"))
    assert_problem(response, 400, "filter-mismatch")


def test_a_dropped_event_is_a_non_retried_4xx(contract_server: Server) -> None:
    body = assert_problem(
        post(contract_server, headers=binary_headers("test.drop")), 422, "dropped"
    )
    assert body["detail"] == "not for us"


def test_a_raising_function_is_500_without_a_stack_trace(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.raise"))
    body = assert_problem(response, 500, "function-error")
    assert body["function"] == "explode"
    assert "secret internal detail" not in response.text


def test_a_retry_request_is_503_with_retry_after(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.retry"))
    assert_problem(response, 503, "retry-requested")
    assert response.headers["retry-after"] == "7"


def test_a_function_past_its_timeout_is_504(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.slow"))
    body = assert_problem(response, 504, "function-timeout")
    assert body["function"] == "too_slow"


def test_every_failure_is_logged_once_with_function_and_event_id() -> None:
    from tests.conftest import start_server

    server = start_server("tests.apps.contract")
    try:
        post(server, headers=binary_headers("test.raise", id_="boom-1"))
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    failures = [line for line in lines if line.get("event_id") == "boom-1"]
    assert len(failures) == 1
    assert failures[0]["function"] == "explode"
    assert failures[0]["status"] == 500
    assert "secret internal detail" in failures[0]["exception"]


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_the_event_endpoints_take_only_post(contract_server: Server, method: str) -> None:
    response = httpx.request(method, contract_server.url + "/events/noreply")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


def test_a_ce_header_sent_twice_is_400(contract_server: Server) -> None:
    answer = raw_request(
        contract_server.port,
        b"POST / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: 0\r\n"
        b"ce-specversion: 1.0\r\nce-id: first\r\nce-id: second\r\nce-source: /t\r\n"
        b"ce-type: test.noreply\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer
    problem = json.loads(body)
    assert problem["type"].endswith(":duplicate-attribute")
    assert "ce-id" in problem["detail"]


def _in_one_piece(server: Server, size: int) -> tuple[bytes, bytes]:
    """POST `size` bytes chunked and complete in one write; the answer's head and body."""
    chunk = b"z" * size
    answer = raw_request(
        server.port,
        b"POST / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
        b"ce-specversion: 1.0\r\nce-id: whole\r\nce-source: /t\r\nce-type: test.noreply\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        + f"{len(chunk):x}\r\n".encode()
        + chunk
        + b"\r\n0\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def test_a_body_over_the_limit_in_one_piece_without_content_length_is_413(
    contract_server: Server,
) -> None:
    """Chunked and complete in one write: the server reads it whole, then measures it."""
    head, body = _in_one_piece(contract_server, 100_001)
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert json.loads(body)["type"].endswith(":body-too-large")


def test_a_batch_with_one_failing_event_is_not_acknowledged(contract_server: Server) -> None:
    batch = [
        {"specversion": "1.0", "id": "b-ok", "source": "/t", "type": "test.noreply"},
        {"specversion": "1.0", "id": "b-bad", "source": "/t", "type": "test.raise"},
    ]
    response = post(contract_server, headers=BATCH, content=json.dumps(batch).encode())
    body = assert_problem(response, 500, "function-error")
    assert (body["function"], body["event_id"]) == ("explode", "b-bad")


def test_a_batch_is_acknowledged_when_every_event_was_handled(contract_server: Server) -> None:
    batch = [
        {"specversion": "1.0", "id": f"b-{i}", "source": "/t", "type": "test.noreply"}
        for i in range(2)
    ]
    before = httpx.get(contract_server.url + "/metrics").text
    response = post(contract_server, headers=BATCH, content=json.dumps(batch).encode())
    assert response.status_code == 202
    after = httpx.get(contract_server.url + "/metrics").text
    sample = ("kfn_events_total", {"function": "noreply", "outcome": "ok"})
    assert counter(after, sample[0], **sample[1]) - counter(before, sample[0], **sample[1]) == 2


def test_a_value_returned_without_a_reply_type_is_500(guards_server: Server) -> None:
    response = post(guards_server, headers=binary_headers("test.stray", id_="lost-1"))
    body = assert_problem(response, 500, "no-reply-type")
    assert (body["function"], body["event_id"]) == ("stray", "lost-1")
    assert "reply_type" in str(body["detail"])


def test_a_content_length_that_is_not_a_number_is_refused_by_the_server(
    contract_server: Server,
) -> None:
    """uvicorn answers 400 before the app runs, so the host never reads such a header."""
    answer = raw_request(
        contract_server.port,
        b"POST / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: ten\r\n"
        b"ce-specversion: 1.0\r\nce-id: cl\r\nce-source: /t\r\nce-type: test.noreply\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]


def test_a_body_of_exactly_the_limit_is_accepted(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.noreply", **{"content-type": "text/plain"}),
        content=b"x" * 100_000,
    )
    assert response.status_code == 202


def test_a_body_of_exactly_the_limit_in_one_piece_without_content_length_is_accepted(
    contract_server: Server,
) -> None:
    head, _ = _in_one_piece(contract_server, 100_000)
    assert head.startswith(b"HTTP/1.1 202 "), head


def test_a_content_length_over_the_limit_is_refused_before_the_body_arrives(
    contract_server: Server,
) -> None:
    """Only the headers and a few bytes are sent: the declared length alone decides."""
    request = (
        b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 150000\r\n"
        b"ce-specversion: 1.0\r\nce-id: declared\r\nce-source: /t\r\nce-type: test.noreply\r\n"
        b"Content-Type: text/plain\r\n\r\nxxxxxxxxxx"
    )
    answer = _answer_to_a_part(contract_server, request)
    assert answer.startswith(b"HTTP/1.1 413 ")
