"""Filters behave like Knative Trigger `filters` (eventing pkg/eventfilter)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kfn.filters import (
    AllOf,
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


def test_exact_compares_the_go_text_of_a_non_string_value() -> None:
    assert exact(n="5").matches(EVENT)
    assert exact(flag="true").matches({"flag": True})
    assert not exact(flag="True").matches({"flag": True})
    assert exact(n="5").evaluate(EVENT) is Result.PASS


def test_prefix_and_suffix_compare_the_go_text() -> None:
    assert prefix(n="5").matches(EVENT)
    assert suffix(type=".created").matches(EVENT)
    moment = {"time": datetime(2020, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)}
    assert suffix(time="05.12Z").matches(moment)  # RFC 3339 without trailing zeros
    assert suffix(time="05.12Z").evaluate(moment) is Result.PASS


def test_an_event_without_time_is_seen_at_go_zero_time() -> None:
    assert prefix(time="0001-01-01").matches({"type": "t"})
    assert exact(time="0001-01-01T00:00:00Z").evaluate({"type": "t"}) is Result.PASS


def test_schemaurl_and_datamediatype_are_read_from_the_context() -> None:
    event = {"dataschema": "https://s/v1", "datacontenttype": "application/json; charset=utf-8"}

    assert exact(schemaurl="https://s/v1").matches(event)
    assert exact(datamediatype="application/json").matches(event)
    assert not exact(schemaurl="x").matches({"schemaurl": "x"})  # never the extension


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


def test_any_without_a_pass_returns_its_last_members_result() -> None:
    undecided = build_filter({}, None)

    assert any_of(undecided, exact(type="nope")).evaluate(EVENT) is Result.FAIL
    assert any_of(exact(type="nope"), undecided).evaluate(EVENT) is Result.NO_FILTER
    assert any_of(exact(type="nope"), undecided).matches(EVENT)


def test_all_without_a_failure_returns_its_last_members_result() -> None:
    undecided = build_filter({}, None)
    passing = exact(source="/shop")

    assert AllOf([passing, undecided]).evaluate(EVENT) is Result.NO_FILTER
    assert not_(AllOf([passing, undecided])).matches(EVENT)
    assert AllOf([undecided, passing]).evaluate(EVENT) is Result.PASS
    assert not not_(AllOf([undecided, passing])).matches(EVENT)


@pytest.mark.parametrize("combinator", [all_of, any_of])
def test_empty_combinators_are_refused_like_the_webhook_does(combinator: object) -> None:
    with pytest.raises(FilterError, match="at least one"):
        combinator()  # type: ignore[operator]


def test_a_cesql_syntax_error_names_the_expression_the_position_and_the_reason() -> None:
    with pytest.raises(FilterError) as caught:
        cesql("type = 'a' AND")

    assert str(caught.value) == (
        "cesql(): unexpected end of expression at position 14: type = 'a' AND"
    )


@pytest.mark.parametrize(
    ("expression", "reason", "position"),
    [
        ("type", "yields an attribute's value", 0),
        ("LOWER(type)", "yields String", 0),
        ("2 + 3", "yields Integer", 0),
        ("type = 'a' AND NOPE(type)", "no function NOPE taking 1 argument", 15),
        ("SUBSTRING(type, 1, -1) = 'x'", "negative length", 0),
        ("5-3 = 2", "a sign written against digits", 1),
    ],
)
def test_cesql_knative_could_not_run_is_refused_when_declared(
    expression: str, reason: str, position: int
) -> None:
    with pytest.raises(FilterError) as caught:
        cesql(expression)

    message = str(caught.value)
    assert reason in message
    assert message.endswith(f"at position {position}: {expression}")


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
        (lambda: exact(n=5), "must be a string"),  # type: ignore[arg-type]
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
