"""A function's return value as the reply event (or none).

A CloudEvent goes out as is; a pydantic model, dict, list, str or bytes is wrapped
into a new event of the function's `reply_type`, with a fresh id, the configured
source and the subject of the event it answers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn.problems import Problem
from kfn.registry import EventFunction


def build_reply(
    result: Any, request: CloudEvent, spec: EventFunction, default_source: str
) -> CloudEvent | None:
    """The reply for `result`, or None; a value with nowhere to go is a 500."""
    if result is None:
        return None
    if isinstance(result, CloudEvent):
        return result
    if spec.reply_type is None:
        raise Problem(
            500,
            "no-reply-type",
            f"function {spec.name!r} returned a {type(result).__name__} but declares no reply_type",
            function=spec.name,
        )
    data, content_type = _as_data(result)
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": spec.reply_source or default_source,
        "type": spec.reply_type,
        "time": datetime.now(UTC),
    }
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    subject = request.get_subject()
    if subject:
        attributes["subject"] = subject
    return CloudEvent(attributes, data)


def _as_data(result: Any) -> tuple[Any, str | None]:
    if isinstance(result, bytes | bytearray):
        return bytes(result), None  # no content type was given for the bytes (JSON 3.1.1)
    if isinstance(result, str):
        return result, "text/plain; charset=utf-8"
    dump = getattr(result, "model_dump", None)
    if callable(dump):  # a pydantic model, without importing pydantic here
        return dump(mode="json"), "application/json"
    return result, "application/json"
