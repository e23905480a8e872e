"""A function's return value as the reply event (or none).

A CloudEvent goes out as is; a pydantic model, dict, list, str or bytes is wrapped
into a new event of the function's `reply_type`, with a fresh id, the configured
source and the subject of the event it answers. Either carries the trace context
of the invocation that returned it (kfn.tracing).
"""

from __future__ import annotations

from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn import tracing
from kfn._errors import FunctionFailed
from kfn.codec.event import model_data, new_event
from kfn.registry import EventFunction


def build_reply(
    result: Any, request: CloudEvent, spec: EventFunction, default_source: str
) -> CloudEvent | None:
    """The reply for `result`, or None; a value with nowhere to go is a FunctionFailed."""
    if result is None:
        return None
    if isinstance(result, CloudEvent):
        return tracing.traced(result)
    if spec.reply_type is None:
        raise FunctionFailed(
            f"function {spec.name!r} returned a {type(result).__name__} but declares no reply_type",
            kind="no-reply-type",
            function=spec.name,
        )
    data, content_type = _as_data(result)
    reply = new_event(
        spec.reply_type,
        spec.reply_source or default_source,
        data,
        content_type=content_type,
        subject=request.get_subject(),
    )
    return tracing.traced(reply)


def _as_data(result: Any) -> tuple[Any, str | None]:
    if isinstance(result, bytes | bytearray):
        return bytes(result), None  # no content type was given for the bytes (JSON 3.1.1)
    if isinstance(result, str):
        return result, "text/plain; charset=utf-8"
    dumped = model_data(result)
    return (dumped if dumped is not None else result), "application/json"
