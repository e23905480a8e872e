"""The errors CESQL reports: evaluation errors are values, syntax errors are raised.

CESQL is total: evaluation always produces a value, and the problem met on the way
(Knative's evaluation stops at the first) is *returned* beside it in an error list.
Only a malformed expression stops things, and it does so at compile time, when a
function is declared, so that a typo never reaches the event path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    """The error types every engine must support (spec 3.3), named as the TCK names them.

    A StrEnum so that ``error.kind == "math"`` works for callers that hold plain strings.
    """

    PARSE = "parse"
    MATH = "math"
    CAST = "cast"
    MISSING_ATTRIBUTE = "missingAttribute"
    MISSING_FUNCTION = "missingFunction"
    FUNCTION_EVALUATION = "functionEvaluation"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class CesqlError:
    """One entry of the error list an evaluation returns beside its value.

    Not an exception: evaluation never raises for data problems. Instances are
    immutable, so the compiler builds the fixed ones (a missing attribute, a missing
    function) once and every evaluation appends the same object.
    """

    kind: ErrorKind
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class CesqlSyntaxError(ValueError):
    """The expression is not valid CESQL; raised by ``compile_expression``.

    A ValueError because a bad expression is a bad argument. ``position`` is the
    0-based character offset of the offending token in ``expression`` (its length
    when the text ended too soon), so tools can point at it.
    """

    kind = ErrorKind.PARSE

    def __init__(self, message: str, expression: str, position: int) -> None:
        super().__init__(message, expression, position)
        self.message = message
        self.expression = expression
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} at position {self.position}: {self.expression}"
