"""Filters behave like Knative Trigger `filters` (CONTRACT.md 3c)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kfn.filters import (
    FilterError,
    Result,
    all_of,
    any_of,
    build_filter,
    cesql,
    exact,
    not_,
    prefix,
    suffix,
)

EVENT = {"type": "com.example.order.created", "source": "/shop", "subject": "eu-1", "n": 5}


def test_exact_matches_the_whole_value_case_sensitively() -> None:
    assert exact(type="com.example.order.created").matches(EVENT)
    assert not exact(type="com.example.order").matches(EVENT)
    assert not exact(type="COM.example.order.created").matches(EVENT)


def test_a_missing_attribute_fails_every_dialect() -> None:
    for f in (exact(region="eu"), prefix(region="e"), suffix(region="u")):
        assert f.evaluate(EVENT) is Result.FAIL


def test_exact_never_equals_a_non_string_value() -> None:
    assert not exact(n="5").matches(EVENT)


def test_prefix_and_suffix_compare_the_canonical_string() -> None:
    assert prefix(n="5").matches(EVENT)
    assert suffix(type=".created").matches(EVENT)
    moment = {"time": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)}
    assert suffix(time="05Z").matches(moment)


def test_several_attributes_in_one_dialect_must_all_match() -> None:
    assert exact(type="com.example.order.created", source="/shop").matches(EVENT)
    assert not exact(type="com.example.order.created", source="/other").matches(EVENT)


def test_all_any_not_compose() -> None:
    f = all_of(prefix(type="com.example."), any_of(exact(subject="x"), suffix(subject="-1")))
    assert f.matches(EVENT)
    assert not not_(f).matches(EVENT)


def test_no_filters_at_all_is_no_filter_and_delivers_everything() -> None:
    everything = build_filter({}, None)
    assert everything.evaluate(EVENT) is Result.NO_FILTER
    assert everything.trigger_items() == []
    assert not_(everything).evaluate(EVENT) is Result.NO_FILTER


def test_any_fails_only_when_a_member_failed() -> None:
    assert any_of(build_filter({}, None), exact(type="nope")).evaluate(EVENT) is Result.FAIL


@pytest.mark.parametrize("combinator", [all_of, any_of])
def test_empty_combinators_are_refused_like_the_webhook_does(combinator: object) -> None:
    with pytest.raises(FilterError, match="at least one"):
        combinator()  # type: ignore[operator]


def test_a_cesql_syntax_error_names_the_position() -> None:
    with pytest.raises(FilterError, match="position"):
        cesql("type = 'a' AND")


def test_cesql_filters_match_and_render_unchanged() -> None:
    f = cesql("subject LIKE 'eu-%'")
    assert f.matches(EVENT)
    assert not f.matches({**EVENT, "subject": "us-1"})
    assert f.to_trigger() == {"cesql": "subject LIKE 'eu-%'"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: exact(type=""), "empty"),
        (lambda: prefix(Type="x"), "not a valid attribute name"),
        (lambda: suffix(**{"my-ext": "x"}), "not a valid attribute name"),
        (lambda: exact(), "at least one"),
        (lambda: exact(n=5), "must be a string"),
        (lambda: all_of("type=x"), "is not a filter"),  # type: ignore[arg-type]
    ],
)
def test_invalid_filters_are_rejected_when_declared(build: object, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        build()  # type: ignore[operator]


def test_trigger_form_uses_one_dialect_per_item() -> None:
    f = build_filter(
        {"type": "t"},
        [prefix(source="/a", subject="b"), not_(any_of(suffix(type="x"), exact(n="1")))],
    )
    assert f.trigger_items() == [
        {"exact": {"type": "t"}},
        {"prefix": {"source": "/a"}},
        {"prefix": {"subject": "b"}},
        {"not": {"any": [{"suffix": {"type": "x"}}, {"exact": {"n": "1"}}]}},
    ]


def test_a_single_filter_instead_of_a_list_is_a_clear_error() -> None:
    with pytest.raises(FilterError, match="takes a list"):
        build_filter({}, prefix(type="x"))  # type: ignore[arg-type]
