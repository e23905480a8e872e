"""What makes a parsed expression unusable as a Knative Trigger filter.

Knative's webhook only parses a `cesql` filter, so these reach the cluster: a root
that is not a Boolean makes the broker filter panic on every event that evaluates
without an error, a call to an unknown function never matches, and SUBSTRING with
a negative length panics. kfn refuses them when the decorator runs instead.
"""

from __future__ import annotations

from kfn._cesql._compiler import result_type
from kfn._cesql._functions import BUILTINS
from kfn._cesql._nodes import Binary, Call, Literal, Node, children
from kfn._cesql._values import CesqlType


def filter_problem(tree: Node) -> tuple[str, int] | None:
    """Why ``tree`` cannot serve as a Trigger filter, and where; None if it can."""
    root = result_type(tree)
    if root is not CesqlType.BOOLEAN:
        kind = "an attribute's value (a String behind a Broker)" if root is None else root.label
        return (
            f"the expression yields {kind}, not a Boolean; Knative's filter panics on "
            "such a result (compare it, e.g. x = 'value')",
            _position(tree),
        )
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Call):
            arity = len(node.arguments)
            if BUILTINS.resolve(node.name, arity) is None:
                plural = "" if arity == 1 else "s"
                return (
                    f"there is no function {node.name} taking {arity} argument{plural}; "
                    "on Knative the filter would never match",
                    node.position,
                )
            if node.name == "SUBSTRING" and arity == 3:
                length = node.arguments[2]
                if isinstance(length, Literal) and type(length.value) is int and length.value < 0:
                    return (
                        "SUBSTRING with a negative length makes Knative's filter panic",
                        node.position,
                    )
        stack.extend(children(node))
    return None


def _position(tree: Node) -> int:
    """Where the root's text starts: the position of its leftmost operand."""
    node = tree
    while isinstance(node, Binary):
        node = node.left
    return node.position
