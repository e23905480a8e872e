"""An independent evaluator of Knative Trigger `spec.filters`, written from eventing's filters.

It reads the generated Trigger JSON, not kfn's filter objects, so comparing the two
checks that what routes locally is what a Broker would route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfn._cesql import compile_expression

PASS, FAIL, NO_FILTER = "pass", "fail", "no_filter"


def go_format(value: Any) -> str:
    """Go's %v for the attribute types an event carries."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(event: Mapping[str, Any], name: str) -> Any:
    if name == "time":
        return event.get("time", "0001-01-01T00:00:00Z")
    return event.get(name)


def _attribute_dialect(kind: str, mapping: Mapping[str, str], event: Mapping[str, Any]) -> str:
    # An empty attribute name or value makes Knative skip the filter (NoFilter).
    if any(name == "" or value == "" for name, value in mapping.items()):
        return NO_FILTER
    for name, expected in mapping.items():
        actual = _lookup(event, name)
        if actual is None:
            return FAIL
        if kind == "exact":
            if go_format(actual) != expected:
                return FAIL
        elif kind == "prefix":
            if not go_format(actual).startswith(expected):
                return FAIL
        elif not go_format(actual).endswith(expected):
            return FAIL
    return PASS


def evaluate_item(item: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    dialects = [key for key, value in item.items() if value not in (None, {}, [], "")]
    assert len(dialects) == 1, f"a Trigger filter item must use exactly one dialect: {item}"
    (kind,) = dialects
    body = item[kind]
    if kind in ("exact", "prefix", "suffix"):
        return _attribute_dialect(kind, body, event)
    if kind == "all":
        return evaluate_all(body, event)
    if kind == "any":
        result = NO_FILTER
        for sub in body:
            result = evaluate_item(sub, event)
            if result == PASS:
                return PASS
        return result
    if kind == "not":
        inner = evaluate_item(body, event)
        return {PASS: FAIL, FAIL: PASS}.get(inner, NO_FILTER)
    if kind == "cesql":
        return PASS if compile_expression(body).matches(event) else FAIL
    raise AssertionError(f"unknown dialect {kind}")


def evaluate_all(items: list[Mapping[str, Any]], event: Mapping[str, Any]) -> str:
    result = NO_FILTER
    for item in items:
        result = evaluate_item(item, event)
        if result == FAIL:
            return FAIL
    return result


def trigger_delivers(filters: list[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """Whether a Trigger with these `spec.filters` delivers the event (empty list: all)."""
    if not filters:
        return True
    return evaluate_all(filters, event) != FAIL
