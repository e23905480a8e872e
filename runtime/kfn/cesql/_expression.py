"""The compiled expression callers hold on to, and what evaluating it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kfn.cesql._compiler import compile_tree
from kfn.cesql._errors import CesqlError
from kfn.cesql._nodes import Node
from kfn.cesql._parser import parse
from kfn.cesql._values import Value


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The two outputs of an evaluation (spec 1): a value, and the errors met.

    The value is always a valid CESQL value, even when errors occurred (then it is
    usually the zero value of the expression's type).
    """

    value: Value
    errors: list[CesqlError]


class Expression:
    """A CESQL expression parsed and compiled once, to be evaluated against many events.

    Immutable and free of per-call state, so one instance can serve concurrent
    requests. Build it with :func:`compile_expression`.
    """

    __slots__ = ("_evaluate", "source", "tree")

    def __init__(self, source: str, tree: Node) -> None:
        self.source = source
        self.tree = tree
        self._evaluate = compile_tree(tree)

    def evaluate(self, attributes: Mapping[str, object]) -> EvaluationResult:
        """Evaluate against an event's context attributes (name -> value).

        Values may be str, int, bool, datetime (seen as its RFC 3339 text) or bytes
        (seen as base64); an attribute mapped to None counts as absent.
        """
        errors: list[CesqlError] = []
        value = self._evaluate(attributes, errors)
        return EvaluationResult(value, errors)

    def matches(self, attributes: Mapping[str, object]) -> bool:
        """Whether the event passes this expression as a filter.

        Knative Trigger semantics (and the spec's, 1.2): only a Boolean true reached
        without any error passes.
        """
        errors: list[CesqlError] = []
        return self._evaluate(attributes, errors) is True and not errors

    def __repr__(self) -> str:
        return f"compile_expression({self.source!r})"


def compile_expression(source: str) -> Expression:
    """Parse and compile ``source``; raises CesqlSyntaxError if it is not valid CESQL.

    Problems that depend on the event (a missing attribute, a failed cast) and calls
    to unknown functions are not syntax errors: they are reported by each evaluation.
    """
    return Expression(source, parse(source))
