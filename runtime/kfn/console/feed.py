"""The deliveries the console shows: every invocation span, recorded as it ends."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from kfn import tracing
from kfn.codec.attributes import canonical_string
from kfn.logs import timestamp
from kfn.metrics import outcome

EVENT_ATTRIBUTES = ("id", "type", "source", "subject", "time", "datacontenttype")


class Feed(tracing.Observer):
    """The latest deliveries, oldest first, each with a sequence number to poll from."""

    def __init__(self, history: int = 500) -> None:
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=history)
        self.sequence = 0

    def ended(self, span: tracing.Span) -> None:
        self.sequence += 1
        self.deliveries.append(delivery(span, self.sequence))

    def since(self, sequence: int) -> list[dict[str, Any]]:
        return [d for d in self.deliveries if d["seq"] > sequence]

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The trace's deliveries as trees: each node's `children` are the deliveries it caused."""
        nodes = {
            d["span_id"]: {**d, "children": []}
            for d in self.deliveries
            if d["trace_id"] == trace_id
        }
        roots: list[dict[str, Any]] = []
        for node in sorted(nodes.values(), key=lambda n: n["seq"]):
            parent = nodes.get(node["parent_id"]) if node["parent_id"] else None
            (parent["children"] if parent is not None else roots).append(node)
        for node in nodes.values():  # a parent ends after its children: order them by start
            node["children"].sort(key=lambda n: n["started"])
        roots.sort(key=lambda n: n["started"])
        return roots


def delivery(span: tracing.Span, sequence: int) -> dict[str, Any]:
    status = span.status or 500
    return {
        "seq": sequence,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "function": span.function,
        "trigger": span.trigger,
        "started": timestamp(span.start_ns / 1e9),
        "duration_ms": round((span.seconds or 0.0) * 1000, 2),
        "status": status,
        "outcome": outcome(status),
        "event": {
            k: canonical_string(span.event.get(k))
            for k in EVENT_ATTRIBUTES
            if span.event.get(k) is not None
        },
        "reply": (
            {
                k: canonical_string(span.reply.get(k))
                for k in ("id", "type")
                if span.reply.get(k) is not None
            }
            if span.reply is not None
            else None
        ),
        "problem": problem_details(span.error),
    }


def problem_details(error: BaseException | None) -> dict[str, Any] | None:
    """The problem+json body the sender was answered with (never a traceback)."""
    if error is None:
        return None
    from kfn._errors import EventError
    from kfn.problems import Problem

    if isinstance(error, EventError):
        document: dict[str, Any] = json.loads(Problem.of(error).body())
        return document
    return {"type": "urn:kfn:problem:internal-error", "status": 500, "detail": "the host failed"}
