"""Every manifest the generator can emit is valid against the real Knative CRDs, strictly."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kfn.deploy.generate import generate
from kfn.deploy.rules import KINDS
from tests.deploy.conftest import IMAGE, example_app_manifests, kitchen_sink, make_settings
from tests.deploy.crd_validation import CrdValidator


def _kitchen_sink_manifests() -> list[dict[str, Any]]:
    app, table = kitchen_sink()
    return generate(make_settings(**table), app, image=IMAGE).manifests


KITCHEN_SINK = _kitchen_sink_manifests()


def test_the_kitchen_sink_covers_every_kind_the_generator_emits() -> None:
    assert {(m["apiVersion"], m["kind"]) for m in KITCHEN_SINK} == set(KINDS)


@pytest.mark.parametrize(
    "manifest", KITCHEN_SINK, ids=[f"{m['kind']}/{m['metadata']['name']}" for m in KITCHEN_SINK]
)
def test_kitchen_sink_manifest_matches_its_crd(
    crds: CrdValidator, manifest: dict[str, Any]
) -> None:
    assert crds.errors(manifest) == []


def test_the_example_app_manifests_match_their_crds(crds: CrdValidator) -> None:
    manifests = example_app_manifests()
    assert manifests
    for manifest in manifests:
        assert crds.errors(manifest) == [], manifest["metadata"]["name"]


def _service() -> dict[str, Any]:
    return copy.deepcopy(next(m for m in KITCHEN_SINK if m["kind"] == "Service"))


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = manifest["spec"]["template"]["spec"]["containers"][0]
    return container


def test_strict_validation_rejects_an_unknown_podspec_field(crds: CrdValidator) -> None:
    manifest = _service()
    manifest["spec"]["template"]["spec"]["bogusField"] = True
    assert any("'bogusField' was unexpected" in e for e in crds.errors(manifest))


def test_strict_validation_rejects_a_field_knative_never_allows(crds: CrdValidator) -> None:
    manifest = _service()
    _container(manifest)["lifecycle"] = {"preStop": {"exec": {"command": ["true"]}}}
    assert any("'lifecycle' was unexpected" in e for e in crds.errors(manifest))


def test_types_and_int32_ranges_are_checked(crds: CrdValidator) -> None:
    manifest = _service()
    _container(manifest)["ports"][0]["containerPort"] = "8080"
    assert any("'8080' is not of type 'integer'" in e for e in crds.errors(manifest))
    _container(manifest)["ports"][0]["containerPort"] = 2**40
    assert any("int32" in e for e in crds.errors(manifest))


def test_the_root_allows_only_apiversion_kind_metadata_spec_and_status(
    crds: CrdValidator,
) -> None:
    manifest = copy.deepcopy(next(m for m in KITCHEN_SINK if m["kind"] == "PingSource"))
    manifest["extra"] = 1
    manifest["metadata"]["labelz"] = {}
    manifest["spec"]["bogus"] = True
    errors = crds.errors(manifest)
    assert any("'extra' was unexpected" in e for e in errors)
    assert any("'labelz' was unexpected" in e for e in errors)
    assert any("'bogus' was unexpected" in e for e in errors)


def test_preserve_unknown_fields_stay_open_as_the_api_server_keeps_them(
    crds: CrdValidator,
) -> None:
    """Trigger `spec` is preserve-unknown: only the rule layer can catch what is wrong there."""
    manifest = copy.deepcopy(next(m for m in KITCHEN_SINK if m["kind"] == "Trigger"))
    manifest["spec"]["bogusSpecField"] = True
    assert crds.errors(manifest) == []


def test_a_kind_without_a_crd_is_reported(crds: CrdValidator) -> None:
    assert crds.errors({"apiVersion": "v1", "kind": "ConfigMap"}) == ["no CRD for v1 ConfigMap"]
