"""The delivery contract's table, error by error: the status, whether Knative retries it, Retry-After.

Each status decides whether the event comes back (Knative retries 5xx, 404, 408, 409
and 429); the integration tests see them over HTTP, this one reads the whole table in
one place, as DESIGN's delivery contract states it.
"""

from __future__ import annotations

import json

import pytest

from kfn._errors import (
    BodyTooLarge,
    DecodingError,
    DeliveryError,
    Drop,
    DuplicateInFlight,
    EventDropped,
    EventError,
    EventsNotAccepted,
    FilterMismatch,
    FunctionFailed,
    FunctionTimedOut,
    HopLimitReached,
    IdempotencyStoreUnavailable,
    InvalidData,
    NoMatchingFunction,
    ReplyNotEncodable,
    Retry,
    RetryRequested,
    Unauthenticated,
    Unavailable,
    UnknownFunction,
    UnsupportedCharset,
    UnsupportedMediaType,
    is_retried,
)
from kfn.problems import PROBLEM_JSON, Problem, status_of

CONTRACT = [
    (UnsupportedMediaType("text/csv"), 415, False),
    (UnsupportedCharset("rot13"), 415, False),
    (DecodingError("missing-attribute", "no id"), 400, False),
    (BodyTooLarge(10), 413, False),
    (InvalidData("the data does not fit"), 422, False),
    (NoMatchingFunction("no match"), 404, True),
    (UnknownFunction("no such function"), 404, True),
    (FilterMismatch("not for it"), 400, False),
    (HopLimitReached("spent"), 400, False),
    (Unavailable("draining", "shutting down"), 503, True),
    (Unauthenticated("no token", challenge=b"Bearer"), 401, False),
    (EventsNotAccepted("public"), 403, False),
    (FunctionTimedOut("too slow"), 504, True),
    (RetryRequested("later", retry_after=3), 503, True),
    (DuplicateInFlight("in flight", retry_after=1), 409, True),
    (IdempotencyStoreUnavailable("store down"), 503, True),
    (ReplyNotEncodable("bad reply"), 500, True),
    (FunctionFailed("raised"), 500, True),
    (EventDropped("dropped", status=410), 410, False),
    (EventDropped("dropped", status=422), 422, False),
    (DeliveryError("of no narrower class"), 500, True),
    (EventError("of no narrower class"), 500, True),
]


@pytest.mark.parametrize(
    ("error", "status", "retried"), CONTRACT, ids=[type(e).__name__ for e, _, _ in CONTRACT]
)
def test_each_error_has_its_contract_status(error: EventError, status: int, retried: bool) -> None:
    assert status_of(error) == status
    assert is_retried(status) is retried
    problem = Problem.of(error)
    document = json.loads(problem.body())
    assert (problem.status, document["status"]) == (status, status)
    assert document["type"] == f"urn:kfn:problem:{error.kind}"


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        *[(399, False), (400, False), (404, True), (408, True), (409, True), (410, False)],
        *[(428, False), (429, True), (430, False), (499, False), (500, True), (503, True)],
    ],
)
def test_knative_retries_5xx_404_408_409_and_429_only(status: int, retried: bool) -> None:
    assert is_retried(status) is retried


def test_retry_after_is_sent_only_when_the_error_carries_one() -> None:
    assert Problem.of(Unavailable("overloaded", "full")).headers() == [
        (b"content-type", PROBLEM_JSON),
        (b"retry-after", b"1"),
    ]
    assert Problem.of(RetryRequested("later", retry_after=0)).headers()[1] == (b"retry-after", b"0")
    assert Problem.of(FunctionFailed("raised")).headers() == [(b"content-type", PROBLEM_JSON)]


@pytest.mark.parametrize("status", [399, 404, 408, 409, 429, 500])
def test_a_drop_needs_a_4xx_knative_does_not_retry(status: int) -> None:
    with pytest.raises(ValueError, match=rf"Drop\(status={status}\)"):
        Drop("no", status=status)


@pytest.mark.parametrize("status", [400, 410, 422, 499])
def test_a_drop_keeps_its_4xx(status: int) -> None:
    assert Drop("no", status=status).status == status


def test_a_drop_without_a_status_is_422_with_a_reason() -> None:
    dropped = Drop()
    assert (dropped.status, dropped.reason) == (422, "the function dropped the event")


def test_a_retry_waits_at_least_nothing_and_whole_seconds() -> None:
    assert (Retry(after=-5).after, Retry(after=2.7).after, Retry().after) == (0, 2, 1)  # type: ignore[arg-type]
