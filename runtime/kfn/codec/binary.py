"""Binary content mode: attributes in ce- headers, data in the body (HTTP-RULES B)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import DecodingError
from kfn.codec.attributes import canonical_string, check_attributes
from kfn.codec.data import STRICT_JSON_DATA
from kfn.codec.event import trusted_event
from kfn.codec.headers import decode_value, encode_value


def decode(headers: Iterable[tuple[bytes, bytes]], body: bytes) -> CloudEvent:
    """A binary-mode request as an event; a broken rule raises DecodingError."""
    attributes: dict[str, Any] = {}
    content_type: str | None = None
    for raw_name, raw_value in headers:
        name = raw_name.lower()
        if name.startswith(b"ce-"):
            attribute = name[3:].decode("latin-1")
            if attribute in attributes:
                raise DecodingError("duplicate-attribute", f"header ce-{attribute} appears twice")
            if attribute == "datacontenttype":
                raise DecodingError(
                    "datacontenttype-header",
                    "binary mode must not carry ce-datacontenttype; use Content-Type",
                )
            attributes[attribute] = decode_value(attribute, raw_value)
        elif name == b"content-type":
            content_type = raw_value.decode("latin-1")
    if "specversion" not in attributes:
        missing = [
            f"ce-{n}" for n in ("specversion", "id", "source", "type") if n not in attributes
        ]
        raise DecodingError(
            "not-a-cloudevent",
            "not a CloudEvent: binary mode needs the headers "
            + ", ".join(missing)
            + " (or send Content-Type: application/cloudevents+json)",
        )
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    check_attributes(attributes)
    return trusted_event(attributes, STRICT_JSON_DATA.read_data(body, content_type))


def encode(event: CloudEvent) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """An event as binary-mode headers and body (for replies)."""
    headers: list[tuple[bytes, bytes]] = []
    content_type = None
    for name, value in event.get_attributes().items():
        if value is None:
            continue
        if name == "datacontenttype":
            content_type = str(value)
            headers.append((b"content-type", content_type.encode("latin-1")))
        else:
            headers.append((b"ce-" + name.encode(), encode_value(canonical_string(value))))
    data = event.get_data()
    if content_type is None and data is not None and not isinstance(data, bytes | bytearray):
        # JSON is implied; binary mode says so explicitly (JSON format 3.1.2, HTTP-RULES D3).
        content_type = "application/json"
        headers.append((b"content-type", b"application/json"))
    return headers, STRICT_JSON_DATA.write_data(data, content_type)
