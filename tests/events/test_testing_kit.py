"""The test kit is a pytest plugin, and its helpers decode what the host answers."""

from __future__ import annotations

import httpx
import pytest

from kfn.testing import decode_response, event


def test_the_kit_is_registered_through_its_entry_point(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("kfn")
    assert plugin is not None and plugin.__name__ == "kfn.testing"


def test_event_builds_a_json_cloudevent_with_fresh_id_and_time() -> None:
    first, second = event("t.x", {"a": 1}, region="eu"), event("t.x")
    attributes = first.get_attributes()
    assert attributes["datacontenttype"] == "application/json"
    assert attributes["region"] == "eu"
    assert attributes["source"] == "/tests"
    assert first.get_id() != second.get_id()
    assert "datacontenttype" not in second.get_attributes()


def test_a_structured_reply_is_decoded() -> None:
    response = httpx.Response(
        200,
        headers={"content-type": "application/cloudevents+json"},
        content=b'{"specversion":"1.0","id":"r","source":"/s","type":"t.r","data":{"ok":true}}',
    )
    answer = decode_response(response)
    assert answer.reply is not None and answer.reply.get_type() == "t.r"
    assert answer.data == {"ok": True}


def test_a_problem_is_decoded() -> None:
    response = httpx.Response(
        404, headers={"content-type": "application/problem+json"}, json={"type": "urn:x"}
    )
    answer = decode_response(response)
    assert (answer.reply, answer.problem) == (None, {"type": "urn:x"})
