"""The upstream CloudEvents conformance events, sent the way the conformance tool sends them.

Each YAML document becomes an HTTP request (binary: ce- headers and the raw body;
structured: a JSON object with `data` parsed from the YAML), and the mirror
function's reply shows what the host made of it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import Server
from tests.helpers import reply_data
from tests.knative.go import CONFORMANCE as CONFORMANCE_MODULE
from tests.knative.go import module_dir_for_collection

pytestmark = pytest.mark.needs_go

# The events of cloudevents/conformance at the version Knative Eventing pins.
CONFORMANCE = module_dir_for_collection(CONFORMANCE_MODULE)


def _documents(pattern: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if CONFORMANCE is None:
        return found
    for path in sorted((CONFORMANCE / "yaml").glob(pattern)):
        with path.open() as handle:
            for index, doc in enumerate(yaml.load_all(handle, Loader=yaml.BaseLoader)):
                if doc:
                    found.append((f"{path.relative_to(CONFORMANCE)}#{index}", doc))
    return found


V1 = _documents("**/v1*.yaml")
V03 = _documents("**/v03*.yaml")


def test_the_conformance_files_are_there() -> None:
    assert len(V1) >= 8 and len(V03) >= 3, f"conformance events missing under {CONFORMANCE}"


def to_request(doc: dict[str, Any]) -> tuple[dict[str, str], bytes, dict[str, str]]:
    """(headers, body, expected attributes) as the conformance tool would send them."""
    attributes = {k: v.strip() for k, v in doc["ContextAttributes"].items() if k != "Extensions"}
    extensions = {
        k.strip(): v.strip() for k, v in (doc["ContextAttributes"].get("Extensions") or {}).items()
    }
    attributes = {k: v for k, v in attributes.items() if v}
    extensions = {k: v for k, v in extensions.items() if v}
    headers = {k: v.strip() for k, v in (doc.get("TransportExtensions") or {}).items()}
    data: str = doc.get("Data", "")
    if doc.get("Mode", "binary") == "structured":
        document: dict[str, Any] = {**attributes, **extensions}
        if data:
            document["data"] = json.loads(data)
        headers["content-type"] = "application/cloudevents+json; charset=UTF-8"
        return headers, json.dumps(document).encode(), {**attributes, **extensions}
    for name, value in {**attributes, **extensions}.items():
        if name == "datacontenttype":
            headers["content-type"] = value
        else:
            headers[f"ce-{name}"] = value
    return headers, data.encode(), {**attributes, **extensions}


@pytest.mark.parametrize("doc", [d for _, d in V1], ids=[i for i, _ in V1])
def test_every_v1_conformance_event_is_received_correctly(
    mirror_server: Server, doc: dict[str, Any]
) -> None:
    headers, body, expected = to_request(doc)
    response = httpx.post(mirror_server.url + "/", headers=headers, content=body)
    assert response.status_code == 200, response.text
    seen = reply_data(response)
    assert seen["attributes"] == expected
    assert "user-agent" not in seen["attributes"]  # transport headers are not attributes
    data = doc.get("Data", "")
    content_type = expected.get("datacontenttype", "application/json")
    if doc.get("Mode") == "structured" or "json" in content_type:
        assert seen["data"] == json.loads(data)
    elif content_type.startswith("text/"):
        assert seen["data"] == data  # text: decoded, the trailing newline kept
    else:
        assert seen["data_type"] == "bytes"  # anything else: the body, byte for byte
        assert base64.b64decode(seen["data"]) == data.encode()


@pytest.mark.parametrize("doc", [d for _, d in V03], ids=[i for i, _ in V03])
def test_v03_events_are_rejected_clearly(mirror_server: Server, doc: dict[str, Any]) -> None:
    headers, body, _ = to_request(doc)
    response = httpx.post(mirror_server.url + "/", headers=headers, content=body)
    assert response.status_code == 400
    assert response.json()["type"].endswith(":unsupported-specversion")
    assert "1.0" in response.json()["detail"]


def _feature_requests() -> list[tuple[str, str, bytes]]:
    """The raw HTTP requests of the Gherkin feature file, with their Content-Type filled in."""
    requests: list[tuple[str, str, bytes]] = []
    if CONFORMANCE is None:
        return requests
    text = (CONFORMANCE / "features" / "http-protocol-binding.feature").read_text()
    for scenario in text.split("Scenario Outline:")[1:]:
        raw = scenario.split('"""')[1]
        examples = scenario.split("Examples:")[1].strip().splitlines()[2:]
        for row in examples:
            content_type = row.strip().strip("|").strip()
            requests.append((scenario.splitlines()[0].strip(), content_type, raw.encode()))
    return requests


@pytest.mark.parametrize(("scenario", "content_type", "raw"), _feature_requests())
def test_the_feature_file_scenarios(
    mirror_server: Server, scenario: str, content_type: str, raw: bytes
) -> None:
    lines = [line.strip() for line in raw.decode().strip().splitlines()]
    blank = lines.index("")
    headers = dict(line.split(": ", 1) for line in lines[1:blank])
    headers["Content-Type"] = headers["Content-Type"].replace("<contentType>", content_type)
    headers.pop("Content-Length")
    headers.pop("Host")
    body = "\n".join(lines[blank + 1 :]).encode()
    response = httpx.post(mirror_server.url + "/", headers=headers, content=body)
    assert response.status_code == 200, response.text
    seen = reply_data(response)
    assert seen["attributes"]["id"] == "1234-1234-1234"
    assert seen["attributes"]["time"] == "2018-04-05T03:56:24Z"
    expected_type = content_type if "Binary" in scenario else "application/json"
    assert seen["attributes"]["datacontenttype"] == expected_type
    assert seen["data"] == {"message": "Hello World!"}
