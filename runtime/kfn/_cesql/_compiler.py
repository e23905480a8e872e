"""Turn a syntax tree into nested closures that evaluate it as Knative's filter does.

Every closure has the signature ``(attributes, errors) -> value`` and this contract:
it is called with an empty error list, and it returns with the list still empty on
success. Knative's evaluation (sdk-go ``sql/v2``) fails fast: the first error ends
it, and every operator above returns its zero value. So a closure tests
``if errors:`` after each child and after each cast, and returns its zero value when
the list is not empty; a whole evaluation reports at most one error, the one Go
reports. Operands are evaluated in Go's order: both sides before either is cast,
except in AND/OR/XOR (left, its cast, then maybe right) and function arguments
(each evaluated and cast in turn).

Integers are Go int32: arithmetic wraps around, ``/`` and ``%`` truncate toward
zero. Work that does not depend on the event is done here, once: constant subtrees
are folded, LIKE patterns compiled, the values of an all-literal IN list pre-cast.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from kfn._cesql._casting import IMPLICIT_CASTS, Cast, to_bool, to_int, to_str
from kfn._cesql._errors import CesqlError, ErrorKind
from kfn._cesql._functions import BUILTINS, Function, FunctionTable
from kfn._cesql._like import compile_like
from kfn._cesql._nodes import (
    Binary,
    Call,
    Exists,
    Identifier,
    In,
    Like,
    Literal,
    Logical,
    Negate,
    Node,
    Not,
    children,
)
from kfn._cesql._values import (
    INT32_MAX,
    INT32_MIN,
    CesqlType,
    Value,
    attribute_value,
    wrap_int32,
)

Attributes = Mapping[str, object]
Evaluator = Callable[[Attributes, list[CesqlError]], Value]

_AND, _OR, _XOR = 0, 1, 2
_LOGICAL_CODES = {"AND": _AND, "OR": _OR, "XOR": _XOR}
_ORDERING: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

ALWAYS_PRESENT = frozenset({"specversion", "id", "source", "type"})
"""sdk-go's EXISTS is true for these whatever the event holds."""

BLANK_IS_MISSING = frozenset(
    {"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject"}
)
"""Context attributes that sdk-go reads as absent when they hold the empty string."""


def compile_tree(tree: Node, functions: FunctionTable = BUILTINS) -> Evaluator:
    """The evaluator of ``tree``, with function names resolved against ``functions``."""
    return _Compiler(functions).compile(tree)[0]


def result_type(tree: Node, functions: FunctionTable = BUILTINS) -> CesqlType | None:
    """The type every evaluation of ``tree`` yields; None for an attribute (any type).

    Behind a Broker an attribute is always a String, but evaluated on its own an
    extension may hold an Integer or a Boolean.
    """
    match tree:
        case Literal(value=value):
            return _TYPES[type(value)]
        case Identifier():
            return None
        case Negate() | Binary(operator="+" | "-" | "*" | "/" | "%"):
            return CesqlType.INTEGER
        case Call(name=name, arguments=arguments):
            function = functions.resolve(name, len(arguments))
            return CesqlType.BOOLEAN if function is None else function.returns
        case _:
            return CesqlType.BOOLEAN


_TYPES = {bool: CesqlType.BOOLEAN, int: CesqlType.INTEGER, str: CesqlType.STRING}


