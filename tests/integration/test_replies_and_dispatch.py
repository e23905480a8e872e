"""Replies in the request's content mode, typed data, sync functions and fan-out at `/`."""

from __future__ import annotations

import httpx

from kfn.codec import Mode, detect_mode, from_http
from tests.conftest import Server
from tests.helpers import STRUCTURED, binary_headers, counter, structured_body


def post(server: Server, path: str = "/", **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def reply_event(response: httpx.Response):  # type: ignore[no-untyped-def]
    """Decode the reply with the host's own strict codec: it must be a valid CloudEvent."""
    (event,) = from_http(response.headers.multi_items(), response.content)
    return event


def test_a_binary_request_gets_a_binary_reply(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.forward", id_="f-1"))
    assert response.status_code == 200
    assert detect_mode(response.headers["content-type"].encode()) is Mode.BINARY
    event = reply_event(response)
    assert event.get_type() == "test.forwarded"
    assert event.get_data() == {"from": "f-1"}
    # typed attributes go out in their canonical string form
    assert response.headers["ce-flag"] == "true"
    assert response.headers["ce-count"] == "7"
    assert response.headers["content-type"] == "application/json"  # implied JSON, made explicit
    assert "ce-datacontenttype" not in response.headers


def test_a_structured_request_gets_a_structured_reply(contract_server: Server) -> None:
    response = post(contract_server, headers=STRUCTURED, content=structured_body("test.forward"))
    assert response.headers["content-type"] == "application/cloudevents+json"
    body = response.json()
    assert body["type"] == "test.forwarded"
    assert body["flag"] is True and body["count"] == 7
    assert reply_event(response).get_data() == {"from": "e-1"}


def test_reply_header_values_are_percent_encoded(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.echo", subject="Euro%20%E2%82%AC%20%F0%9F%98%80"),
        content=b"1",
    )
    assert response.headers["ce-subject"] == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert reply_event(response).get_subject() == "Euro € 😀"


def test_typed_data_in_and_a_model_out(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.point", **{"content-type": "application/json"}),
        content=b'{"x": 1, "y": 2}',
    )
    assert response.status_code == 200
    event = reply_event(response)
    assert event.get_type() == "test.point.moved"
    assert event.get_datacontenttype() == "application/json"
    assert event.get_data() == {"x": 2, "y": 3}


def test_typed_data_from_a_structured_event(contract_server: Server) -> None:
    body = structured_body("test.point", data={"x": 5, "y": 5})
    response = post(contract_server, headers=STRUCTURED, content=body)
    assert response.json()["data"] == {"x": 6, "y": 6}


def test_a_text_reply_is_text_plain(contract_server: Server) -> None:
    response = post(
        contract_server,
        headers=binary_headers("test.echo", **{"content-type": "text/plain"}),
        content="héllo".encode(),
    )
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "héllo"


def test_a_sync_function_runs_and_replies(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.sync", id_="s-9"))
    assert response.status_code == 200
    assert reply_event(response).get_data() == {"thread": True, "id": "s-9"}


def invocations(server: Server) -> dict[str, float]:
    """Successful invocations per function, from the server's /metrics."""
    text = httpx.get(server.url + "/metrics").text
    names = ("multi_one", "multi_two", "multi_reply_one", "multi_reply_two")
    return {name: counter(text, "kfn_events_total", function=name, outcome="ok") for name in names}


def ran(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def test_root_delivers_to_every_matching_function(contract_server: Server) -> None:
    before = invocations(contract_server)
    response = post(contract_server, headers=binary_headers("test.multi.x", subject="a"))
    assert response.status_code == 202  # neither function replies
    assert ran(before, invocations(contract_server)) == {"multi_one": 1, "multi_two": 1}


def test_the_function_endpoint_delivers_to_that_function_only(contract_server: Server) -> None:
    # The event matches multi_one's filters too: at / both would run.
    before = invocations(contract_server)
    response = post(
        contract_server, "/events/multi_two", headers=binary_headers("test.multi.y", subject="a")
    )
    assert response.status_code == 202
    assert ran(before, invocations(contract_server)) == {"multi_two": 1}


def test_two_replies_to_one_event_at_root_are_refused(contract_server: Server) -> None:
    response = post(contract_server, headers=binary_headers("test.multi.reply", subject="q"))
    assert response.status_code == 500
    assert response.json()["type"].endswith(":ambiguous-reply")


def test_one_function_endpoint_replies_even_when_others_would_too(
    contract_server: Server,
) -> None:
    before = invocations(contract_server)
    response = post(
        contract_server, "/events/multi_reply_two", headers=binary_headers("test.multi.reply")
    )
    assert response.status_code == 200
    assert (response.headers["ce-type"], response.text) == ("test.r2", "two")
    assert ran(before, invocations(contract_server)) == {"multi_reply_two": 1}


def test_fan_out_answers_the_retried_failure_over_the_permanent_one(
    guards_server: Server,
) -> None:
    """One function drops the event for good, another asks for a retry: Knative must retry."""
    response = post(guards_server, headers=binary_headers("test.split", id_="split-1"))
    assert response.status_code == 503
    body = response.json()
    assert body["type"].endswith(":retry-requested")
    assert (body["function"], body["event_id"]) == ("postpone", "split-1")
    assert response.headers["retry-after"] == "2"
