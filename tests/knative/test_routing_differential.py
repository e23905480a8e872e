"""Differential routing: kfn's local decision equals Knative's, on generated cases.

Hypothesis draws batches of (filter tree, event) cases (tests/knative/routing_cases.py);
each batch goes to the oracle's `filter` in one pipe trip: the broker's ingress, two
HTTP hops, then Eventing's own `subscriptionsapi` filters on the Trigger spec kfn
writes for the tree. kfn must decide the same on the event the filter saw. Where kfn
refuses a CESQL expression when the decorator runs, Knative must refuse it too (a
parse error at the webhook) or be unable to route with it (a non-boolean root, which
makes Knative's filter panic). Every disagreement found becomes a named case in
test_routing_regressions.py.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfn.filters import AllOf, FilterError
from tests.knative.oracle_client import ARRIVAL, Oracle
from tests.knative.routing_cases import (
    Event,
    Tree,
    attributes_seen,
    build,
    cases,
    cesql_leaves,
)

BATCH = 50
BATCHES = 200
MINIMUM_CASES = 10_000


def disagreements(
    knative_filter: Oracle, knative_cesql: Oracle, batch: list[tuple[Tree, Event]]
) -> list[str]:
    """One line per case where kfn and Knative decide differently."""
    found: list[str] = []
    routed: list[tuple[Tree, Event, AllOf]] = []
    refused: list[tuple[Tree, Event, str]] = []
    for tree, event in batch:
        try:
            routed.append((tree, event, AllOf([build(tree)])))
        except FilterError as error:
            refused.append((tree, event, str(error)))
    answers = knative_filter.ask_all(
        [
            {"trigger": {"filters": f.trigger_items()}, "event": event, "arrival": ARRIVAL}
            for _, event, f in routed
        ]
    )
    for (tree, event, kfn_filter), answer in zip(routed, answers, strict=True):
        verdict = answer["verdict"]
        assert verdict in ("delivered", "filtered", "panic"), (answer, event)
        if verdict == "panic":
            found.append(f"{tree!r} on {event!r}: Knative's filter panics, kfn accepted it")
            continue
        local = kfn_filter.matches(attributes_seen(answer["event"]))
        if local != (verdict == "delivered"):
            found.append(
                f"{tree!r} on {answer['event']!r}: Knative {verdict}, kfn "
                f"{'delivers' if local else 'filters'}"
            )
    found.extend(_refusals_knative_accepts(knative_filter, knative_cesql, refused))
    return found


def _refusals_knative_accepts(
    knative_filter: Oracle, knative_cesql: Oracle, refused: list[tuple[Tree, Event, str]]
) -> list[str]:
    """kfn refused a tree: one of its CESQL leaves must be one Knative cannot route with.

    That is a parse error, or a value that is not a Boolean on the event as the filter
    sees it, given every attribute the expression names (where an attribute is absent
    Knative's filter fails quietly, where it is present it panics; kfn refuses the
    expression outright).
    """
    seen = knative_filter.ask_all(
        [{"trigger": {}, "event": event, "arrival": ARRIVAL} for _, event, _ in refused]
    )
    found = []
    for (tree, _, reason), answer in zip(refused, seen, strict=True):
        leaves = cesql_leaves(tree)
        answers = knative_cesql.ask_all(
            [{"expression": text, "event": _naming(answer["event"], text)} for text in leaves]
        )
        # An error (an attribute still missing) means Knative cannot show a Boolean either.
        if not any(a.get("error") or a.get("type") != "Boolean" for a in answers):
            found.append(f"{tree!r}: kfn refuses ({reason}), Knative routes with it")
    return found


_CONTEXT_ATTRIBUTES = {
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "dataschema",
    "datacontenttype",
}


def _naming(event: Event, expression: str) -> Event:
    """The event with a String value for each attribute the expression names and it lacks."""
    unquoted = re.sub(r"'(?:[^']|'')*'", "", expression)
    names = set(re.findall(r"\b[a-z][a-z0-9]*\b", unquoted))
    return {**{name: "1" for name in names - _CONTEXT_ATTRIBUTES}, **event}


class _Count:
    cases = 0


@settings(
    max_examples=BATCHES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(cases, min_size=BATCH, max_size=BATCH))
def _check_batch(
    knative_filter: Oracle, knative_cesql: Oracle, batch: list[tuple[Tree, Event]]
) -> None:
    _Count.cases += len(batch)
    found = disagreements(knative_filter, knative_cesql, batch)
    assert not found, "\n".join(found)


def test_kfn_routes_like_knative(knative_filter: Oracle, knative_cesql: Oracle) -> None:
    _Count.cases = 0
    _check_batch(knative_filter, knative_cesql)
    assert _Count.cases >= MINIMUM_CASES
