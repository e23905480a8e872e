"""Turn a syntax tree into nested closures that evaluate it against event attributes.

Every closure has the signature ``(attributes, errors) -> value`` and this contract:
it is called with an empty error list, and it returns with the list still empty on
success. Errors follow two rules, both fixed by the TCK:

* A subexpression that reports an error makes its parent return the zero value of
  the parent's type without computing anything (spec 3.2: ``missing / 0`` is ``0``
  with only a MissingAttributeError; ``true AND (1 != 1 / 0)`` is ``false``). So a
  parent only has to test ``if errors:`` after each child, and evaluation stops at
  the first failure: the spec's "fail fast" mode (4.1), which filtering wants.
* An operator's own cast failure does not stop the operator: the cast yields the
  zero value and the operator computes with it (``NOT 10`` is ``true`` plus a
  CastError). The few places that evaluate another child after such a cast (OR, IN)
  give that child a fresh list, to keep the contract.

Work that does not depend on the event is done here, once: constant subtrees are
folded, LIKE patterns compiled, the values of an all-literal IN list pre-cast.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from kfn.cesql._casting import IMPLICIT_CASTS, Cast, to_bool, to_int, to_str
from kfn.cesql._errors import CesqlError, ErrorKind
from kfn.cesql._functions import BUILTINS, Function, FunctionTable
from kfn.cesql._like import compile_like
from kfn.cesql._nodes import (
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
from kfn.cesql._values import INT32_MAX, INT32_MIN, Value, attribute_value

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


def compile_tree(tree: Node, functions: FunctionTable = BUILTINS) -> Evaluator:
    """The evaluator of ``tree``, with function names resolved against ``functions``."""
    return _Compiler(functions).compile(tree)[0]


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
    # "not set"). Its value's type is unknown, so the zero value is false (spec 3.2).
    missing = CesqlError(ErrorKind.MISSING_ATTRIBUTE, f"the event has no attribute '{name}'")

    def identifier(attributes: Attributes, errors: list[CesqlError]) -> Value:
        raw = attributes.get(name)
        if type(raw) is str:
            return raw
        if raw is None:
            errors.append(missing)
            return False
        return attribute_value(raw)

    return identifier


def _exists(name: str) -> Evaluator:
    def exists(attributes: Attributes, errors: list[CesqlError]) -> Value:
        return attributes.get(name) is not None

    return exists


def _missing_function(name: str, arity: int) -> Evaluator:
    # Spec 3.5: an invocation that cannot be dispatched is false plus this error;
    # its arguments are not evaluated.
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
        return not to_bool(value, errors)

    return not_


def _overflow(text: str, errors: list[CesqlError], result: int) -> int:
    """The saturated result of an operation that left the 32-bit range, plus a MathError.

    The spec only says what ABS(-2147483648) does (2147483647 and a MathError); every
    other overflow follows that example, saturating instead of wrapping around.
    """
    errors.append(CesqlError(ErrorKind.MATH, f"{text} overflows the 32-bit integer range"))
    return INT32_MAX if result > 0 else INT32_MIN


def _negate(operand: Evaluator) -> Evaluator:
    def negate(attributes: Attributes, errors: list[CesqlError]) -> Value:
        value = operand(attributes, errors)
        if errors:
            return 0
        if type(value) is not int:
            value = to_int(value, errors)
        if value == INT32_MIN:
            return _overflow(f"-({value})", errors, INT32_MAX)
        return -value

    return negate


# -- binary operators -----------------------------------------------------------------


def _add(x: int, y: int, errors: list[CesqlError]) -> int:
    result = x + y
    if INT32_MIN <= result <= INT32_MAX:
        return result
    return _overflow(f"{x} + {y}", errors, result)


def _subtract(x: int, y: int, errors: list[CesqlError]) -> int:
    result = x - y
    if INT32_MIN <= result <= INT32_MAX:
        return result
    return _overflow(f"{x} - {y}", errors, result)


def _multiply(x: int, y: int, errors: list[CesqlError]) -> int:
    result = x * y
    if INT32_MIN <= result <= INT32_MAX:
        return result
    return _overflow(f"{x} * {y}", errors, result)


def _divide(x: int, y: int, errors: list[CesqlError]) -> int:
    if y == 0:
        errors.append(CesqlError(ErrorKind.MATH, f"{x} / 0: division by zero"))
        return 0
    quotient = abs(x) // abs(y)  # rounds towards zero, unlike x // y
    result = -quotient if (x < 0) != (y < 0) else quotient
    if result > INT32_MAX:  # only -2147483648 / -1
        return _overflow(f"{x} / {y}", errors, result)
    return result


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
        if type(y) is not int:
            y = to_int(y, errors)
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
        if type(y) is not int:
            y = to_int(y, errors)
        return compare(x, y)

    return ordering


def _equal(left: Evaluator, right: Evaluator, known_right: Value | None) -> Evaluator:
    # '=' is overloaded on all three types; the right operand's type picks the
    # overload and the left operand is cast to it (spec 3.7, binary ambiguous rule).
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
        return x == y

    return equal


def _equal_constant(left: Evaluator, y: Value) -> Evaluator:
    """``x = literal``, the most common filter: the overload is known at compile time."""
    target = type(y)
    cast = IMPLICIT_CASTS[target]

    def equal_constant(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = left(attributes, errors)
        if errors:
            return False
        if type(x) is not target:
            x = cast(x, errors)
        return x == y

    return equal_constant


def _logical(first: Evaluator, steps: tuple[tuple[int, Evaluator], ...]) -> Evaluator:
    """A chain ``first op e1 op e2 ...`` evaluated as the left-nested operations it stands for.

    Level k is ``(level k-1) op ek``. AND stops at false and OR at true without
    evaluating the operand (spec 3.4.2). A level whose own cast failed still computes
    its value; the next level, which has it as a child, then yields false.
    """

    def logical(attributes: Attributes, errors: list[CesqlError]) -> Value:
        value = first(attributes, errors)
        if errors:
            return False
        if type(value) is not bool:
            value = to_bool(value, errors)
        first_level = True
        for code, operand in steps:
            if errors and not first_level:
                return False  # the previous level, our left operand, failed
            first_level = False
            if code == _AND:
                if not value:
                    continue
            elif code == _OR and value:
                continue
            if errors:  # the first operand's cast failed: keep the contract for this child
                own: list[CesqlError] = []
                right = operand(attributes, own)
                if own:
                    errors.extend(own)
                    return False
            else:
                right = operand(attributes, errors)
                if errors:
                    return False
            if type(right) is not bool:
                right = to_bool(right, errors)
            value = value is not right if code == _XOR else right
        return value

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
    # x IN (a, b) compares like x = a OR x = b, but casts each value to the type of x
    # (spec 3.7); like OR it stops at the first match.
    def in_(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = operand(attributes, errors)
        if errors:
            return False
        target = type(x)
        cast = IMPLICIT_CASTS[target]
        for item in items:
            if errors:  # an earlier value failed its cast: keep the contract for this child
                own: list[CesqlError] = []
                y = item(attributes, own)
                if own:
                    errors.extend(own)
                    return False
            else:
                y = item(attributes, errors)
                if errors:
                    return False
            if type(y) is not target:
                y = cast(y, errors)
            if y == x:
                return True
        return False

    return in_


def _in_constants(operand: Evaluator, items: list[Value]) -> Evaluator:
    """``x IN (literals...)``: the list is cast to each possible type of x once, here.

    When every value casts cleanly to the type of x, membership is a set lookup;
    otherwise the values are walked in order, reporting the cast errors met before
    a match, exactly as the general case would.
    """
    sets: dict[type[Value], frozenset[Value]] = {}
    ordered: dict[type[Value], tuple[tuple[Value, list[CesqlError]], ...]] = {}
    for target, cast in IMPLICIT_CASTS.items():
        entries = []
        for item in items:
            cast_errors: list[CesqlError] = []
            entries.append((cast(item, cast_errors), cast_errors))
        if any(cast_errors for _, cast_errors in entries):
            ordered[target] = tuple(entries)
        else:
            sets[target] = frozenset(value for value, _ in entries)

    def in_constants(attributes: Attributes, errors: list[CesqlError]) -> Value:
        x = operand(attributes, errors)
        if errors:
            return False
        members = sets.get(type(x))
        if members is not None:
            return x in members
        for value, cast_errors in ordered[type(x)]:
            errors.extend(cast_errors)
            if value == x:
                return True
        return False

    return in_constants


def _call(function: Function, arguments: list[Evaluator]) -> Evaluator:
    # Arguments are all evaluated before any is cast, so an argument's failure is
    # never confused with a failed cast.
    implementation = function.implementation
    zero = function.returns.zero
    casts: list[tuple[int, type[Value], Cast]] = []
    for index in range(len(arguments)):
        parameter = function.parameter_type(index)
        if parameter is not None:
            casts.append((index, parameter.python_type, IMPLICIT_CASTS[parameter.python_type]))

    if len(arguments) == 1:
        (argument,) = arguments
        target, cast = (casts[0][1], casts[0][2]) if casts else (None, None)

        def call_one(attributes: Attributes, errors: list[CesqlError]) -> Value:
            value = argument(attributes, errors)
            if errors:
                return zero
            if cast is not None and type(value) is not target:
                value = cast(value, errors)
            return implementation(errors, value)

        return call_one

    def call(attributes: Attributes, errors: list[CesqlError]) -> Value:
        values = []
        for argument in arguments:
            value = argument(attributes, errors)
            if errors:
                return zero
            values.append(value)
        for index, target, cast in casts:
            if type(values[index]) is not target:
                values[index] = cast(values[index], errors)
        return implementation(errors, *values)

    return call
