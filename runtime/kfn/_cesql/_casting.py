"""Type casts as sdk-go's ``utils.Cast`` performs them, implicit and explicit alike.

Each cast takes the evaluation's error list; when it cannot convert, it appends a
CastError and returns the target's zero value, and the operator that asked for it
stops there (Knative's evaluation fails fast). Where the Go code differs from the
spec's prose: an Integer casts to a Boolean (0 is false, anything else true), so
``NOT 0`` is true and ``NOT 10`` false, without an error; and a String becomes an
Integer only if Go's ``strconv.ParseInt(s, 10, 32)`` reads it (sign allowed, no
spaces).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

from kfn._cesql._errors import CesqlError, ErrorKind
from kfn._cesql._values import INT32_MAX, INT32_MIN, CesqlType, Value

Cast: TypeAlias = Callable[[Value, list[CesqlError]], Value]

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)


def _cast_error(value: Value, target: CesqlType) -> CesqlError:
    shown = f"{value!r}" if type(value) is str else to_str(value)
    return CesqlError(ErrorKind.CAST, f"cannot cast {shown} to {target.label}")


def parse_int32(text: str) -> tuple[int, bool]:
    """Go's ``strconv.ParseInt(text, 10, 32)``: the value and whether it was read.

    Out of range, the value is the nearest bound (as Go returns it) and not read.
    """
    if len(text) < 10 and text.isascii() and text.isdigit():
        return int(text), True
    if _INTEGER_TEXT.fullmatch(text) is None:
        return 0, False
    digits = text.lstrip("+-").lstrip("0") or "0"
    negative = text[0] == "-"
    if len(digits) > 10:
        return (INT32_MIN if negative else INT32_MAX), False
    number = -int(digits) if negative else int(digits)
    if number > INT32_MAX:
        return INT32_MAX, False
    if number < INT32_MIN:
        return INT32_MIN, False
    return number, True


def to_str(value: Value, errors: list[CesqlError] | None = None) -> str:
    """Integer and Boolean to String: always succeeds (Booleans become 'true'/'false').

    ``errors`` is never used; it is accepted so that every cast has the same shape.
    """
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    return str(value)


def to_int(value: Value, errors: list[CesqlError]) -> int:
    """Boolean to 1/0; String as Go's ParseInt reads it, else 0 and a CastError."""
    if type(value) is int:
        return value
    if type(value) is bool:
        return 1 if value else 0
    number, read = parse_int32(value)  # type: ignore[arg-type]
    if read:
        return number
    errors.append(_cast_error(value, CesqlType.INTEGER))
    return 0


def to_bool(value: Value, errors: list[CesqlError]) -> bool:
    """Integer: 0 is false, else true; String 'true'/'false' in any case; else a CastError."""
    if type(value) is bool:
        return value
    if type(value) is int:
        return value != 0
    lowered = value.lower()  # type: ignore[union-attr]
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    errors.append(_cast_error(value, CesqlType.BOOLEAN))
    return False


IMPLICIT_CASTS: dict[type[Value], Cast] = {str: to_str, int: to_int, bool: to_bool}
"""The cast to each CESQL type, keyed by the Python type that carries it."""
