"""CESQL's three primitive types, and how CloudEvent attribute values map onto them.

Values are plain Python objects (``str``, ``int``, ``bool``) rather than wrappers, so
the evaluator does no boxing; the one trap is that ``bool`` subclasses ``int``, which
is why type tests throughout the package use ``type(v) is int`` and never
``isinstance``. Strings are Go strings in Knative, byte sequences: the functions
that count or cut (LENGTH, LEFT, RIGHT, SUBSTRING) and LIKE work on UTF-8 bytes, and
a cut inside a character leaves its bytes as surrogate escapes (see ``to_bytes``).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TypeAlias

from kfn.goformat import format_value, rfc3339_nano

Value: TypeAlias = str | int | bool
"""A CESQL value: String, Integer (32-bit, held in a Python int) or Boolean."""

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


class CesqlType(Enum):
    """A CESQL primitive type, with the Python type that carries it and its zero value.

    The zero value is what an operator or function returns when it cannot compute
    its result, e.g. ``missing * 5`` is ``0``.
    """

    BOOLEAN = (bool, False)
    INTEGER = (int, 0)
    STRING = (str, "")

    def __init__(self, python_type: type[Value], zero: Value) -> None:
        self.python_type = python_type
        self.zero = zero

    @property
    def label(self) -> str:
        """The spec's name for the type, for error messages."""
        return self.name.capitalize()


def wrap_int32(number: int) -> int:
    """``number`` as Go's int32 arithmetic leaves it: wrapped around into 32 bits."""
    return ((number - INT32_MIN) & 0xFFFFFFFF) + INT32_MIN


def to_bytes(text: str) -> bytes:
    """The Go string ``text`` stands for: its UTF-8 bytes (surrogate escapes restored)."""
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    """The text for Go string bytes; bytes that are not UTF-8 become surrogate escapes."""
    return data.decode("utf-8", "surrogateescape")


def attribute_value(raw: object) -> Value:
    """Map a context attribute's Python value to the value Knative's CESQL sees.

    As sdk-go's ``GetAttribute``: String, Integer and Boolean as they are, a
    Timestamp as RFC 3339 text with nanoseconds, Binary as base64, anything else as
    its string form. An int outside the 32-bit range cannot be a CloudEvents
    Integer, so it is seen as its decimal text.
    """
    if type(raw) is str or type(raw) is bool:
        return raw
    if type(raw) is int:
        return raw if INT32_MIN <= raw <= INT32_MAX else str(raw)
    if isinstance(raw, datetime):
        return rfc3339_nano(raw)
    if isinstance(raw, bool):
        return bool(raw)
    if isinstance(raw, int):  # IntEnum and friends: their numeric value
        return attribute_value(int(raw))
    return format_value(raw)
