"""Routing cases for the differential suite: an event and a Trigger filter tree made for it.

Filters are drawn from the event they will see, so most of them are near misses: the
event's own value, a strict prefix or suffix of it, its case changed, one character
more, or an attribute the event does not have. CESQL leaves mix precedence (AND, OR,
XOR without parentheses), casts, integer arithmetic and the string functions.

Hypothesis draws one seed per case and the case is built from it here: ten thousand
cases a run stay within seconds, and a failing seed replays exactly. A tree is
neutral data, ("exact", {name: value}), ("cesql", text), ("all", [..]), ("any", [..]),
("not", child), so a case prints as the Python literal a regression test can hold.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from kfn.filters import Filter, all_of, any_of, cesql, exact, not_, prefix, suffix

Tree = tuple[Any, ...]
Event = dict[str, Any]

EXTENSIONS = ("region", "tier", "myext", "count", "flag")
ABSENT = ("missing", "datamediatype", "schemaurl", "knativearrivaltime", "knativebrokerttl")
CONTEXT = ("type", "source", "subject", "id", "time", "dataschema", "datacontenttype")
_WORD_LETTERS = "abcxyzAB019.-/"
_TIMES = (
    "2026-01-02T03:04:05Z",
    "2026-01-02T03:04:05.5+02:00",
    "2026-01-02T03:04:05.123456789-05:30",
    "2026-12-31T23:59:59.000Z",
)
_CONTENT_TYPES = ("application/json", "text/plain; charset=utf-8", "application/xml")

ATOMS = (
    "{name} = {value}",
    "{name} <> {value}",
    "{name} LIKE {starts}",
    "{name} LIKE {ends}",
    "{name} LIKE {one}",
    "{name} NOT LIKE {starts}",
    "EXISTS {name}",
    "NOT EXISTS {name}",
    "{name} IN ({value}, 'zz')",
    "LENGTH({name}) > {number}",
    "UPPER({name}) = {upper}",
    "LOWER({name}) = {lower}",
    "{name} = {number}",
    "{name} > {number}",
    "INT({name}) = {number}",
    "BOOL({name})",
    "IS_INT({name})",
    "IS_BOOL({name})",
    "{number} + 3 = {plus}",
    "{number} / 2 = {half}",
    "{number} % 2 = {modulo}",
    "{number} * 2147483647 > 0",
    "NOT {number}",
    "TRUE",
    "FALSE",
)
UNROUTABLE = (
    "{name}",
    "LENGTH({name})",
    "{number}-3 = {number}",
    "CONCAT({name}, 'x')",
    "{name} = ",
    "{name} LIKE 5",
)
"""Roots Knative cannot route with: not Boolean (its filter panics) or not parsing."""
COMBINATIONS = (
    "{0} AND {1}",
    "{0} OR {1}",
    "{0} XOR {1}",
    "NOT ({0})",
    "({0}) AND ({1})",
    "{0} OR {1} AND {2}",
    "{0} AND {1} OR {2}",
    "{0} XOR {1} AND {2}",
)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class CaseMaker:
    """Builds one case from a seeded random source."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def word(self) -> str:
        return "".join(self.random.choices(_WORD_LETTERS, k=self.random.randint(1, 6)))

    def extension_value(self) -> Any:
        kind = self.random.randrange(4)
        if kind == 0:
            return self.random.randint(-20, 20)
        if kind == 1:
            return self.random.random() < 0.5
        if kind == 2:
            return self.random.choice(["10", "-3", "true"])
        return self.word()

    def event(self) -> Event:
        chance = self.random.random
        event: Event = {
            "specversion": "1.0",
            "id": self.word(),
            "source": self.random.choice(["/orders", "/orders/eu", "urn:shop", "/a"]),
            "type": self.random.choice(
                ["com.example.order.created", "com.example.order", "com.Example.x", "a.b"]
            ),
        }
        if chance() < 0.5:
            event["subject"] = self.word()
        if chance() < 0.5:
            event["time"] = self.random.choice(_TIMES)
        if chance() < 0.3:
            event["dataschema"] = self.random.choice(["https://schemas.example/order", "urn:x"])
        if chance() < 0.5:
            event["datacontenttype"] = self.random.choice(_CONTENT_TYPES)
        for name in EXTENSIONS:
            if chance() < 0.35:
                event[name] = self.extension_value()
        if "json" in event.get("datacontenttype", "json") and chance() < 0.5:
            event["data"] = {"n": self.random.randint(0, 5)}
        return event

    def pick(self, event: Event) -> tuple[str, str]:
        """An attribute name (mostly one the event has) and a near-miss value for it."""
        present = [name for name in event if name not in ("data", "specversion")]
        if self.random.random() < 0.75:
            name = self.random.choice(present)
        else:
            name = self.random.choice(ABSENT + EXTENSIONS + CONTEXT)
        value = _text(event[name]) if name in event else self.absent_value(name, event)
        cut = self.random.randint(1, len(value) - 1) if len(value) > 1 else 0
        near = self.random.choice(
            [
                value,
                value,
                value.swapcase(),
                value + "x",
                value[:cut] if cut else value,
                value[cut:] if cut else value,
                self.word(),
            ]
        )
        return name, near or value

    def absent_value(self, name: str, event: Event) -> str:
        """For an attribute the event lacks: what Knative's lookup yields for it, or a word.

        Knative's exact/prefix/suffix find `time`, `datamediatype` and `schemaurl` on every
        event (the zero time, the media type of datacontenttype, dataschema).
        """
        derived = {
            "time": "0001-01-01T00:00:00Z",
            "datamediatype": str(event.get("datacontenttype", "x")).split(";")[0],
            "schemaurl": str(event.get("dataschema", "x")),
        }
        if name in derived and self.random.random() < 0.6:
            return derived[name] or self.word()
        return self.word()

    def atom(self, event: Event, templates: tuple[str, ...] = ATOMS) -> str:
        name, near = self.pick(event)
        number = self.random.randint(-9, 12)
        return self.random.choice(templates).format(
            name=name,
            value=_quote(near),
            starts=_quote(near[: max(1, len(near) - 1)] + "%"),
            ends=_quote("%" + near[1:]),
            one=_quote("_" + near[1:]),
            upper=_quote(near.upper()),
            lower=_quote(near.lower()),
            number=number,
            plus=number + 3,
            half=int(number / 2),
            modulo=number % 2,
        )

    def expression(self, event: Event, depth: int = 0) -> str:
        if depth >= 2 or self.random.random() < 0.4:
            return self.atom(event)
        parts = [self.expression(event, depth + 1) for _ in range(3)]
        return self.random.choice(COMBINATIONS).format(*parts)

    def tree(self, event: Event, depth: int = 0) -> Tree:
        roll = self.random.random()
        if depth < 2 and roll < 0.3:
            kind = self.random.choice(["all", "any"])
            return (kind, [self.tree(event, depth + 1) for _ in range(self.random.randint(1, 3))])
        if depth < 2 and roll < 0.4:
            return ("not", self.tree(event, depth + 1))
        if roll < 0.7:
            dialect = self.random.choice(["exact", "prefix", "suffix"])
            return (dialect, dict(self.pick(event) for _ in range(self.random.randint(1, 2))))
        if self.random.random() < 0.05:
            return ("cesql", self.atom(event, UNROUTABLE))
        return ("cesql", self.expression(event))


