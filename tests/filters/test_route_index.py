"""The dispatch index chooses exactly the functions that evaluating every filter chooses."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kfn import CloudEvent, Registry
from kfn._route_index import RouteIndex
from kfn.config import Settings
from kfn.dispatch import Dispatcher
from kfn.filters import AllOf, Filter, build_filter, cesql, exact, prefix
from kfn.metrics import Metrics
from kfn.routing import Router
from tests.filters.strategies import (
    CESQL_VALUES,
    TEXT,
    events_near,
    filter_values,
    trees,
)

INDEXED_CESQL = [
    "type = 'aB'",
    "type = 'a1' AND EXISTS subject",
    "source = '.a' AND (type = '1' AND n = 3)",
    "type = 'aB' OR subject = 'aB'",  # an OR: no condition to index by
    "NOT (type = 'a')",
    "type = 'true' AND region LIKE 'B%'",
]
INDEXED_CESQL_VALUES = [
    ("type", "aB"),
    ("type", "a1"),
    ("source", ".a"),
    ("type", "1"),
    ("type", "a"),
    ("type", "true"),
]
shorthands = st.dictionaries(st.sampled_from(["type", "source", "subject"]), TEXT, max_size=2)
function_filters = st.builds(
    build_filter,
    shorthands,
    st.lists(st.one_of(trees, st.sampled_from(INDEXED_CESQL).map(cesql)), max_size=2),
)


def _values(filters: list[AllOf]) -> list[tuple[str, str]]:
    values = [*CESQL_VALUES, *INDEXED_CESQL_VALUES]
    for item in filters:
        values.extend(filter_values(json.loads(json.dumps(item.trigger_items()))))
    return values


def _every_filter(filters: list[AllOf], attributes: dict[str, Any]) -> list[int]:
    return [position for position, item in enumerate(filters) if item.matches(attributes)]


@settings(max_examples=200, deadline=None)
@given(filters=st.lists(function_filters, min_size=1, max_size=12), data=st.data())
def test_the_index_chooses_what_evaluating_every_filter_chooses(
    filters: list[AllOf], data: st.DataObject
) -> None:
    index = RouteIndex(filters)
    for _ in range(3):
        attributes = data.draw(events_near(_values(filters)), label="event")
        assert index.matching(attributes) == _every_filter(filters, attributes)


@settings(max_examples=100, deadline=None)
@given(
    names=st.lists(st.sampled_from(["order", "order.created", "ord", "invoice"]), min_size=1),
    data=st.data(),
)
def test_prefixes_of_every_length_are_found(names: list[str], data: st.DataObject) -> None:
    filters = [build_filter({}, [prefix(type=name)]) for name in names]
    filters.append(build_filter({"type": "order.created"}, None))
    index = RouteIndex(filters)
    event_type = data.draw(st.sampled_from(["order.created", "order", "or", "invoice.paid", ""]))
    attributes = {"type": event_type} if event_type else {}
    assert index.matching(attributes) == _every_filter(filters, attributes)


def test_functions_are_filed_by_their_most_selective_condition() -> None:
    filters: list[Filter] = [
        build_filter({"type": "a", "source": "/s"}, None),
        build_filter({}, [prefix(type="a"), exact(source="/s")]),
        build_filter({}, [cesql("type = 'b' AND subject = 'x'")]),
        build_filter({}, [exact(subject="x")]),
    ]
    index = RouteIndex(filters)
    assert index.candidates({"type": "a", "source": "/s"}) == [0, 1, 3]
    assert index.candidates({"type": "b", "source": "/t"}) == [2, 3]
    assert index.candidates({"source": "/s", "type": 5}) == [0, 1, 2, 3]  # not a string


def _handler(event: CloudEvent) -> None:
    return None


def test_the_router_delivers_in_registration_order() -> None:
    registry = Registry()
    registry.cloudevent(filters=[prefix(type="com.")], name="first")(_handler)
    registry.cloudevent(type="com.example.created", name="second")(_handler)
    registry.cloudevent(filters=[cesql("subject = 'x'")], name="third")(_handler)
    registry.cloudevent(source="/shop", name="fourth")(_handler)
    registry.cloudevent(type="com.example.deleted", name="other")(_handler)
    dispatcher = Dispatcher(registry, Settings(), Metrics())
    event = CloudEvent(
        {"type": "com.example.created", "source": "/shop", "id": "1", "subject": "x"}
    )
    chosen = [target.name for target in Router(dispatcher).matching(event)]
    assert chosen == ["first", "second", "third", "fourth"]
    assert chosen == [target.name for target in dispatcher.match(event)]
