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


def counter(metrics: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` with these labels in a /metrics text (0 when none yet)."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += float(sample.value)
    return total


def raw_request(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are to 127.0.0.1:port; the answer, read until the server closes.

    The request should say `Connection: close`, so that the server closes after answering.
    """
    import socket

    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