def case_from_seed(seed: int) -> tuple[Tree, Event]:
    maker = CaseMaker(seed)
    event = maker.event()
    return maker.tree(event), event


cases = st.integers(0, 2**63 - 1).map(case_from_seed)
"""(tree, event): a filter tree drawn for the event it will see."""


def build(tree: Tree) -> Filter:
    """kfn's filter for a tree; raises FilterError where kfn refuses it."""
    kind = tree[0]
    if kind == "exact":
        return exact(**tree[1])
    if kind == "prefix":
        return prefix(**tree[1])
    if kind == "suffix":
        return suffix(**tree[1])
    if kind == "cesql":
        return cesql(tree[1])
    if kind == "not":
        return not_(build(tree[1]))
    children = [build(child) for child in tree[1]]
    return all_of(*children) if kind == "all" else any_of(*children)


def cesql_leaves(tree: Tree) -> list[str]:
    if tree[0] == "cesql":
        return [tree[1]]
    if tree[0] == "not":
        return cesql_leaves(tree[1])
    if tree[0] in ("all", "any"):
        return [text for child in tree[1] for text in cesql_leaves(child)]
    return []


def attributes_seen(delivered: Event) -> dict[str, Any]:
    """The attributes of the event as the Trigger's filter saw it (no data)."""
    return {k: v for k, v in delivered.items() if k not in ("data", "data_base64")}
