"""Hypothesis strategies for filters and the events that test them, near misses first.

Filters are drawn over a few attribute names and short values; events are built from
the filters' own values (a strict prefix or suffix, the case changed, the value inside
another, the same text as a number or a boolean, or the attribute absent), so that a
matcher that confuses dialects or types is caught, not passed by chance.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

from kfn.filters import Filter, all_of, any_of, cesql, exact, not_, prefix, suffix

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
