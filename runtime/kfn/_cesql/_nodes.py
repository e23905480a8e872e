"""The syntax tree the parser builds and the compiler turns into closures.

Plain immutable data with the source position of each construct; no behaviour, so
the tree can be printed, compared in tests and walked without evaluating anything.
Shorthands are expanded by the parser as Knative's visitor expands them: ``x != y``
and ``x <> y`` become ``NOT (x = y)``, ``x NOT LIKE p`` becomes ``NOT (x LIKE p)``
and ``x NOT IN s`` becomes ``NOT (x IN s)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from kfn._cesql._values import Value


@dataclass(frozen=True, slots=True)
class Literal:
    value: Value
    position: int


@dataclass(frozen=True, slots=True)
class Identifier:
    """A context attribute, by its lower-cased name."""

    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Exists:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class Binary:
    """An arithmetic (``* / % + -``), ordering (``< <= > >=``) or ``=`` operation."""

    operator: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Logical:
    """A chain ``first op1 e1 op2 e2 ...`` of AND, OR and XOR, grouped to the right.

    Knative's grammar gives the three operators one precedence and right
    associativity, so the chain means ``first op1 (e1 op2 (e2 ...))``. Holding it
    flat (instead of as a right-leaning tree) lets the evaluator walk it in a loop:
    long filters made of many ORs cost no recursion depth.
    """

    first: Node
    rest: tuple[tuple[str, Node], ...]
    position: int


@dataclass(frozen=True, slots=True)
class Like:
    operand: Node
    pattern: str
    position: int


@dataclass(frozen=True, slots=True)
class In:
    operand: Node
    items: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    """A function invocation, by its upper-cased name."""

    name: str
    arguments: tuple[Node, ...]
    position: int


Node: TypeAlias = Literal | Identifier | Exists | Not | Negate | Binary | Logical | Like | In | Call


def children(node: Node) -> Iterator[Node]:
    """The direct subexpressions of ``node``, left to right."""
    match node:
        case Not(operand=operand) | Negate(operand=operand) | Like(operand=operand):
            yield operand
        case Binary(left=left, right=right):
            yield left
            yield right
        case Logical(first=first, rest=rest):
            yield first
            for _, operand in rest:
                yield operand
        case In(operand=operand, items=items):
            yield operand
            yield from items
        case Call(arguments=arguments):
            yield from arguments
        case _:
            pass


def reads_event(node: Node) -> bool:
    """Whether the value of ``node`` depends on the event (it names an attribute)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Identifier | Exists):
            return True
        stack.extend(children(current))
    return False


def depth(node: Node) -> int:
    """The nesting depth of the tree (a lone literal is 1), computed without recursion."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest
