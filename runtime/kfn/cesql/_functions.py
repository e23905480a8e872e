"""The built-in functions (spec 3.5, plus the INT, BOOL and STRING casts the TCK uses).

A function is resolved by its name and the number of arguments, once, at compile
time. Arguments arrive already cast to the declared parameter types, so each
implementation is plain typed Python; it receives the error list first and appends
to it when it has to fall back (``LEFT('abc', -2)`` is ``'abc'`` plus a
FunctionEvaluationError, spec 3.5.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kfn.cesql._casting import explicit_to_bool, to_int, to_str
from kfn.cesql._errors import CesqlError, ErrorKind
from kfn.cesql._values import INT32_MAX, INT32_MIN, CesqlType, Value

Implementation = Callable[..., Value]
"""``(errors, *arguments) -> value``; arguments typed as the Function declares."""

_STRING = CesqlType.STRING
_INTEGER = CesqlType.INTEGER


@dataclass(frozen=True, slots=True)
class Function:
    """A function signature and its implementation.

    ``parameters`` are the fixed parameters' types, None meaning any type (no implicit
    cast; the casting functions cast for themselves). A variadic function takes any
    number of further arguments of type ``variadic``.
    """

    name: str
    parameters: tuple[CesqlType | None, ...]
    returns: CesqlType
    implementation: Implementation
    variadic: CesqlType | None = None

    def parameter_type(self, index: int) -> CesqlType | None:
        if index < len(self.parameters):
            return self.parameters[index]
        return self.variadic


class FunctionTable:
    """Functions by name and arity, kept to the overloading rules of spec 3.5.

    A name may have one overload per arity, plus one variadic overload whose fixed
    parameters outnumber every fixed-arity overload, so a call is never ambiguous.
    """

    def __init__(self) -> None:
        self._fixed: dict[str, dict[int, Function]] = {}
        self._variadic: dict[str, Function] = {}

    def register(self, function: Function) -> None:
        name = function.name.upper()
        fixed = self._fixed.setdefault(name, {})
        arity = len(function.parameters)
        variadic = self._variadic.get(name)
        if function.variadic is not None:
            if variadic is not None:
                raise ValueError(f"{name} already has a variadic overload")
            if fixed and max(fixed) >= arity:
                raise ValueError(
                    f"the variadic {name} needs more fixed parameters than any other overload"
                )
            self._variadic[name] = function
            return
        if arity in fixed:
            raise ValueError(f"{name} already has an overload taking {arity} arguments")
        if variadic is not None and arity >= len(variadic.parameters):
            raise ValueError(f"{name}/{arity} would be ambiguous with the variadic {name}")
        fixed[arity] = function

    def resolve(self, name: str, arity: int) -> Function | None:
        """The overload of ``name`` (any case) taking ``arity`` arguments, if there is one."""
        name = name.upper()
        function = self._fixed.get(name, {}).get(arity)
        if function is not None:
            return function
        variadic = self._variadic.get(name)
        if variadic is not None and arity >= len(variadic.parameters):
            return variadic
        return None


# -- casting functions ----------------------------------------------------------


def _int(errors: list[CesqlError], value: Value) -> int:
    return to_int(value, errors)


def _bool(errors: list[CesqlError], value: Value) -> bool:
    return explicit_to_bool(value, errors)


def _string(errors: list[CesqlError], value: Value) -> str:
    return to_str(value)


# -- string functions -------------------------------------------------------------

# Unicode's White_Space property. str.strip() would also remove the ASCII
# separators U+001C..U+001F, which the spec says TRIM must keep (control characters).
_UNICODE_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _failed(errors: list[CesqlError], message: str) -> None:
    errors.append(CesqlError(ErrorKind.FUNCTION_EVALUATION, message))


def _length(errors: list[CesqlError], text: str) -> int:
    return len(text)


def _concat(errors: list[CesqlError], *texts: str) -> str:
    return "".join(texts)


def _concat_ws(errors: list[CesqlError], delimiter: str, *texts: str) -> str:
    return delimiter.join(texts)


def _lower(errors: list[CesqlError], text: str) -> str:
    return text.lower()


def _upper(errors: list[CesqlError], text: str) -> str:
    return text.upper()


def _trim(errors: list[CesqlError], text: str) -> str:
    return text.strip(_UNICODE_WHITESPACE)


def _left(errors: list[CesqlError], text: str, count: int) -> str:
    if count < 0:
        _failed(errors, f"LEFT: the length must not be negative, got {count}")
        return text
    return text[:count]


def _right(errors: list[CesqlError], text: str, count: int) -> str:
    if count < 0:
        _failed(errors, f"RIGHT: the length must not be negative, got {count}")
        return text
    return text[len(text) - count :] if count < len(text) else text


def _start(errors: list[CesqlError], text: str, position: int) -> int | None:
    """The 0-based start of SUBSTRING's ``position`` (1-based, negative from the end)."""
    if position > len(text) or position < -len(text):
        _failed(errors, f"SUBSTRING: position {position} is outside a {len(text)}-character string")
        return None
    if position == 0:
        return None
    return position - 1 if position > 0 else len(text) + position


def _substring(errors: list[CesqlError], text: str, position: int) -> str:
    start = _start(errors, text, position)
    return "" if start is None else text[start:]


def _substring_length(errors: list[CesqlError], text: str, position: int, length: int) -> str:
    if length < 0:
        _failed(errors, f"SUBSTRING: the length must not be negative, got {length}")
        return ""
    start = _start(errors, text, position)
    return "" if start is None else text[start : start + length]


# -- integer functions ------------------------------------------------------------


def _abs(errors: list[CesqlError], number: int) -> int:
    if number == INT32_MIN:
        errors.append(CesqlError(ErrorKind.MATH, f"ABS({INT32_MIN}) overflows 32 bits"))
        return INT32_MAX
    return abs(number)


def builtin_functions() -> FunctionTable:
    """A table holding every built-in function."""
    table = FunctionTable()
    boolean = CesqlType.BOOLEAN
    for function in (
        Function("INT", (None,), _INTEGER, _int),
        Function("BOOL", (None,), boolean, _bool),
        Function("STRING", (None,), _STRING, _string),
        Function("LENGTH", (_STRING,), _INTEGER, _length),
        Function("CONCAT", (), _STRING, _concat, variadic=_STRING),
        Function("CONCAT_WS", (_STRING,), _STRING, _concat_ws, variadic=_STRING),
        Function("LOWER", (_STRING,), _STRING, _lower),
        Function("UPPER", (_STRING,), _STRING, _upper),
        Function("TRIM", (_STRING,), _STRING, _trim),
        Function("LEFT", (_STRING, _INTEGER), _STRING, _left),
        Function("RIGHT", (_STRING, _INTEGER), _STRING, _right),
        Function("SUBSTRING", (_STRING, _INTEGER), _STRING, _substring),
        Function("SUBSTRING", (_STRING, _INTEGER, _INTEGER), _STRING, _substring_length),
        Function("ABS", (_INTEGER,), _INTEGER, _abs),
    ):
        table.register(function)
    return table


BUILTINS = builtin_functions()
