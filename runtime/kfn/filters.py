"""Event filters with the semantics of Knative Trigger `filters`.

The same objects route events locally and are written into the generated Triggers,
so what a function receives under `kfn run` is what it receives behind a Broker.
Each filter evaluates to PASS, FAIL or NO_FILTER, like eventing's
`pkg/eventfilter`: NO_FILTER is what an empty `all`/`any` yields, `not` keeps it, and
an `all` or `any` that is not decided returns its last member's result. `exact`,
`prefix` and `suffix` look attributes up as eventing's `LookupAttribute` does and
compare their Go `%v` text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any

from kfn._syntax import TRIGGER_ATTRIBUTE_NAME
from kfn.goformat import format_value

if TYPE_CHECKING:
    from kfn._cesql import Expression

ATTRIBUTE_NAME = TRIGGER_ATTRIBUTE_NAME
"""Trigger filter keys must match this (eventing trigger_validation.go)."""


Predicate = Callable[[Mapping[str, Any]], bool]
Condition = tuple[str, str, str]
"""(dialect, attribute, value): one attribute test of a filter, "exact", "prefix" or
"suffix" as those filters compare, "cesql" for a CESQL `attribute = 'value'`."""


def _always(attributes: Mapping[str, Any]) -> bool:
    return True


ZERO_TIME = "0001-01-01T00:00:00Z"
"""What eventing's LookupAttribute finds for `time` on an event without one."""


def _media_type(attributes: Mapping[str, Any]) -> Any:
    content_type = attributes.get("datacontenttype")
    if not isinstance(content_type, str):
        return content_type
    return content_type.split(";", 1)[0].strip() if ";" in content_type else content_type


_DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "time": lambda attributes: attributes.get("time") or ZERO_TIME,
    "schemaurl": lambda attributes: attributes.get("dataschema"),
    "datamediatype": _media_type,
    "datacontentencoding": lambda attributes: None,
}
"""Names eventing's LookupAttribute answers itself, whatever extension bears them."""


def lookup(attributes: Mapping[str, Any], name: str) -> Any:
    """The value an exact/prefix/suffix filter compares, or None when there is none."""
    derive = _DERIVED.get(name)
    return attributes.get(name) if derive is None else derive(attributes)


class FilterError(ValueError):
    """A filter was declared with an invalid attribute name, value or shape."""


class Result(Enum):
    PASS = "pass"
    FAIL = "fail"
    NO_FILTER = "no_filter"


class Filter:
    """Base of every filter: evaluate an event's attributes, describe itself as a Trigger item.

    `evaluate` is the reference, three-valued semantics; `matches` runs a boolean
    predicate compiled from the tree on first use, which is what dispatch calls for
    every event and every function.
    """

    _predicate: Predicate | None = None

    def evaluate(self, attributes: Mapping[str, Any]) -> Result:
        raise NotImplementedError

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether a Trigger with this filter would deliver the event (NO_FILTER delivers)."""
        predicate = self._predicate
        if predicate is None:
            predicate = self._predicate = self.compile()
        return predicate(attributes)

    def compile(self) -> Predicate:
        """A boolean predicate equal to `evaluate(...) is not FAIL` (overridden for speed)."""
        return lambda attributes: self.evaluate(attributes) is not Result.FAIL

    def can_be_no_filter(self) -> bool:
        """Whether this filter may yield NO_FILTER (only empty combinators do)."""
        return False

    def conditions(self) -> tuple[Condition, ...]:
        """(dialect, attribute, value) tests that hold whenever this filter matches.

        Each is necessary, none need be sufficient: dispatch indexes functions by them
        and then evaluates the whole filter of the candidates only.
        """
        return ()

    def to_trigger(self) -> dict[str, Any]:
        """This filter as one item of a Trigger's `spec.filters` (one dialect per item)."""
        raise NotImplementedError


def _check_pairs(dialect: str, pairs: Mapping[str, str]) -> dict[str, str]:
    if not pairs:
        raise FilterError(f"{dialect}() needs at least one attribute=value pair")
    checked: dict[str, str] = {}
    for name, value in pairs.items():
        if not ATTRIBUTE_NAME.match(name):
            raise FilterError(
                f"{dialect}(): {name!r} is not a valid attribute name "
                "(lower-case letters and digits, starting with a letter)"
            )
        if not isinstance(value, str):
            raise FilterError(
                f"{dialect}(): the value for {name!r} must be a string, not {type(value).__name__}"
            )
        if value == "":
            raise FilterError(
                f"{dialect}(): the value for {name!r} is empty; Knative skips empty "
                "filters, which would match every event"
            )
        checked[name] = value
    return checked


