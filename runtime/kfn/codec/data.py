"""Event data on the wire: how bytes become `data` and back, by content type.

These are the binary-mode data rules of the cloudevents SDK's JSON `Format`
(`read_data`/`write_data`), made strict: the SDK's JSONFormat writes a list as
Python repr and a JSON string unquoted, and reads invalid JSON as text. Rules:
HTTP-RULES B3, D1-D4. It is not a subclass of the SDK's JSONFormat because that
module imports dateutil, which every cold start would pay for nothing.
"""

from __future__ import annotations

import codecs
import functools
from typing import Any

from kfn._errors import DecodingError, UnsupportedCharset
from kfn._syntax import is_json_media_type, media_type
from kfn.codec import strict_json

NOT_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})
"""Python text codecs that name no charset a sender could mean: refused like unknown ones."""


def is_json(content_type: str | None) -> bool:
    """`*/json` and `*/*+json`; no content type at all means JSON too (D1)."""
    return not content_type or is_json_media_type(content_type)


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or "utf-8"
    return "utf-8"


@functools.lru_cache(maxsize=64)
def codec_for(charset: str) -> str | None:
    """The Python codec for a charset parameter, or None when there is none to trust.

    Unknown names, codecs that do not turn bytes into text (base64, rot13) and
    Python's own codecs (idna, unicode-escape) are all None.
    """
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in NOT_CHARSETS:
        return None
    return info.name


def text_codec(content_type: str) -> str:
    """The codec of a text content type's charset; UnsupportedCharset when there is none."""
    charset = _charset(content_type)
    codec = codec_for(charset)
    if codec is None:
        raise UnsupportedCharset(charset)
    return codec


class StrictJSONFormat:
    """The binary-mode data rules of the CloudEvents JSON format, strictly."""

    def read_data(self, body: bytes, datacontenttype: str | None) -> Any:
        if not body:
            return None
        if datacontenttype is None:
            # No Content-Type: try JSON (the default), else hand over the raw bytes.
            try:
                return strict_json.loads(body)
            except (ValueError, DecodingError):
                return body
        if is_json(datacontenttype):
            try:
                return strict_json.loads(body)
            except ValueError:
                raise DecodingError(
                    "invalid-data",
                    f"the body is not valid JSON, but its content type is {datacontenttype!r}",
                ) from None
        if media_type(datacontenttype).startswith("text/"):
            codec = text_codec(datacontenttype)
            try:
                return body.decode(codec)
            except (UnicodeError, ValueError):
                raise DecodingError(
                    "invalid-data",
                    f"the body cannot be decoded as {datacontenttype!r}",
                ) from None
        return body

    def write_data(self, data: Any, datacontenttype: str | None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, bytes | bytearray | memoryview):
            return bytes(data)
        if is_json(datacontenttype):
            return strict_json.dumps(data, separators=(",", ":"), default=str)
        return str(data).encode(text_codec(datacontenttype or ""))


STRICT_JSON_DATA = StrictJSONFormat()
