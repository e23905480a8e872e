"""The dispatch index: which functions' filters can match an event, without evaluating them all.

Most functions require an exact `type` (or `source`), or a prefix of one: conditions
every match must meet (`Filter.conditions`). Each function is filed under one such
condition; an event looks up the functions filed under its own `type` and `source`
(and their prefixes), adds the functions with no usable condition, and evaluates the
whole filter of those candidates only, in registration order. The result is the
list that evaluating every filter gives: a condition only ever rules out functions
whose filter would fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kfn.filters import Condition, Filter

INDEXED = ("type", "source")
"""The attributes functions are filed by: those nearly every filter names."""


def _choose(conditions: Sequence[Condition]) -> Condition | None:
    """The most selective usable condition: equality before prefix, `type` before `source`.

    A CESQL equality counts as exact: `candidates` falls back to every function for an
    event whose `type` or `source` is not a string, where a CESQL cast might match.
    """
    for dialects in (("exact", "cesql"), ("prefix",)):
        for name in INDEXED:
            for condition in conditions:
                if condition[0] in dialects and condition[1] == name:
                    return condition
    return None


class RouteIndex:
    """Positions of filters (in registration order) that match an event's attributes."""

    def __init__(self, filters: Sequence[Filter]) -> None:
        self._filters = tuple(filters)
        self._exact: dict[str, dict[str, list[int]]] = {}
        self._prefix: dict[str, dict[str, list[int]]] = {}
        self._rest: list[int] = []
        for position, item in enumerate(self._filters):
            condition = _choose(item.conditions())
            if condition is None:
                self._rest.append(position)
                continue
            dialect, name, value = condition
            table = self._prefix if dialect == "prefix" else self._exact
            table.setdefault(name, {}).setdefault(value, []).append(position)
        self._lengths = {
            name: sorted({len(value) for value in values}) for name, values in self._prefix.items()
        }

    def candidates(self, attributes: Mapping[str, Any]) -> list[int]:
        """Positions whose filters may match, in registration order (a superset of the matches)."""
        found: list[list[int]] = []
        texts: dict[str, str | None] = {}
        for name in INDEXED:
            value = attributes.get(name)
            if value is not None and type(value) is not str:
                # Never so in a CloudEvent (its type and source are strings); a mapping
                # built by hand still gets the exact answer, from every filter.
                return list(range(len(self._filters)))
            texts[name] = value
        for name, values in self._exact.items():
            text = texts[name]
            if text is not None and (hit := values.get(text)) is not None:
                found.append(hit)
        for name, values in self._prefix.items():
            text = texts[name]
            if text is None:
                continue
            for length in self._lengths[name]:
                if length > len(text):
                    break
                if (hit := values.get(text[:length])) is not None:
                    found.append(hit)
        if self._rest:
            found.append(self._rest)
        if len(found) == 1:
            return found[0]
        return sorted(position for hit in found for position in hit)

    def matching(self, attributes: Mapping[str, Any]) -> list[int]:
        """Positions whose filters match, in registration order."""
        filters = self._filters
        return [p for p in self.candidates(attributes) if filters[p].matches(attributes)]
