"""CESQL's three primitive types, and how CloudEvent attribute values map onto them.

Values are plain Python objects (``str``, ``int``, ``bool``) rather than wrappers, so
the evaluator does no boxing; the one trap is that ``bool`` subclasses ``int``, which
is why type tests throughout the package use ``type(v) is int`` and never
``isinstance``.
"""

from __future__ import annotations

import binascii
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeAlias

Value: TypeAlias = str | int | bool
"""A CESQL value: String, Integer (32-bit, held in a Python int) or Boolean."""

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

_UTC_OFFSET = timedelta(0)


class CesqlType(Enum):
    """A CESQL primitive type, with the Python type that carries it and its zero value.

    The zero value is what an operator or function returns when it cannot compute
    its result (spec 3.3), e.g. ``missing * 5`` is ``0``.
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


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 text for a CloudEvents Timestamp, with 'Z' for UTC.

    A naive datetime is taken to be UTC: CloudEvents timestamps always carry a zone,
    and UTC is what the SDKs mean when they build one without it.
    """
    offset = moment.utcoffset()
    if offset is None or offset == _UTC_OFFSET:
        return moment.replace(tzinfo=None).isoformat() + "Z"
    return moment.isoformat()


def attribute_value(raw: object) -> Value:
    """Map a context attribute's Python value to the CESQL value it stands for.

    The spec says any attribute whose type is not a CESQL primitive is seen as a
    String (3.2); for the CloudEvents types that means: Timestamp as RFC 3339 text,
    Binary as base64, URI and URI-reference as their text. An int outside the 32-bit
    range cannot be a CloudEvents Integer, so it too is seen as its decimal text.
    """
    if type(raw) is str or type(raw) is bool:
        return raw
    if type(raw) is int:
        return raw if INT32_MIN <= raw <= INT32_MAX else str(raw)
    if isinstance(raw, datetime):
        return format_timestamp(raw)
    if isinstance(raw, bytes | bytearray | memoryview):
        return binascii.b2a_base64(raw, newline=False).decode("ascii")
    if isinstance(raw, int):  # IntEnum and friends: their numeric value
        return attribute_value(int(raw))
    if isinstance(raw, str):  # StrEnum and friends: their text, not their repr
        return str.__str__(raw)
    return str(raw)
