"""The rule layer agrees with Knative: every manifest a rule refuses, Knative refuses too.

Each negative case of the rule tests (tests/deploy/rule_cases.py) goes through the
oracle's `admit` and the strict CRD schemas of the same release, which together are
what the API server applies. A rule that is deliberately stricter than Knative is
listed in STRICTER with the reason; the listing is checked both ways, so a rule
Knative starts to enforce leaves the list.
"""

from __future__ import annotations

from typing import Any

import pytest

from kfn.deploy.generate import Generation
from tests.deploy import rule_cases
from tests.deploy.crd_validation import CrdValidator
from tests.deploy.rule_cases import CASES, Mutation, base
from tests.knative.oracle_client import Oracle

STRICTER: dict[str, str] = {
    "metadata.name-dns1123": (
        "the API server checks object names itself, before any webhook: a name it would "
        "refuse is reported by kfn manifests, not by kubectl apply"
    ),
    "metadata.name-required": "as above: the API server, not a webhook, requires a name",
    "trigger.filters-empty": (
        "Knative admits an empty filter value and then matches every event with it; kfn "
        "refuses one when the decorator runs"
    ),
}
"""Rules that refuse what Knative admits, with the reason kfn refuses it anyway."""


@pytest.fixture(scope="module")
def sink() -> Generation:
    return rule_cases.sink()


def refusals(admission: Oracle, crds: CrdValidator, manifest: dict[str, Any]) -> list[str]:
    """What the API server would answer: CRD schema errors, then the webhooks' errors."""
    schema = crds.errors(manifest)
    answer = admission.ask({"manifest": manifest})
    webhook = [f"{', '.join(e['paths'])}: {e['message']}" for e in answer["errors"]]
    return schema + webhook


@pytest.mark.parametrize(("rule", "target", "mutate"), CASES, ids=[case[0] for case in CASES])
def test_knative_refuses_what_the_rule_refuses(
    knative_admission: Oracle,
    crds: CrdValidator,
    sink: Generation,
    rule: str,
    target: tuple[str, str],
    mutate: Mutation,
) -> None:
    manifest = base(sink, *target)
    mutate(manifest)
    refused = refusals(knative_admission, crds, manifest)
    if rule in STRICTER:
        assert refused == [], f"Knative now refuses it too; drop {rule} from STRICTER"
    else:
        assert refused, f"Knative admits the manifest {rule} refuses"
