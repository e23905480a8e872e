"""CloudEvents v1.0 context attributes: the type system and the rules every mode shares.

The SDK's CloudEvent constructor is lax (it invents `id` and `time` when they are
missing and accepts any extension value), so received attributes are checked here,
strictly, before an event object is built. See HTTP-RULES E1-E6 and F1.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from kfn._errors import DecodingError, ReplyNotEncodable
from kfn._syntax import is_attribute_name, is_media_type
from kfn._timestamps import parse_rfc3339
from kfn.codec.data import text_codec

SPECVERSION = "1.0"
REQUIRED = ("id", "source", "type")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_BAD_STRING_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
_URI_REFERENCE = re.compile(r"[^\s\x00-\x1f\x7f]+")
_HEADER_TEXT = re.compile(r"[\t\x20-\x7e]*")
"""What a media type may hold to go out as a header value: printable ASCII, no CR or LF."""
WELL_KNOWN = frozenset(
    {
        *("specversion", "id", "source", "type", "time"),
        *("subject", "datacontenttype", "dataschema", "traceparent", "tracestate"),
    }
)
"""Names of the spec's attributes and the tracing extension's: valid names, not checked again."""


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
    # One scan of every string for a bad character; only when it finds one are they
    # checked one by one, in order, so the error names the attribute as before.
    strings = "".join([value for value in attributes.values() if isinstance(value, str)])
    check_strings = _BAD_STRING_CHARS.search(strings) is not None
    for name, value in attributes.items():
        if name not in WELL_KNOWN:
            check_name(name)
        if isinstance(value, str):
            if check_strings:
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


def check_outgoing(attributes: dict[str, Any]) -> None:
    """ReplyNotEncodable unless a reply's attributes can go out in every content mode.

    The rules a received event is held to, where they decide whether the reply can
    be written: names, value types, strings a receiver accepts (no lone surrogate,
    no control character), and a datacontenttype that is a media type fitting an
    HTTP header (no CR, LF or non-ASCII character).
    """
    for name, value in attributes.items():
        if value is None:
            continue
        if not is_attribute_name(name) or name == "data":
            raise ReplyNotEncodable(
                f"the reply has an attribute named {name!r}: CloudEvents names are "
                "lower-case letters a-z and digits 0-9 only"
            )
        if isinstance(value, str):
            if _BAD_STRING_CHARS.search(value):
                raise ReplyNotEncodable(
                    f"the reply's attribute {name!r} holds a control character, a "
                    "noncharacter or a lone surrogate"
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            if not INT32_MIN <= value <= INT32_MAX:
                raise ReplyNotEncodable(
                    f"the reply's attribute {name!r} is an Integer outside the 32-bit range"
                )
        elif not isinstance(value, bool | datetime):
            raise ReplyNotEncodable(
                f"the reply's attribute {name!r} has type {type(value).__name__}; "
                "CloudEvents attributes are strings, booleans, 32-bit integers or timestamps"
            )
    content_type = attributes.get("datacontenttype")
    if content_type is not None and not (
        isinstance(content_type, str)
        and is_media_type(content_type)
        and _HEADER_TEXT.fullmatch(content_type)
    ):
        raise ReplyNotEncodable(
            "the reply's datacontenttype is not a media type that fits an HTTP header "
            "(printable ASCII, no CR or LF)"
        )
    if content_type is not None and "charset" in content_type.lower():
        try:
            text_codec(content_type)
        except DecodingError:
            raise ReplyNotEncodable(
                "the reply's datacontenttype names a charset the host does not support"
            ) from None