class _Compiler:
    def __init__(self, functions: FunctionTable) -> None:
        self.functions = functions

    def compile(self, node: Node) -> tuple[Evaluator, Value | None]:
        """The evaluator of ``node``, and its value if that is known without an event."""
        match node:
            case Literal(value=value):
                return _constant(value), value
            case Identifier(name=name):
                return _identifier(name), None
            case Exists(name=name):
                if name in ALWAYS_PRESENT:
                    return _constant(True), True
                return _exists(name), None
            case _:
                pass
        parts = [self.compile(child) for child in children(node)]
        evaluate = self._operation(node, parts)
        if all(known is not None for _, known in parts):
            errors: list[CesqlError] = []
            value = evaluate({}, errors)
            if not errors:  # fold; constant errors (1 / 0) stay, reported per event
                return _constant(value), value
        return evaluate, None

    def _operation(self, node: Node, parts: list[tuple[Evaluator, Value | None]]) -> Evaluator:
        evaluators = [evaluate for evaluate, _ in parts]
        match node:
            case Not():
                return _not(evaluators[0])
            case Negate():
                return _negate(evaluators[0])
            case Binary(operator="="):
                return _equal(evaluators[0], evaluators[1], parts[1][1])
            case Binary(operator=symbol) if symbol in _ORDERING:
                return _ordering(_ORDERING[symbol], evaluators[0], evaluators[1])
            case Binary(operator=symbol):
                return _arithmetic(_ARITHMETIC[symbol], evaluators[0], evaluators[1])
            case Logical(rest=rest):
                codes = [_LOGICAL_CODES[symbol] for symbol, _ in rest]
                return _logical(evaluators[0], tuple(zip(codes, evaluators[1:], strict=True)))
            case Like(pattern=pattern):
                return _like(evaluators[0], pattern)
            case In():
                known = [value for _, value in parts[1:]]
                if all(value is not None for value in known):
                    return _in_constants(evaluators[0], [v for v in known if v is not None])
                return _in(evaluators[0], tuple(evaluators[1:]))
            case Call(name=name, arguments=arguments):
                function = self.functions.resolve(name, len(arguments))
                if function is None:
                    return _missing_function(name, len(arguments))
                return _call(function, evaluators)
        raise AssertionError(f"no evaluator for {node!r}")  # pragma: no cover


# -- leaves ---------------------------------------------------------------------------


def _constant(value: Value) -> Evaluator:
    def constant(attributes: Attributes, errors: list[CesqlError]) -> Value:
        return value

    return constant


def _identifier(name: str) -> Evaluator:
    # An attribute is absent when the mapping lacks it or holds None (how SDKs say
    # "not set"), and a context attribute also when it is blank, as sdk-go reads it.
    # The value is then false (Go's identifier returns false beside the error).
    missing = CesqlError(ErrorKind.MISSING_ATTRIBUTE, f"the event has no attribute '{name}'")
    blank_is_missing = name in BLANK_IS_MISSING

    def identifier(attributes: Attributes, errors: list[CesqlError]) -> Value:
        raw = attributes.get(name)
        if type(raw) is str and (raw or not blank_is_missing):
            return raw
        if raw is None or raw == "":
            errors.append(missing)
            return False
        return attribute_value(raw)

    return identifier


def _exists(name: str) -> Evaluator:
    blank_is_missing = name in BLANK_IS_MISSING

    def exists(attributes: Attributes, errors: list[CesqlError]) -> Value:
        raw = attributes.get(name)
        return raw is not None and (raw != "" or not blank_is_missing)

    return exists


def _missing_function(name: str, arity: int) -> Evaluator:
    # An invocation that cannot be dispatched is false plus this error; its
    # arguments are not evaluated.
    plural = "" if arity == 1 else "s"
    error = CesqlError(
        ErrorKind.MISSING_FUNCTION, f"there is no function {name} taking {arity} argument{plural}"
    )

    def missing_function(attributes: Attributes, errors: list[CesqlError]) -> Value:
        errors.append(error)
        return False

    return missing_function


# -- unary operators ----------------------------------------------------------------


def _not(operand: Evaluator) -> Evaluator:
    def not_(attributes: Attributes, errors: list[CesqlError]) -> Value:
        value = operand(attributes, errors)
        if errors:
            return False
        if type(value) is bool:
            return not value
        value = to_bool(value, errors)
        return False if errors else not value

    return not_


