"""The admission-webhook rule layer: what Knative rejects that the CRD schemas do not express.

The CRD schemas catch types, required fields and (strictly validated) unknown fields,
nothing else. These rules are the rest, written from Knative's contract; each module
cites where each rule comes from. `kfn manifests` refuses to write a manifest that
breaks one. Every rule has a negative case (tests/deploy/rule_cases.py) that Knative's
own webhook code refuses too, or the rule says why it is stricter. Values the
generator hard-codes are not rules: golden tests pin them.

    violations = check(manifest)      # [] when Knative would accept it
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kfn.deploy.rules import autoscaling, service, sources, trigger
from kfn.deploy.rules._core import RULES, Report, Rule, Violation

__all__ = ["RULES", "Rule", "Violation", "autoscaling", "check", "check_all", "manifest_label"]

_CHECKERS: dict[tuple[str, str], Callable[[Report, Mapping[str, Any]], None]] = {
    ("serving.knative.dev/v1", "Service"): service.check,
    ("eventing.knative.dev/v1", "Trigger"): trigger.check,
    ("sources.knative.dev/v1", "PingSource"): sources.check_pingsource,
    ("sources.knative.dev/v1", "SinkBinding"): sources.check_sinkbinding,
    ("eventing.knative.dev/v1beta3", "EventType"): sources.check_eventtype,
}
KINDS = tuple(_CHECKERS)
"""The (apiVersion, kind) pairs the generator emits and these rules cover."""


def check(manifest: Mapping[str, Any]) -> list[Violation]:
    """Every webhook rule `manifest` breaks (none: Knative would admit it)."""
    key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
    checker = _CHECKERS.get(key)
    if checker is None:
        raise ValueError(f"no webhook rules for {key[0]} {key[1]}")
    report = Report()
    checker(report, manifest)
    return report.violations


def check_all(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    """`Kind/name: path: message [rule]` for every violation in `manifests`."""
    return [f"{manifest_label(m)}: {v}" for m in manifests for v in check(m)]


def manifest_label(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f"{manifest.get('kind')}/{name}"
