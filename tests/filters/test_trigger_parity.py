"""Local matching agrees with Knative's evaluation of the generated Trigger filters."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kfn.filters import Filter, all_of, any_of, build_filter, cesql, exact, not_, prefix, suffix
from tests.filters.trigger_semantics import trigger_delivers

NAMES = ["type", "source", "subject", "region", "n"]
TEXT = st.text(alphabet="ab.-", min_size=1, max_size=4)
VALUE = st.one_of(TEXT, st.integers(-3, 30), st.booleans())

events = st.dictionaries(st.sampled_from(NAMES), VALUE).map(
    lambda attrs: {"specversion": "1.0", "id": "x", **attrs}
)

pairs = st.dictionaries(st.sampled_from(NAMES), TEXT, min_size=1, max_size=2)
CESQL = [
    "EXISTS region",
    "type LIKE 'a%'",
    "subject = 'ab' OR region = 'b'",
    "NOT (source LIKE '%.')",
    "INT(n) > 3",
    "LENGTH(type) = 2",
]
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


@settings(max_examples=600, deadline=None)
@given(
    shorthands=st.dictionaries(st.sampled_from(NAMES), TEXT, max_size=2),
    filters=st.lists(trees, max_size=3),
    event=events,
)
def test_local_matching_agrees_with_the_trigger(
    shorthands: dict[str, str], filters: list[Filter], event: dict[str, Any]
) -> None:
    local = build_filter(shorthands, filters)
    # What the generator writes into the Trigger, as it would travel: plain JSON.
    trigger_filters = json.loads(json.dumps(local.trigger_items()))
    assert local.matches(event) == trigger_delivers(trigger_filters, event)


def test_the_independent_evaluator_skips_empty_values_like_knative() -> None:
    assert trigger_delivers([{"exact": {"type": ""}}], {"type": "anything"})
    assert trigger_delivers([], {"type": "anything"})
    assert not trigger_delivers([{"prefix": {"type": "a"}}], {"subject": "a"})