def _negate(operand: Evaluator) -> Evaluator:
    def negate(attributes: Attributes, errors: list[CesqlError]) -> Value:
        value = operand(attributes, errors)
        if errors:
            return 0
        if type(value) is not int:
            value = to_int(value, errors)
            if errors:
                return 0
        return -value if value != INT32_MIN else INT32_MIN  # int32: -(-2**31) wraps

    return negate


# -- binary operators -----------------------------------------------------------------


def _add(x: int, y: int, errors: list[CesqlError]) -> int:
    result = x + y
    return result if INT32_MIN <= result <= INT32_MAX else wrap_int32(result)


def _subtract(x: int, y: int, errors: list[CesqlError]) -> int:
    result = x - y
    return result if INT32_MIN <= result <= INT32_MAX else wrap_int32(result)


def _multiply(x: int, y: int, errors: list[CesqlError]) -> int:
    result = x * y
    return result if INT32_MIN <= result <= INT32_MAX else wrap_int32(result)


def _divide(x: int, y: int, errors: list[CesqlError]) -> int:
    if y == 0:
        errors.append(CesqlError(ErrorKind.MATH, f"{x} / 0: division by zero"))
        return 0
    quotient = abs(x) // abs(y)  # truncates toward zero, unlike x // y
    return wrap_int32(-quotient if (x < 0) != (y < 0) else quotient)


def _modulo(x: int, y: int, errors: list[CesqlError]) -> int:
    if y == 0:
        errors.append(CesqlError(ErrorKind.MATH, f"{x} % 0: division by zero"))
        return 0
    remainder = abs(x) % abs(y)  # takes the sign of x, unlike x % y
    return -remainder if x < 0 else remainder


_ARITHMETIC: dict[str, Callable[[int, int, list[CesqlError]], int]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "%": _modulo,
}


