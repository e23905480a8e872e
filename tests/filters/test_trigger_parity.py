"""Local matching agrees with Knative's evaluation of the generated Trigger filters."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kfn.filters import (
    AllOf,
    Filter,
    all_of,
    any_of,
    build_filter,
    cesql,
    exact,
    not_,
    prefix,
    suffix,
)
from tests.filters.trigger_semantics import trigger_delivers

NAMES = ["type", "source", "subject", "region", "n"]
# Digits and "true" so that a value can have the text of a number or a boolean.
TEXT = st.one_of(st.text(alphabet="aB1.-", min_size=1, max_size=4), st.just("true"))
VALUE = st.one_of(TEXT, st.integers(-3, 30), st.booleans())

pairs = st.dictionaries(st.sampled_from(NAMES), TEXT, min_size=1, max_size=2)
CESQL = [
    "EXISTS region",
    "type LIKE 'a%'",
    "subject = 'aB' OR region = 'B'",
    "NOT (source LIKE '%.')",
    "INT(n) > 3",
    "LENGTH(type) = 2",
]
CESQL_VALUES = [("type", "a"), ("subject", "aB"), ("region", "B"), ("source", "."), ("n", "3")]
leaves = st.one_of(
    pairs.map(lambda p: exact(**p)),
    pairs.map(lambda p: prefix(**p)),
    pairs.map(lambda p: suffix(**p)),
    st.sampled_from(CESQL).map(cesql),
)


def _extend(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda fs: all_of(*fs)),
        st.lists(children, min_size=1, max_size=3).map(lambda fs: any_of(*fs)),
        children.map(not_),
    )


trees = st.recursive(leaves, _extend, max_leaves=6)


def filter_values(items: Any) -> list[tuple[str, str]]:
    """Every (attribute, value) an exact/prefix/suffix filter in the Trigger JSON names."""
    found: list[tuple[str, str]] = []
    if isinstance(items, list):
        for item in items:
            found.extend(filter_values(item))
    elif isinstance(items, dict):
        for dialect, body in items.items():
            if dialect in ("exact", "prefix", "suffix"):
                found.extend(body.items())
            elif dialect != "cesql":
                found.extend(filter_values(body))
    return found


def near_misses(value: str) -> list[Any]:
    """The value itself and what a wrong matcher would confuse with it."""
    variants: list[Any] = [
        value,
        value[:-1],  # a strict prefix
        value[1:],  # a strict suffix
        value + "a",  # the value as a strict prefix
        "B" + value,  # the value as a strict suffix
        "-" + value + ".",  # the value inside
        value.swapcase(),
    ]
    if re.fullmatch(r"-?[0-9]+", value):
        variants.append(int(value))  # the same text, not a string
    if value == "true":
        variants.append(True)
    return variants


MISSING = object()


@st.composite
def events_near(draw: st.DrawFn, values: list[tuple[str, str]]) -> dict[str, Any]:
    """An event whose attributes are near misses of the filters' values (or absent).

    Attributes no filter names get an unrelated value or none.
    """
    event: dict[str, Any] = {"specversion": "1.0", "id": "x"}
    for name in NAMES:
        known = [value for attribute, value in values if attribute == name]
        if known:
            target = draw(st.sampled_from(known))
            value = draw(st.sampled_from([*near_misses(target), MISSING]))
        else:
            value = draw(st.one_of(st.just(MISSING), VALUE))
        if value is not MISSING:
            event[name] = value
    return event


def assert_parity(local: AllOf, data: st.DataObject) -> None:
    # What the generator writes into the Trigger, as it would travel: plain JSON.
    trigger_filters = json.loads(json.dumps(local.trigger_items()))
    event = data.draw(events_near(filter_values(trigger_filters) + CESQL_VALUES), label="event")
    assert local.matches(event) == trigger_delivers(trigger_filters, event)


@settings(max_examples=300, deadline=None)
@given(
    dialect=st.sampled_from([exact, prefix, suffix]),
    name=st.sampled_from(NAMES),
    value=TEXT,
    data=st.data(),
)
def test_each_attribute_filter_agrees_with_the_trigger_on_near_misses(
    dialect: Callable[..., Filter], name: str, value: str, data: st.DataObject
) -> None:
    assert_parity(build_filter({}, [dialect(**{name: value})]), data)


@settings(max_examples=400, deadline=None)
@given(
    shorthands=st.dictionaries(st.sampled_from(NAMES), TEXT, max_size=2),
    filters=st.lists(trees, max_size=3),
    data=st.data(),
)
def test_local_matching_agrees_with_the_trigger(
    shorthands: dict[str, str], filters: list[Filter], data: st.DataObject
) -> None:
    assert_parity(build_filter(shorthands, filters), data)


def test_the_independent_evaluator_skips_empty_values_like_knative() -> None:
    assert trigger_delivers([{"exact": {"type": ""}}], {"type": "anything"})
    assert trigger_delivers([], {"type": "anything"})
    assert not trigger_delivers([{"prefix": {"type": "a"}}], {"subject": "a"})
