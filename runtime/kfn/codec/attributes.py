"""CloudEvents v1.0 context attributes: the type system and the rules every mode shares.

The SDK's CloudEvent constructor is lax (it invents `id` and `time` when they are
missing and accepts any extension value), so received attributes are checked here,
strictly, before an event object is built. See HTTP-RULES E1-E6 and F1.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from kfn._errors import DecodingError
from kfn._syntax import is_attribute_name, is_media_type
from kfn._timestamps import parse_rfc3339

SPECVERSION = "1.0"
REQUIRED = ("id", "source", "type")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_BAD_STRING_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
_URI_REFERENCE = re.compile(r"[^\s\x00-\x1f\x7f]+")


def canonical_string(value: Any) -> str:
    """The canonical string form of an attribute value (how binary mode carries it)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.isoformat()  # a NanoTime writes its nanoseconds
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return str(value)


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp to the nanosecond (kfn._timestamps); anything else is rejected."""
    return parse_rfc3339(value)


def check_name(name: str) -> None:
    if not is_attribute_name(name) or name == "data":
        raise DecodingError(
            "invalid-attribute-name",
            f"{name!r} is not a valid attribute name: lower-case letters a-z and digits "
            "0-9 only, and not 'data'",
        )


def _check_string(name: str, value: str) -> None:
    if _BAD_STRING_CHARS.search(value):
        raise DecodingError(
            "invalid-attribute-value",
            f"attribute {name!r} holds a control character, a noncharacter or a lone surrogate",
        )


def check_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Validate received attributes in place; return them with `time` parsed.

    Values must already be str (binary mode) or str/bool/int (JSON); null members
    were dropped by the caller, since JSON null means "not set".
    """
    specversion = attributes.get("specversion")
    if specversion != SPECVERSION:
        if specversion is None or specversion == "":
            raise DecodingError("missing-attribute", "required attribute 'specversion' is missing")
        raise DecodingError(
            "unsupported-specversion",
            f"specversion {specversion!r} is not supported; this host speaks CloudEvents 1.0",
        )
    for name in REQUIRED:
        value = attributes.get(name)
        if value is None:
            raise DecodingError("missing-attribute", f"required attribute {name!r} is missing")
        if not isinstance(value, str):
            raise DecodingError("invalid-attribute-value", f"attribute {name!r} must be a string")
        if value == "":
            raise DecodingError("missing-attribute", f"required attribute {name!r} is empty")
    for name, value in attributes.items():
        check_name(name)
        if isinstance(value, str):
            _check_string(name, value)
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not INT32_MIN <= value <= INT32_MAX:
                raise DecodingError(
                    "invalid-attribute-value",
                    f"attribute {name!r} is an Integer outside the 32-bit range",
                )
        else:
            raise DecodingError(
                "invalid-attribute-value",
                f"attribute {name!r} has type {type(value).__name__}; CloudEvents attributes "
                "are strings, booleans or 32-bit integers",
            )
    if not _URI_REFERENCE.fullmatch(attributes["source"]):
        raise DecodingError("invalid-source", "attribute 'source' is not a URI-reference")
    if "time" in attributes:
        time = attributes["time"]
        if not isinstance(time, str):
            raise DecodingError("invalid-time", "attribute 'time' must be a string")
        attributes["time"] = parse_time(time)
    for name in ("subject", "datacontenttype", "dataschema"):
        value = attributes.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or value == "":
            raise DecodingError(
                "invalid-attribute-value", f"attribute {name!r} must be a non-empty string"
            )
    if "dataschema" in attributes and not _ABSOLUTE_URI.fullmatch(attributes["dataschema"]):
        raise DecodingError("invalid-dataschema", "attribute 'dataschema' must be an absolute URI")
    if "datacontenttype" in attributes and not is_media_type(attributes["datacontenttype"]):
        raise DecodingError(
            "invalid-datacontenttype",
            f"datacontenttype {attributes['datacontenttype']!r} is not a media type (RFC 2046)",
        )
    return attributes
