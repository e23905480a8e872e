"""W3C trace context parsing: what a receiver takes, what it refuses and starts anew."""

from __future__ import annotations

import pytest

from kfn import tracing

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_parsed_into_trace_span_and_flags() -> None:
    parent = tracing.parse_traceparent(VALID)
    assert parent == tracing.TraceParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1)
    assert parent.sampled and parent.header() == VALID


@pytest.mark.parametrize(
    "value",
    [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # v00 has 4 fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "",
    ],
)
def test_an_invalid_traceparent_is_ignored(value: str) -> None:
    assert tracing.parse_traceparent(value) is None


def test_a_later_version_may_append_fields() -> None:
    parent = tracing.parse_traceparent(
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next"
    )
    assert parent is not None and parent.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_tracestate_headers_are_joined_and_an_invalid_one_is_dropped() -> None:
    headers = [(b"traceparent", VALID.encode()), (b"tracestate", b"a=1"), (b"tracestate", b"b=2")]
    assert tracing.from_headers(headers).state == "a=1,b=2"  # type: ignore[union-attr]
    bad = [(b"traceparent", VALID.encode()), (b"tracestate", b"no equals sign")]
    assert tracing.from_headers(bad).state is None  # type: ignore[union-attr]


def test_the_http_header_wins_over_the_event_extension() -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-01"
    token = tracing.receive([(b"traceparent", VALID.encode())])
    try:
        span = tracing.start("f", {"id": "e-1", "traceparent": other})
    finally:
        tracing.release(token)
    assert (span.trace_id, span.parent_id) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )


def test_an_event_without_trace_context_starts_a_new_sampled_trace() -> None:
    span = tracing.start("f", {"id": "e-1"})
    assert span.parent_id is None and len(span.trace_id) == 32 and span.flags == 1
