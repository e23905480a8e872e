"""Validate manifests against the real Knative CRD schemas, strictly (CONTRACT.md section 4).

The CRD's openAPIV3Schema for the manifest's apiVersion, with:
- `apiVersion`, `kind` and a strict subset of ObjectMeta allowed at the root (the
  eventing CRDs do not declare them; the API server handles them itself);
- `additionalProperties: false` on every object schema that declares properties, is
  not `x-kubernetes-preserve-unknown-fields`, and has no additionalProperties of its
  own: the API server's strict field validation (kubectl's default);
- int32/int64 range checks for those formats.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("anyOf", "allOf", "oneOf")
_SCHEMA_ONE = ("not", "additionalItems")

OBJECT_META: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def strict(schema: Any) -> Any:
    """A copy of `schema` that rejects unknown fields where the API server would."""
    if not isinstance(schema, dict):
        return schema
    result = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(result.get(key), dict):
            result[key] = {name: strict(sub) for name, sub in result[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(result.get(key), list):
            result[key] = [strict(sub) for sub in result[key]]
    for key in _SCHEMA_ONE:
        if isinstance(result.get(key), dict):
            result[key] = strict(result[key])
    if isinstance(result.get("items"), dict):
        result["items"] = strict(result["items"])
    elif isinstance(result.get("items"), list):
        result["items"] = [strict(sub) for sub in result["items"]]
    if isinstance(result.get("additionalProperties"), dict):
        result["additionalProperties"] = strict(result["additionalProperties"])
    if (
        "properties" in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in result
    ):
        result["additionalProperties"] = False
    return result


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    def in_range(bits: int) -> Any:
        def check(value: object) -> bool:
            if not isinstance(value, int) or isinstance(value, bool):
                return True  # the type check reports non-integers
            limit = 1 << (bits - 1)
            return -limit <= value < limit

        return check

    checker.checks("int32")(in_range(32))
    checker.checks("int64")(in_range(64))
    return checker


class CrdValidator:
    """Every CRD under some folders, indexed by (apiVersion, kind)."""

    def __init__(self, folders: list[Path]) -> None:
        self.schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for path in sorted(p for folder in folders for p in folder.rglob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if not document or document.get("kind") != "CustomResourceDefinition":
                    continue
                spec = document["spec"]
                for version in spec["versions"]:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    self.schemas[key] = self._root(version["schema"]["openAPIV3Schema"])
        self.checker = _format_checker()

    @staticmethod
    def _root(schema: dict[str, Any]) -> dict[str, Any]:
        root: dict[str, Any] = strict(copy.deepcopy(schema))
        properties = dict(root.get("properties", {}))
        properties["apiVersion"] = {"type": "string"}
        properties["kind"] = {"type": "string"}
        properties["metadata"] = OBJECT_META
        root["properties"] = properties
        root["additionalProperties"] = False
        root["required"] = sorted({*root.get("required", []), "apiVersion", "kind", "metadata"})
        return root

    def errors(self, manifest: dict[str, Any]) -> list[str]:
        """`path: message` for each schema violation; [] when the manifest is valid."""
        key = (manifest.get("apiVersion"), manifest.get("kind"))
        schema = self.schemas.get(key)  # type: ignore[arg-type]
        if schema is None:
            return [f"no CRD for {key[0]} {key[1]}"]
        validator = jsonschema.Draft4Validator(schema, format_checker=self.checker)
        return sorted(
            f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
            for error in validator.iter_errors(manifest)
        )
