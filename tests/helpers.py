"""Small builders for CloudEvent requests, so tests read as what they send."""

from __future__ import annotations

import json
from typing import Any


def binary_headers(
    type_: str, id_: str = "e-1", source: str = "/tests", **extra: str
) -> dict[str, str]:
    headers = {"ce-specversion": "1.0", "ce-id": id_, "ce-source": source, "ce-type": type_}
    for name, value in extra.items():
        headers[name if name == "content-type" else f"ce-{name}"] = value
    return headers


def structured_body(type_: str, id_: str = "e-1", source: str = "/tests", **fields: Any) -> bytes:
    return json.dumps(
        {"specversion": "1.0", "id": id_, "source": source, "type": type_, **fields}
    ).encode()


STRUCTURED = {"content-type": "application/cloudevents+json"}
BATCH = {"content-type": "application/cloudevents-batch+json"}


def reply_data(response: Any) -> Any:
    """The data of a reply event, whichever content mode it came back in."""
    if response.headers.get("content-type", "").startswith("application/cloudevents+json"):
        return response.json().get("data")
    return response.json()
