"""The compiled expression callers hold on to, and what evaluating it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kfn._cesql._checks import filter_problem
from kfn._cesql._compiler import compile_tree, result_type
from kfn._cesql._errors import CesqlError
from kfn._cesql._nodes import Node
from kfn._cesql._parser import parse
from kfn._cesql._values import CesqlType, Value


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The two outputs of an evaluation: a value, and the error met (at most one).

    The value is always a valid CESQL value, even when an error occurred (then it is
    the value Knative's evaluation returns beside the error, usually a zero value).
    """

    value: Value
    errors: list[CesqlError]


class Expression:
    """A CESQL expression parsed and compiled once, to be evaluated against many events.

    Immutable and free of per-call state, so one instance can serve concurrent
    requests. Build it with :func:`compile_expression`.
    """

    __slots__ = ("_evaluate", "ignored", "source", "tree")

    def __init__(self, source: str, tree: Node, ignored: tuple[int, ...] = ()) -> None:
        self.source = source
        self.tree = tree
        self.ignored = ignored
        """Positions of characters Knative's lexer skips (no token starts with them)."""
        self._evaluate = compile_tree(tree)

    @property
    def result_type(self) -> CesqlType | None:
        """The type of every result; None when the root is an attribute (any type)."""
        return result_type(self.tree)

    def filter_problem(self) -> tuple[str, int] | None:
        """Why a Knative Trigger could not use this expression, and where; None if it can."""
        return filter_problem(self.tree)

    def evaluate(self, attributes: Mapping[str, object]) -> EvaluationResult:
        """Evaluate against an event's context attributes (name -> value).

        Values may be str, int, bool, datetime (seen as its RFC 3339 text) or bytes
        (seen as base64); an attribute mapped to None counts as absent.
        """
        errors: list[CesqlError] = []
        value = self._evaluate(attributes, errors)
        return EvaluationResult(value, errors)

    def matches(self, attributes: Mapping[str, object]) -> bool:
        """Whether the event passes this expression as a Trigger filter.

        As Knative's cesql filter: only a Boolean true reached without an error passes.
        """
        errors: list[CesqlError] = []
        return self._evaluate(attributes, errors) is True and not errors

    def __repr__(self) -> str:
        return f"compile_expression({self.source!r})"


def compile_expression(source: str) -> Expression:
    """Parse and compile ``source``; raises CesqlSyntaxError where Knative's parser errs.

    Problems that depend on the event (a missing attribute, a failed cast) and calls
    to unknown functions are not syntax errors: they are reported by each evaluation.
    """
    tree, ignored = parse(source)
    return Expression(source, tree, ignored)
