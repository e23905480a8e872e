"""Type casts (spec 3.7): total functions that fall back to a zero value on failure.

Each cast takes the evaluation's error list and appends a CastError when it cannot
convert, returning the target type's zero value so the operator can carry on (the
TCK's ``NOT 10`` is ``true`` with a cast error: NOT works on the fallback ``false``).

Implicit and explicit casts differ in one place. The spec's cast table lets an
Integer become a Boolean, and ``BOOL(1)`` is ``true``; but the TCK also requires the
implicit cast an operator performs, as in ``NOT 10``, to fail with a CastError. So
``BOOL()`` uses :func:`explicit_to_bool` and operators use :func:`to_bool`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

from kfn.cesql._errors import CesqlError, ErrorKind
from kfn.cesql._values import INT32_MAX, INT32_MIN, CesqlType, Value

Cast: TypeAlias = Callable[[Value, list[CesqlError]], Value]

# Base-10, optional sign, ASCII digits only: int() alone would also take spaces,
# underscores and non-ASCII digits. Leading zeros are dropped before int() so a
# long run of them cannot trip Python's limit on digits in int(str).
_INTEGER_TEXT = re.compile(r"([+-]?)0*([0-9]{1,10})")


def _cast_error(value: Value, target: CesqlType) -> CesqlError:
    shown = f"{value!r}" if type(value) is str else to_str(value)
    return CesqlError(ErrorKind.CAST, f"cannot cast {shown} to {target.label}")


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
    """Boolean to 1/0; String as a base-10 32-bit integer, else 0 and a CastError."""
    if type(value) is int:
        return value
    if type(value) is bool:
        return 1 if value else 0
    if type(value) is str:
        match = _INTEGER_TEXT.fullmatch(value)
        if match is not None:
            number = -int(match[2]) if match[1] == "-" else int(match[2])
            if INT32_MIN <= number <= INT32_MAX:
                return number
    errors.append(_cast_error(value, CesqlType.INTEGER))
    return 0


def to_bool(value: Value, errors: list[CesqlError]) -> bool:
    """The implicit cast to Boolean: 'true'/'false' in any case; anything else is an error.

    An Integer is an error here (see the module docstring); ``BOOL()`` accepts it.
    """
    if type(value) is bool:
        return value
    if type(value) is str:
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    errors.append(_cast_error(value, CesqlType.BOOLEAN))
    return False


def explicit_to_bool(value: Value, errors: list[CesqlError]) -> bool:
    """The ``BOOL()`` cast: as :func:`to_bool`, plus Integer 0 -> false, else true."""
    if type(value) is int:
        return value != 0
    return to_bool(value, errors)


IMPLICIT_CASTS: dict[type[Value], Cast] = {str: to_str, int: to_int, bool: to_bool}
"""The implicit cast to each CESQL type, keyed by the Python type that carries it."""
