"""Event data on the wire: how bytes become `data` and back, by content type.

These are the binary-mode data rules of the cloudevents SDK's JSON `Format`
(`read_data`/`write_data`), made strict: the SDK's JSONFormat writes a list as
Python repr and a JSON string unquoted, and reads invalid JSON as text. Rules:
HTTP-RULES B3, D1-D4. It is not a subclass of the SDK's JSONFormat because that
module imports dateutil, which every cold start would pay for nothing.
"""

from __future__ import annotations

import json
from typing import Any

from kfn._errors import DecodingError
from kfn._syntax import is_json_media_type, media_type


def is_json(content_type: str | None) -> bool:
    """`*/json` and `*/*+json`; no content type at all means JSON too (D1)."""
    return not content_type or is_json_media_type(content_type)


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or "utf-8"
    return "utf-8"


class StrictJSONFormat:
    """The binary-mode data rules of the CloudEvents JSON format, strictly."""

    def read_data(self, body: bytes, datacontenttype: str | None) -> Any:
        if not body:
            return None
        if datacontenttype is None:
            # No Content-Type: try JSON (the default), else hand over the raw bytes.
            try:
                return json.loads(body)
            except ValueError:
                return body
        if is_json(datacontenttype):
            try:
                return json.loads(body)
            except ValueError:
                raise DecodingError(
                    "invalid-data",
                    f"the body is not valid JSON, but its content type is {datacontenttype!r}",
                ) from None
        if media_type(datacontenttype).startswith("text/"):
            try:
                return body.decode(_charset(datacontenttype))
            except (LookupError, UnicodeDecodeError):
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
            return json.dumps(data, separators=(",", ":"), default=str).encode()
        return str(data).encode(_charset(datacontenttype or ""))


STRICT_JSON_DATA = StrictJSONFormat()