class _AttributeFilter(Filter):
    """exact/prefix/suffix: every named attribute must be present and match."""

    dialect = ""

    def __init__(self, pairs: Mapping[str, str]) -> None:
        self.pairs = _check_pairs(self.dialect, pairs)
        self._items = tuple(self.pairs.items())

    def _test(self, actual: str, expected: str) -> bool:
        raise NotImplementedError

    def evaluate(self, attributes: Mapping[str, Any]) -> Result:
        for name, expected in self._items:
            actual = lookup(attributes, name)
            if actual is None or not self._test(format_value(actual), expected):
                return Result.FAIL
        return Result.PASS

    def compile(self) -> Predicate:
        tests = [self._predicate_for(name, value) for name, value in self._items]
        if len(tests) == 1:
            return tests[0]
        return lambda attributes: all(test(attributes) for test in tests)

    def _predicate_for(self, name: str, expected: str) -> Predicate:
        test = self._test
        if name in _DERIVED:
            return lambda attributes: (
                (actual := lookup(attributes, name)) is not None
                and test(format_value(actual), expected)
            )
        return lambda attributes: (
            (actual := attributes.get(name)) is not None
            and test(actual if type(actual) is str else format_value(actual), expected)
        )

    def conditions(self) -> tuple[Condition, ...]:
        # A derived name (`time`...) is not the attribute itself: left to the filter.
        return tuple((self.dialect, n, v) for n, v in self._items if n not in _DERIVED)

    def to_trigger(self) -> dict[str, Any]:
        # Knative's webhook wants one attribute per dialect map; several become an `all`.
        items = [{self.dialect: {name: value}} for name, value in self._items]
        return items[0] if len(items) == 1 else {"all": items}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._items)
        return f"{self.dialect}({args})"


class Exact(_AttributeFilter):
    dialect = "exact"

    def _test(self, actual: str, expected: str) -> bool:
        return actual == expected

    def _predicate_for(self, name: str, expected: str) -> Predicate:
        if name in _DERIVED:
            return super()._predicate_for(name, expected)

        # `expected` is a non-empty str: a str value equal to it is the common case.
        def exact(attributes: Mapping[str, Any]) -> bool:
            actual = attributes.get(name)
            if actual == expected:
                return type(actual) is str or format_value(actual) == expected
            return (
                type(actual) is not str and actual is not None and format_value(actual) == expected
            )

        return exact


class Prefix(_AttributeFilter):
    dialect = "prefix"

    def _test(self, actual: str, expected: str) -> bool:
        return actual.startswith(expected)


class Suffix(_AttributeFilter):
    dialect = "suffix"

    def _test(self, actual: str, expected: str) -> bool:
        return actual.endswith(expected)


def _as_filters(dialect: str, filters: Iterable[Filter]) -> tuple[Filter, ...]:
    result = tuple(filters)
    for item in result:
        if not isinstance(item, Filter):
            raise FilterError(
                f"{dialect}(): {item!r} is not a filter; build one with exact(), prefix(), "
                "suffix(), all_of(), any_of(), not_() or cesql()"
            )
    return result


class _Combinator(Filter):
    """all/any: the first `decisive` outcome decides, else the last member's result."""

    dialect = ""
    function = ""
    decisive = Result.FAIL

    def __init__(self, filters: Iterable[Filter]) -> None:
        self.filters = _as_filters(self.function, filters)

    def evaluate(self, attributes: Mapping[str, Any]) -> Result:
        result = Result.NO_FILTER
        for item in self.filters:
            result = item.evaluate(attributes)
            if result is self.decisive:
                return result
        return result

    def can_be_no_filter(self) -> bool:
        return not self.filters or self.filters[-1].can_be_no_filter()

    def _member_predicates(self) -> list[Predicate] | None:
        """The members' boolean predicates, or None when a member may be NO_FILTER."""
        if not self.filters or any(item.can_be_no_filter() for item in self.filters):
            return None
        return [item.compile() for item in self.filters]

    def to_trigger(self) -> dict[str, Any]:
        return {self.dialect: [item.to_trigger() for item in self.filters]}

    def __repr__(self) -> str:
        return f"{self.function}({', '.join(map(repr, self.filters))})"


class AllOf(_Combinator):
    dialect, function, decisive = "all", "all_of", Result.FAIL

    def compile(self) -> Predicate:
        if not self.filters:
            return _always
        predicates = self._member_predicates()
        if predicates is None:
            return super().compile()
        if len(predicates) == 1:
            return predicates[0]
        if len(predicates) == 2:
            first, second = predicates
            return lambda attributes: first(attributes) and second(attributes)
        return lambda attributes: all(p(attributes) for p in predicates)

    def conditions(self) -> tuple[Condition, ...]:
        # A member that fails makes the whole `all` fail: its conditions are the whole's.
        return tuple(condition for item in self.filters for condition in item.conditions())

    def trigger_items(self) -> list[dict[str, Any]]:
        """The top-level `spec.filters` list, an implicit `all` in Knative."""
        items: list[dict[str, Any]] = []
        for item in self.filters:
            rendered = item.to_trigger()
            # Flatten nested conjunctions: the top-level list already means "all".
            if isinstance(item, (AllOf, _AttributeFilter)) and "all" in rendered:
                items.extend(rendered["all"])
            else:
                items.append(rendered)
        return items


