"""Every manifest kfn generates is admitted by Knative's own webhook code.

Each manifest goes through the oracle's `admit`: decoded as the webhook decodes it
(Eventing strictly), defaulted, then validated on create, with the released config
maps and feature flags in the context. Knative's warnings are reported as pytest
warnings, so they show in the test output without failing it.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from typing import Any

import pytest

from kfn.deploy import knative
from kfn.deploy import settings as settings_module
from kfn.deploy.generate import generate
from kfn.registry import Registry
from kfn.schedule import schedule
from tests.deploy.conftest import IMAGE, example_app_manifests, make_settings
from tests.knative.app_matrix import DECORATOR_OPTIONS, MATRIX, SCALE_KEYS_USED
from tests.knative.oracle_client import Answer, Oracle

Manifest = dict[str, Any]


class KnativeWarning(UserWarning):
    """A warning Knative's validation gives for a manifest kfn generated."""


def _matrix_manifests() -> list[tuple[str, Manifest]]:
    found = []
    for app_name, build in MATRIX.items():
        registry, table = build()
        for manifest in generate(make_settings(**table), registry, image=IMAGE).manifests:
            found.append(
                (f"{app_name}:{manifest['kind']}/{manifest['metadata']['name']}", manifest)
            )
    return found


MATRIX_MANIFESTS = _matrix_manifests()


def admitted(admission: Oracle, manifest: Manifest) -> Answer:
    answer = admission.ask({"manifest": manifest})
    for warning in answer["warnings"]:
        where = ", ".join(warning["paths"])
        warnings.warn(
            KnativeWarning(
                f"{manifest['kind']}/{manifest['metadata']['name']}: {warning['message']}: {where}"
            ),
            stacklevel=2,
        )
    return answer


@pytest.mark.parametrize(
    "manifest", [m for _, m in MATRIX_MANIFESTS], ids=[i for i, _ in MATRIX_MANIFESTS]
)
def test_knative_admits_the_generated_manifest(
    knative_admission: Oracle, manifest: Manifest
) -> None:
    answer = admitted(knative_admission, manifest)
    assert answer["errors"] == [], answer["errors"]
    assert answer["allowed"]


def test_knative_admits_every_manifest_of_the_example_app(knative_admission: Oracle) -> None:
    manifests = example_app_manifests()
    assert {m["kind"] for m in manifests} >= {"Service", "Trigger", "PingSource", "SinkBinding"}
    refused = {
        f"{m['kind']}/{m['metadata']['name']}": answer["errors"]
        for m in manifests
        if (answer := admitted(knative_admission, m))["errors"]
    }
    assert refused == {}


def test_the_matrix_uses_every_decorator_option() -> None:
    declared = {
        "http": set(inspect.signature(Registry.http).parameters) - {"self"},
        "cloudevent": set(inspect.signature(Registry.cloudevent).parameters) - {"self"},
        "schedule": set(inspect.signature(schedule).parameters),
    }
    assert declared == DECORATOR_OPTIONS


def test_the_matrix_uses_every_tool_kfn_key() -> None:
    used: set[str] = set()
    units: set[str] = set()
    for build in MATRIX.values():
        _, table = build()
        used.update(table)
        for unit in table.get("services", {}).values():
            units.update(unit)
    assert used == set(settings_module.APP_KEYS)
    assert units == set(settings_module.UNIT_KEYS)
    assert set(knative.SCALE_KEYS) == SCALE_KEYS_USED


def _trigger() -> Manifest:
    return copy.deepcopy(next(m for _, m in MATRIX_MANIFESTS if m["kind"] == "Trigger"))


def test_knative_refuses_a_cesql_filter_it_cannot_parse(knative_admission: Oracle) -> None:
    trigger = _trigger()
    trigger["spec"]["filters"] = [{"cesql": "5-3 = 2"}]
    answer = knative_admission.ask({"manifest": trigger})
    assert not answer["allowed"]
    assert [e["paths"] for e in answer["errors"]] == [["spec.filters[0].cesql"]]


def test_eventing_decodes_strictly(knative_admission: Oracle) -> None:
    trigger = _trigger()
    trigger["spec"]["bogus"] = True
    answer = knative_admission.ask({"manifest": trigger})
    assert answer["stage"] == "decode"
    assert 'unknown field "bogus"' in answer["errors"][0]["message"]


def test_the_released_feature_flags_are_in_the_context(knative_admission: Oracle) -> None:
    """delivery.timeout is refused unless config-features enables delivery-timeout."""
    trigger = _trigger()
    trigger["spec"]["delivery"] = {"timeout": "PT5S"}
    assert knative_admission.ask({"manifest": trigger})["errors"] == []
