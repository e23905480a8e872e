"""The webhook rule layer (CONTRACT.md 3b-3d): each rule catches a manifest that breaks it.

Every case starts from a valid generated manifest, breaks one rule, and expects that
rule's violation; a last test checks that every declared rule has such a case.
"""

from __future__ import annotations

import pytest

from kfn.deploy import rules
from kfn.deploy.generate import Generation
from tests.deploy import rule_cases
from tests.deploy.rule_cases import AS, CASES, PING, SERVICE, TEMPLATE, Mutation, base, get


@pytest.fixture(scope="module")
def sink() -> Generation:
    return rule_cases.sink()


def test_the_generated_manifests_break_no_rule(sink: Generation) -> None:
    assert rules.check_all(sink.manifests) == []


@pytest.mark.parametrize(("rule", "target", "mutate"), CASES, ids=[case[0] for case in CASES])
def test_a_manifest_breaking_the_rule_is_caught(
    sink: Generation, rule: str, target: tuple[str, str], mutate: Mutation
) -> None:
    manifest = base(sink, *target)
    mutate(manifest)
    violations = rules.check(manifest)
    assert rule in {v.rule for v in violations}, violations
    assert all(v.message for v in violations)


def test_every_rule_has_a_negative_case() -> None:
    assert {case[0] for case in CASES} == set(rules.RULES)


def test_a_violation_reads_as_path_message_and_rule(sink: Generation) -> None:
    manifest = base(sink, *SERVICE)
    manifest["spec"]["template"]["spec"]["containerConcurrency"] = 5000
    assert rules.check_all([manifest]) == [
        "Service/shop: spec.template.spec.containerConcurrency: 5000 must be in 0..1000 "
        "[serving.container-concurrency]"
    ]


def test_aliases_of_autoscaling_annotations_are_checked_too(sink: Generation) -> None:
    manifest = base(sink, *SERVICE)
    get(manifest, TEMPLATE).pop(AS + "min-scale")
    get(manifest, TEMPLATE)[AS + "minScale"] = "-3"
    assert "autoscaling.min-scale" in {v.rule for v in rules.check(manifest)}


def test_json_null_data_passes_as_the_webhook_lets_it(sink: Generation) -> None:
    manifest = base(sink, *PING)
    manifest["spec"]["data"] = "null"
    assert rules.check(manifest) == []


def test_an_unknown_kind_has_no_rules() -> None:
    with pytest.raises(ValueError, match="no webhook rules"):
        rules.check({"apiVersion": "v1", "kind": "ConfigMap"})