class AnyOf(_Combinator):
    dialect, function, decisive = "any", "any_of", Result.PASS

    def compile(self) -> Predicate:
        predicates = self._member_predicates()
        if predicates is None:
            return super().compile()
        return lambda attributes: any(p(attributes) for p in predicates)


class Not(Filter):
    def __init__(self, inner: Filter) -> None:
        self.inner = _as_filters("not_", [inner])[0]

    def evaluate(self, attributes: Mapping[str, Any]) -> Result:
        outcome = self.inner.evaluate(attributes)
        if outcome is Result.PASS:
            return Result.FAIL
        if outcome is Result.FAIL:
            return Result.PASS
        return Result.NO_FILTER

    def can_be_no_filter(self) -> bool:
        return self.inner.can_be_no_filter()

    def compile(self) -> Predicate:
        if self.inner.can_be_no_filter():
            return super().compile()
        inner = self.inner.compile()
        return lambda attributes: not inner(attributes)

    def to_trigger(self) -> dict[str, Any]:
        return {"not": self.inner.to_trigger()}

    def __repr__(self) -> str:
        return f"not_({self.inner!r})"


class Cesql(Filter):
    """A CloudEvents SQL expression, compiled once when declared.

    Refused here, with the position and the reason: what Knative's webhook refuses
    (a syntax error) and what its filter cannot run (see kfn._cesql filter_problem).
    """

    def __init__(self, expression: str) -> None:
        from kfn._cesql import CesqlSyntaxError, compile_expression

        if not isinstance(expression, str) or not expression.strip():
            raise FilterError("cesql(): the expression must be a non-empty string")
        try:
            self.expression: Expression = compile_expression(expression)
        except CesqlSyntaxError as error:
            raise FilterError(f"cesql(): {error}") from None
        problem = self.expression.filter_problem()
        if problem is not None:
            message, position = problem
            raise FilterError(f"cesql(): {message} at position {position}: {expression}")
        self.source = expression

    def evaluate(self, attributes: Mapping[str, Any]) -> Result:
        return Result.PASS if self.expression.matches(attributes) else Result.FAIL

    def compile(self) -> Predicate:
        return self.expression.matches

    def conditions(self) -> tuple[Condition, ...]:
        """`attribute = 'text'` terms of a chain of ANDs, as ("cesql", attribute, text).

        Such a term is true only for a string attribute equal to the text, or for a
        value of another type cast to it: dispatch indexes them for string values only.
        """
        return tuple(_and_terms(self.expression.tree))

    def to_trigger(self) -> dict[str, Any]:
        return {"cesql": self.source}

    def __repr__(self) -> str:
        return f"cesql({self.source!r})"


def _and_terms(tree: Any) -> list[Condition]:
    from kfn._cesql._nodes import Binary, Identifier, Literal, Logical

    if isinstance(tree, Logical):
        if any(operator != "AND" for operator, _ in tree.rest):
            return []
        return [c for node in (tree.first, *(n for _, n in tree.rest)) for c in _and_terms(node)]
    if (
        isinstance(tree, Binary)
        and tree.operator == "="
        and isinstance(tree.left, Identifier)
        and isinstance(tree.right, Literal)
        and type(tree.right.value) is str
    ):
        return [("cesql", tree.left.name, tree.right.value)]
    return []


def exact(**attributes: str) -> Filter:
    """Match when every named attribute equals the value (case-sensitive)."""
    return Exact(attributes)


def prefix(**attributes: str) -> Filter:
    """Match when every named attribute starts with the value."""
    return Prefix(attributes)


def suffix(**attributes: str) -> Filter:
    """Match when every named attribute ends with the value."""
    return Suffix(attributes)


def all_of(*filters: Filter) -> Filter:
    """Match when every filter matches."""
    if not filters:
        raise FilterError("all_of() needs at least one filter (Knative's `all` does)")
    return AllOf(filters)


def any_of(*filters: Filter) -> Filter:
    """Match when at least one filter matches."""
    if not filters:
        raise FilterError("any_of() needs at least one filter (Knative's `any` does)")
    return AnyOf(filters)


def not_(inner: Filter) -> Filter:
    """Match when the inner filter does not."""
    return Not(inner)


def cesql(expression: str) -> Filter:
    """Match with a CloudEvents SQL expression as Knative evaluates it; errors raise here."""
    return Cesql(expression)


def build_filter(shorthands: Mapping[str, str], filters: Iterable[Filter] | None) -> AllOf:
    """The whole filter of an event function: exact shorthands AND the filters list."""
    items: list[Filter] = []
    if shorthands:
        items.append(Exact(shorthands))
    if filters is not None:
        if isinstance(filters, Filter):
            raise FilterError("filters= takes a list of filters, e.g. filters=[prefix(type='x.')]")
        items.extend(_as_filters("filters", filters))
    return AllOf(items)


__all__ = [
    "Filter",
    "FilterError",
    "all_of",
    "any_of",
    "cesql",
    "exact",
    "not_",
    "prefix",
    "suffix",
]
