"""The CloudEvents SQL TCK, every case of every file, run against kfn._cesql.

The TCK lives beside the repository (``<repo>/../shared/cloudevents/cesql/tck``), as it
does in CI; if it is missing this module fails instead of quietly testing nothing.
kfn gives Knative's answers (cloudevents sdk-go ``sql/v2``); where sdk-go's own copy
of the TCK expects something else than this one, ``KNATIVE_ANSWERS`` holds sdk-go's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kfn._cesql import CesqlSyntaxError, compile_expression

TCK = Path(__file__).resolve().parents[3] / "shared" / "cloudevents" / "cesql" / "tck"

# Any valid event: the four REQUIRED attributes and nothing else, so a case's
# eventOverrides are the only optional attributes present.
BASE_EVENT = {
    "specversion": "1.0",
    "id": "tck-id",
    "source": "/tck/source",
    "type": "io.cloudevents.tck",
}


class _TckLoader(yaml.SafeLoader):
    """YAML as the TCK means it: JSON-like values, and expressions exactly as written.

    Without this, YAML 1.1 would turn ``expression: TRUE`` into a bool (losing the
    casing the case-sensitivity cases test) and ``time: 2018-04-26T14:48:09+02:00``
    into a datetime, where the TCK's events are JSON and carry the text.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        for key, value in node.value:
            if key.value == "expression" and isinstance(value, yaml.ScalarNode):
                mapping["expression"] = value.value
        return mapping


_TckLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _cases() -> list[Any]:
    files = sorted(TCK.glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"the CESQL TCK is missing: no *.yaml in {TCK}")
    params = []
    for path in files:
        suite = yaml.load(path.read_text(encoding="utf-8"), Loader=_TckLoader)
        for case in suite["tests"]:
            params.append(pytest.param(case, id=f"{path.stem}:{case['name']}"))
    return params


CASES = _cases()

KNATIVE_ANSWERS: dict[str, dict[str, Any]] = {
    # sdk-go casts an Integer to a Boolean (0 is false, else true), so NOT 10 is NOT TRUE.
    "not_operator:Invalid int cast": {"result": False},
}


def _event(case: dict[str, Any]) -> dict[str, Any]:
    event = dict(case["event"]) if case.get("event") is not None else dict(BASE_EVENT)
    event.update(case.get("eventOverrides") or {})
    return event


def _same(actual: object, expected: object) -> bool:
    # type first: True == 1 in Python, but a Boolean is not an Integer in CESQL
    return type(actual) is type(expected) and actual == expected


def test_every_tck_file_contributes_cases() -> None:
    files = {path.stem for path in TCK.glob("*.yaml")}
    covered = {str(case.id).split(":", 1)[0] for case in CASES}
    assert covered == files


@pytest.mark.parametrize("case", CASES)
def test_tck(case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    override = KNATIVE_ANSWERS.get(request.node.callspec.id)
    if override is not None:
        case = {key: value for key, value in case.items() if key not in ("result", "error")}
        case.update(override)
    expected_error = case.get("error")
    try:
        expression = compile_expression(case["expression"])
    except CesqlSyntaxError as error:
        assert expected_error == "parse", f"unexpected syntax error: {error}"
        return
    assert expected_error != "parse", "expected a syntax error, but it compiled"

    result = expression.evaluate(_event(case))

    if expected_error is None:
        assert result.errors == []
    else:
        assert result.errors, f"expected a {expected_error} error, got none"
        assert {error.kind for error in result.errors} == {expected_error}, result.errors
    if "result" in case:
        assert _same(result.value, case["result"]), (
            f"got {result.value!r}, expected {case['result']!r}"
        )
