"""The functions Knative's CESQL knows: sdk-go ``sql/v2``'s built-ins and Eventing's own.

A function is resolved by its name and the number of arguments, once, at compile
time. Arguments arrive already cast to the declared parameter types, so each
implementation is plain typed Python; it receives the error list first and appends
to it when it has to fall back (``LEFT('abc', -2)`` is ``'abc'`` plus a
FunctionEvaluationError). As in Go, strings are bytes: LENGTH counts UTF-8 bytes and
LEFT, RIGHT and SUBSTRING cut at byte offsets. Beside the spec's functions sdk-go
has IS_INT and IS_BOOL, and Eventing registers KN_VERIFY_CORRELATION_ID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kfn._cesql._casting import parse_int32, to_bool, to_int, to_str
from kfn._cesql._errors import CesqlError, ErrorKind
from kfn._cesql._values import INT32_MAX, INT32_MIN, CesqlType, Value, from_bytes, to_bytes

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
    if type(value) is str:
        number, read = parse_int32(value)
        if not read:  # Go's INT() returns ParseInt's value, clamped, beside the error
            to_int(value, errors)
        return number
    return to_int(value, errors)


def _bool(errors: list[CesqlError], value: Value) -> bool:
    return to_bool(value, errors)


def _string(errors: list[CesqlError], value: Value) -> str:
    return to_str(value)


def _is_int(errors: list[CesqlError], value: Value) -> bool:
    if type(value) is str:
        return parse_int32(value)[1]
    return True


def _is_bool(errors: list[CesqlError], value: Value) -> bool:
    if type(value) is str:
        return value.lower() in ("true", "false")
    return True  # an Integer casts to a Boolean


# -- string functions -------------------------------------------------------------

# Go's unicode.IsSpace, which strings.TrimSpace uses. str.strip() would also remove
# the ASCII separators U+001C..U+001F.
_GO_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NOT_UTF8 = "\ufffd"  # what Go's case mappings write for a byte that is not UTF-8


def _failed(errors: list[CesqlError], message: str) -> None:
    errors.append(CesqlError(ErrorKind.FUNCTION_EVALUATION, message))


def _panics(errors: list[CesqlError], message: str) -> None:
    errors.append(CesqlError(ErrorKind.GENERIC, f"{message}: Knative's filter panics here"))


def _length(errors: list[CesqlError], text: str) -> int:
    return len(text) if text.isascii() else len(to_bytes(text))


def _joined(text: str) -> str:
    # Halves of a character cut by LEFT/RIGHT/SUBSTRING rejoin into the character.
    return text if text.isascii() else from_bytes(to_bytes(text))


def _concat(errors: list[CesqlError], *texts: str) -> str:
    return _joined("".join(texts))


def _concat_ws(errors: list[CesqlError], delimiter: str, *texts: str) -> str:
    return _joined(delimiter.join(texts))


def _lower_char(char: str) -> str:
    if "\udc80" <= char <= "\udcff":
        return _NOT_UTF8
    lowered = char.lower()
    if len(lowered) == 1:
        return lowered
    return "i" if char == "\u0130" else char  # Go maps each rune alone (simple case mapping)


def _upper_char(char: str) -> str:
    if "\udc80" <= char <= "\udcff":
        return _NOT_UTF8
    upper = char.upper()
    if len(upper) == 1:
        return upper
    title = char.title()  # the simple upper-case of the Greek iota-subscript letters
    return title if len(title) == 1 else char


def _lower(errors: list[CesqlError], text: str) -> str:
    return text.lower() if text.isascii() else "".join(map(_lower_char, text))


def _upper(errors: list[CesqlError], text: str) -> str:
    return text.upper() if text.isascii() else "".join(map(_upper_char, text))


def _trim(errors: list[CesqlError], text: str) -> str:
    return text.strip(_GO_WHITESPACE)


def _left(errors: list[CesqlError], text: str, count: int) -> str:
    data = to_bytes(text)
    if count > len(data):
        return text
    if count < 0:
        _failed(errors, f"LEFT: the length must not be negative, got {count}")
        return text
    return from_bytes(data[:count])


def _right(errors: list[CesqlError], text: str, count: int) -> str:
    data = to_bytes(text)
    if count > len(data):
        return text
    if count < 0:
        _failed(errors, f"RIGHT: the length must not be negative, got {count}")
        return text
    return from_bytes(data[len(data) - count :])


def _start(errors: list[CesqlError], data: bytes, position: int) -> int | None:
    """The 0-based byte offset of SUBSTRING's ``position`` (1-based, negative from the end)."""
    if position < -len(data) or position > len(data):
        _failed(errors, f"SUBSTRING: position {position} is outside a {len(data)}-byte string")
        return None
    return position - 1 if position > 0 else len(data) + position


def _substring(errors: list[CesqlError], text: str, position: int) -> str:
    if position == 0:
        return ""
    data = to_bytes(text)
    start = _start(errors, data, position)
    return "" if start is None else from_bytes(data[start:])


def _substring_length(errors: list[CesqlError], text: str, position: int, length: int) -> str:
    if position == 0:
        return ""
    data = to_bytes(text)
    start = _start(errors, data, position)
    if start is None:
        return ""
    if length < 0:
        _panics(errors, f"SUBSTRING: negative length {length}")
        return ""
    return from_bytes(data[start : start + length])


# -- integer functions ------------------------------------------------------------


def _abs(errors: list[CesqlError], number: int) -> int:
    if number == INT32_MIN:
        errors.append(CesqlError(ErrorKind.MATH, f"ABS({INT32_MIN}) overflows 32 bits"))
        return INT32_MAX
    return abs(number)


# -- Knative Eventing's function ----------------------------------------------------


def _verify_correlation_id(
    errors: list[CesqlError],
    reply_id: str,
    name: str,
    namespace: str,
    secret_name: str,
    pod_index: int,
    replica_count: int,
) -> bool:
    """KN_VERIFY_CORRELATION_ID, Eventing's RequestReply check (pkg/requestreply).

    On the cluster it verifies the id against AES keys in a Secret; no such Secret
    exists locally, so an id that gets that far is not verified here.
    """
    parts = reply_id.split(":")
    if len(parts) == 3 and parse_int32(parts[2])[1] and replica_count == 0:
        _panics(errors, "KN_VERIFY_CORRELATION_ID: replica count 0 (integer division by zero)")
    return False


def builtin_functions() -> FunctionTable:
    """A table holding every function a Knative broker filter resolves."""
    table = FunctionTable()
    boolean = CesqlType.BOOLEAN
    for function in (
        Function("INT", (None,), _INTEGER, _int),
        Function("BOOL", (None,), boolean, _bool),
        Function("STRING", (None,), _STRING, _string),
        Function("IS_INT", (None,), boolean, _is_int),
        Function("IS_BOOL", (None,), boolean, _is_bool),
        Function("ABS", (_INTEGER,), _INTEGER, _abs),
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
        Function(
            "KN_VERIFY_CORRELATION_ID",
            (_STRING, _STRING, _STRING, _STRING, _INTEGER, _INTEGER),
            boolean,
            _verify_correlation_id,
        ),
    ):
        table.register(function)
    return table


BUILTINS = builtin_functions()
