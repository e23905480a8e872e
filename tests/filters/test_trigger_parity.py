"""Local matching agrees with Knative's evaluation of the generated Trigger filters."""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from kfn.filters import AllOf, Filter, build_filter, exact, prefix, suffix
from tests.filters.strategies import (
    CESQL_VALUES,
    NAMES,
    TEXT,
    events_near,
    filter_values,
    trees,
)
from tests.filters.trigger_semantics import trigger_delivers


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
