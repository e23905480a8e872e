"""Deterministic YAML: a stable key order, no timestamps, no anchors, so diffs review well.

PyYAML is an optional dependency (the `deploy` extra); it is imported here, only when
something is rendered, so the serving path never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kfn.deploy.errors import DeployError

TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec")
METADATA = ("name", "namespace", "labels", "annotations")


def header(*lines: str) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in lines)


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - the deploy extra is part of dev
        raise DeployError(
            "PyYAML is needed to write manifests: pip install 'kfn-host[deploy]'"
        ) from None
    return yaml


def ordered(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with its top level and metadata in Kubernetes' usual order.

    The builders already insert keys in manifest order; this makes the order of the
    parts every manifest shares explicit instead of an accident of construction.
    """
    result = {key: manifest[key] for key in TOP_LEVEL if key in manifest}
    result.update({k: v for k, v in manifest.items() if k not in result})
    metadata = result.get("metadata")
    if isinstance(metadata, Mapping):
        meta = {key: metadata[key] for key in METADATA if key in metadata}
        meta.update({k: v for k, v in metadata.items() if k not in meta})
        result["metadata"] = meta
    return result


def _dumper() -> Any:
    yaml = _yaml()

    class Dumper(yaml.SafeDumper):  # type: ignore[name-defined,misc]
        """Safe YAML that never writes anchors: every manifest reads on its own."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    return Dumper


_OPTIONS: dict[str, Any] = {
    "sort_keys": False,
    "default_flow_style": False,
    "allow_unicode": True,
    "width": 4096,
}


def dump(documents: Iterable[Mapping[str, Any]]) -> str:
    """Documents as one YAML stream, each starting with `---`."""
    documents = [ordered(d) for d in documents]
    text: str = _yaml().dump_all(documents, Dumper=_dumper(), explicit_start=True, **_OPTIONS)
    return text


def dump_one(document: Mapping[str, Any]) -> str:
    """One document, without the `---` start marker."""
    text: str = _yaml().dump(dict(document), Dumper=_dumper(), **_OPTIONS)
    return text


def load_all(text: str) -> list[Any]:
    """Parse a YAML stream back (tests, `kfn deploy --dry-run` checks)."""
    return [d for d in _yaml().safe_load_all(text) if d is not None]
