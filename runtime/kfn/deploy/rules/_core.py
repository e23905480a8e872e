"""Rules and violations: the vocabulary of the webhook rule layer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """One admission-webhook rule, named so a test can prove it is enforced."""

    id: str
    summary: str


RULES: dict[str, Rule] = {}
"""Every rule, by id; each has a negative test in tests/deploy/test_webhook_rules.py."""


def rule(rule_id: str, summary: str) -> Rule:
    """Declare a rule (once, at import)."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id!r} is declared twice")
    RULES[rule_id] = declared = Rule(rule_id, summary)
    return declared


@dataclass(frozen=True)
class Violation:
    """A manifest breaks a rule at `path` (dotted, as kubectl reports field paths)."""

    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message} [{self.rule}]"


class Report:
    """Collects the violations of one manifest."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, broken: Rule, path: str, message: str) -> None:
        self.violations.append(Violation(broken.id, path, message))

    def extend(self, violations: list[Violation]) -> None:
        self.violations.extend(violations)


def join(path: str, key: str | int) -> str:
    """`spec` + `template` -> `spec.template`; list indexes as `[0]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one (the schema layer reports wrong types)."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> Iterator[tuple[int, Any]]:
    """The items of a list with their indexes; nothing for a non-list."""
    if isinstance(value, list):
        yield from enumerate(value)
