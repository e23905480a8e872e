"""Metadata, references and destinations shared by the builders."""

from __future__ import annotations

from typing import Any

from kfn.deploy.settings import Destination, ProjectSettings
from kfn.registry import FunctionSpec

SERVING_V1 = "serving.knative.dev/v1"
EVENTING_V1 = "eventing.knative.dev/v1"
SOURCES_V1 = "sources.knative.dev/v1"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
NAME = "app.kubernetes.io/name"
FUNCTION_ANNOTATION = "kfn/function"


def labels(settings: ProjectSettings, unit: str | None) -> dict[str, str]:
    """The labels every generated object carries; `kfn deploy --prune` selects on them."""
    result = {}
    if unit is not None:
        result[NAME] = unit
    result[PART_OF] = settings.name
    result[MANAGED_BY] = "kfn"
    return result


def metadata(
    name: str,
    settings: ProjectSettings,
    unit: str | None,
    annotations: dict[str, str] | None = None,
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name, "namespace": settings.namespace}
    result["labels"] = {**labels(settings, unit), **(extra_labels or {})}
    if annotations:
        result["annotations"] = annotations
    return result


def service_ref(unit: str) -> dict[str, str]:
    """A reference to a unit's Knative Service; its namespace defaults to the referrer's."""
    return {"apiVersion": SERVING_V1, "kind": "Service", "name": unit}


def broker_ref(settings: ProjectSettings) -> dict[str, str]:
    return {"apiVersion": EVENTING_V1, "kind": "Broker", "name": settings.broker}


def function_endpoint(
    unit: str, function: FunctionSpec, settings: ProjectSettings
) -> dict[str, Any]:
    """A Destination to one function's own endpoint: its Service plus `/events/<name>`.

    With sender identity on it names the Service's OIDC audience, the one its host
    checks, so Eventing requests a token for it (a Knative Service publishes none).
    """
    endpoint: dict[str, Any] = {"ref": service_ref(unit), "uri": f"/events/{function.name}"}
    if settings.sender_identity:
        endpoint["audience"] = audience(settings, unit)
    return endpoint


def audience(settings: ProjectSettings, unit: str) -> str:
    """The OIDC audience of a unit's Service in Knative's format: <group>/<kind>/<namespace>/<name>."""
    return f"serving.knative.dev/service/{settings.namespace}/{unit}".lower()


def destination(target: Destination) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if target.kind is not None:
        result["ref"] = {"apiVersion": target.api_version, "kind": target.kind, "name": target.name}
    if target.uri is not None:
        result["uri"] = target.uri
    return result
