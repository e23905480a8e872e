"""The CloudEvents SQL TCK, every case of every file, through kfn._cesql and Knative's engine.

The TCK comes from cloudevents sdk-go's sql/v2 module at the version Knative Eventing
pins (`go mod download`, tests/knative/go.py). Each case runs through kfn and through
sdk-go sql/v2 (the oracle's `cesql`); kfn must give Knative's answer. That sdk-go
gives the TCK's own answer is checked too, so the harness itself is tested.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kfn._cesql import CesqlSyntaxError, compile_expression
from tests.knative.go import CESQL, module_dir_for_collection
from tests.knative.oracle_client import Answer, Oracle

pytestmark = pytest.mark.needs_go

SQL_MODULE = module_dir_for_collection(CESQL)
TCK = SQL_MODULE / "test" / "tck" if SQL_MODULE is not None else None

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
    if TCK is None:
        return []  # no Go: the module's tests are left out (tests/knative/fixtures.py)
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


def _event(case: dict[str, Any]) -> dict[str, Any]:
    event = dict(case["event"]) if case.get("event") is not None else dict(BASE_EVENT)
    event.update(case.get("eventOverrides") or {})
    return event


def _type_name(value: object) -> str | None:
    # type first: True == 1 in Python, but a Boolean is not an Integer in CESQL
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, str):
        return "String"
    return None


def kfn_answer(expression: str, event: dict[str, Any]) -> Answer:
    """kfn's answer in the oracle's shape: value and type, or the first error's kind."""
    try:
        compiled = compile_expression(expression)
    except CesqlSyntaxError:
        return {"value": None, "error": "parse"}
    result = compiled.evaluate(event)
    answer: Answer = {"value": result.value, "type": _type_name(result.value)}
    if result.errors:
        answer["error"] = str(result.errors[0].kind)
    return answer


def knative_answer(answer: Answer) -> Answer:
    """The oracle's answer without its message; no value on a parse error."""
    if answer.get("error") == "parse":
        return {"value": None, "error": "parse"}
    shaped: Answer = {"value": answer.get("value"), "type": answer.get("type")}
    if "error" in answer:
        shaped["error"] = answer["error"]
    return shaped


@pytest.fixture(scope="module")
def knative_answers(knative_cesql: Oracle) -> dict[int, Answer]:
    """sdk-go's answer to every case, by the case's identity (TCK names repeat)."""
    cases = [p.values[0] for p in CASES]
    answers = knative_cesql.ask_all(
        [{"expression": case["expression"], "event": _event(case)} for case in cases]
    )
    return {id(case): knative_answer(a) for case, a in zip(cases, answers, strict=True)}


def test_every_tck_file_contributes_cases() -> None:
    assert TCK is not None
    files = {path.stem for path in TCK.glob("*.yaml")}
    covered = {str(case.id).split(":", 1)[0] for case in CASES}
    assert covered == files


@pytest.mark.parametrize("case", CASES)
def test_knative_gives_the_tck_answer(
    case: dict[str, Any], knative_answers: dict[int, Answer]
) -> None:
    answer = knative_answers[id(case)]
    assert answer.get("error") == case.get("error"), answer
    if "result" in case and case.get("error") != "parse":
        assert (answer["value"], answer["type"]) == (case["result"], _type_name(case["result"]))


@pytest.mark.parametrize("case", CASES)
def test_kfn_gives_knatives_answer(
    case: dict[str, Any], knative_answers: dict[int, Answer]
) -> None:
    expected = knative_answers[id(case)]
    assert kfn_answer(case["expression"], _event(case)) == expected