def _arithmetic(
    compute: Callable[[int, int, list[CesqlError]], int], left: Evaluator, right: Evaluator
) -> Evaluator:
    def arithmetic(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = left(attributes, errors)
        if errors:
            return 0
        y = right(attributes, errors)
        if errors:
            return 0
        if type(x) is not int:
            x = to_int(x, errors)
            if errors:
                return 0
        if type(y) is not int:
            y = to_int(y, errors)
            if errors:
                return 0
        return compute(x, y, errors)

    return arithmetic


def _ordering(compare: Callable[[int, int], bool], left: Evaluator, right: Evaluator) -> Evaluator:
    # < <= > >= are defined on Integers only, so both sides are cast to Integer.
    def ordering(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = left(attributes, errors)
        if errors:
            return False
        y = right(attributes, errors)
        if errors:
            return False
        if type(x) is not int:
            x = to_int(x, errors)
            if errors:
                return False
        if type(y) is not int:
            y = to_int(y, errors)
            if errors:
                return False
        return compare(x, y)

    return ordering


def _equal(left: Evaluator, right: Evaluator, known_right: Value | None) -> Evaluator:
    # '=' casts the left operand to the right operand's type.
    if known_right is not None:
        return _equal_constant(left, known_right)

    def equal(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = left(attributes, errors)
        if errors:
            return False
        y = right(attributes, errors)
        if errors:
            return False
        if type(x) is not type(y):
            x = IMPLICIT_CASTS[type(y)](x, errors)
            if errors:
                return False
        return x == y

    return equal


def _equal_constant(left: Evaluator, y: Value) -> Evaluator:
    """``x = literal``, the most common filter: the cast is known at compile time."""
    target = type(y)
    cast = IMPLICIT_CASTS[target]

    def equal_constant(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = left(attributes, errors)
        if errors:
            return False
        if type(x) is not target:
            x = cast(x, errors)
            if errors:
                return False
        return x == y

    return equal_constant


def _logical(first: Evaluator, steps: tuple[tuple[int, Evaluator], ...]) -> Evaluator:
    """A chain ``first op1 e1 op2 e2 ...`` evaluated as ``first op1 (e1 op2 (e2 ...))``.

    Walked left to right: AND stops at a false left operand and OR at a true one,
    without evaluating the rest of the chain (which is their right operand); XOR
    needs the rest, and inverts it when its left operand is true.
    """

    def logical(attributes: Attributes, errors: list[CesqlError]) -> Value:
        value = first(attributes, errors)
        if errors:
            return False
        if type(value) is not bool:
            value = to_bool(value, errors)
            if errors:
                return False
        inverted = False
        for code, operand in steps:
            if code == _AND:
                if not value:
                    return inverted
            elif code == _OR:
                if value:
                    return not inverted
            elif value:
                inverted = not inverted
            value = operand(attributes, errors)
            if errors:
                return False
            if type(value) is not bool:
                value = to_bool(value, errors)
                if errors:
                    return False
        return value is not inverted

    return logical


# -- LIKE, IN and function calls ----------------------------------------------------------


def _like(operand: Evaluator, pattern: str) -> Evaluator:
    matches = compile_like(pattern)

    def like(attributes: Attributes, errors: list[CesqlError]) -> Value:
        value = operand(attributes, errors)
        if errors:
            return False
        if type(value) is not str:
            value = to_str(value)
        return matches(value)

    return like


def _in(operand: Evaluator, items: tuple[Evaluator, ...]) -> Evaluator:
    # x IN (a, b): each value in turn is evaluated and cast to the type of x; the
    # first equal one ends it.
    def in_(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = operand(attributes, errors)
        if errors:
            return False
        target = type(x)
        cast = IMPLICIT_CASTS[target]
        for item in items:
            y = item(attributes, errors)
            if errors:
                return False
            if type(y) is not target:
                y = cast(y, errors)
                if errors:
                    return False
            if y == x:
                return True
        return False

    return in_


def _in_constants(operand: Evaluator, items: list[Value]) -> Evaluator:
    """``x IN (literals...)``: the list is cast to each possible type of x once, here.

    For each type, the values before the first that fails its cast form a set; a
    value of x not in it meets that failure (if there is one) and is not a member.
    """
    members: dict[type[Value], frozenset[Value]] = {}
    failures: dict[type[Value], CesqlError | None] = {}
    for target, cast in IMPLICIT_CASTS.items():
        values: list[Value] = []
        failure: CesqlError | None = None
        for item in items:
            cast_errors: list[CesqlError] = []
            value = cast(item, cast_errors)
            if cast_errors:
                failure = cast_errors[0]
                break
            values.append(value)
        members[target] = frozenset(values)
        failures[target] = failure

    def in_constants(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = operand(attributes, errors)
        if errors:
            return False
        target = type(x)
        if x in members[target]:
            return True
        failure = failures[target]
        if failure is not None:
            errors.append(failure)
        return False

    return in_constants


def _call(function: Function, arguments: list[Evaluator]) -> Evaluator:
    # Each argument is evaluated, then cast, before the next is evaluated (Go's order).
    implementation = function.implementation
    zero = function.returns.zero
    casts: list[tuple[type[Value], Cast] | None] = []
    for index in range(len(arguments)):
        parameter = function.parameter_type(index)
        if parameter is None:
            casts.append(None)
        else:
            casts.append((parameter.python_type, IMPLICIT_CASTS[parameter.python_type]))
    steps = tuple(zip(arguments, casts, strict=True))

    if len(arguments) == 1:
        ((argument, cast_to),) = steps

        def call_one(attributes: Attributes, errors: list[CesqlError]) -> Value:
            value = argument(attributes, errors)
            if errors:
                return zero
            if cast_to is not None and type(value) is not cast_to[0]:
                value = cast_to[1](value, errors)
                if errors:
                    return zero
            return implementation(errors, value)

        return call_one

    def call(attributes: Attributes, errors: list[CesqlError]) -> Value:
        values = []
        for argument, cast_to in steps:
            value = argument(attributes, errors)
            if errors:
                return zero
            if cast_to is not None and type(value) is not cast_to[0]:
                value = cast_to[1](value, errors)
                if errors:
                    return zero
            values.append(value)
        return implementation(errors, *values)

    return call
