"""Named routing cases: disagreements the differential suite found, and the issue's own.

Each case runs through Knative's code (the oracle) and through kfn, so a regression in
either engine, or in the oracle, shows here by name.
"""

from __future__ import annotations

from typing import Any

import pytest

from kfn.filters import AllOf, Filter, FilterError, cesql, exact, prefix
from tests.knative.oracle_client import ARRIVAL, Oracle
from tests.knative.routing_cases import attributes_seen

EVENT: dict[str, Any] = {"specversion": "1.0", "id": "1", "source": "/orders", "type": "t"}

ROUTED: dict[str, tuple[Filter, dict[str, Any], str]] = {
    "and-or-share-one-level-right-associative": (cesql("FALSE AND FALSE OR TRUE"), {}, "filtered"),
    "or-before-and-matches-tier-a-anywhere": (
        cesql("tier = 'a' OR tier = 'b' AND region = 'x'"),
        {"tier": "a", "region": "y"},
        "delivered",
    ),
    "is-bool-on-a-string-extension": (cesql("IS_BOOL(flag)"), {"flag": True}, "delivered"),
    "not-of-an-integer-casts-it": (cesql("NOT 0"), {}, "delivered"),
    "int32-division-truncates-toward-zero": (cesql("-7 / 2 = -3"), {}, "delivered"),
    "an-absent-time-is-the-zero-time-to-prefix": (prefix(time="0001"), {}, "delivered"),
    "datamediatype-is-derived-from-datacontenttype": (
        exact(datamediatype="application/json"),
        {"datacontenttype": "application/json; charset=utf-8"},
        "delivered",
    ),
    "a-boolean-extension-arrives-as-text": (exact(flag="true"), {"flag": True}, "delivered"),
}


@pytest.mark.parametrize(("name"), list(ROUTED))
def test_kfn_and_knative_route_the_case_alike(knative_filter: Oracle, name: str) -> None:
    kfn_filter, attributes, knative = ROUTED[name]
    whole = AllOf([kfn_filter])
    answer = knative_filter.ask(
        {
            "trigger": {"filters": whole.trigger_items()},
            "event": {**EVENT, **attributes},
            "arrival": ARRIVAL,
        }
    )
    assert answer["verdict"] == knative
    assert whole.matches(attributes_seen(answer["event"])) is (knative == "delivered")


def test_a_bare_attribute_root_panics_knative_and_kfn_refuses_it(knative_filter: Oracle) -> None:
    """Found by the differential suite: Knative's filter panics on a non-Boolean root."""
    answer = knative_filter.ask(
        {"trigger": {"filters": [{"cesql": "count"}]}, "event": {**EVENT, "count": True}}
    )
    assert answer["verdict"] == "panic"
    with pytest.raises(FilterError, match="not a Boolean"):
        cesql("count")


def test_a_dangling_comparison_is_refused_by_both(knative_cesql: Oracle) -> None:
    """Found by the differential suite: sdk-go's parser panics on it; the webhook refuses."""
    assert knative_cesql.ask({"expression": "type = "})["error"] == "parse"
    with pytest.raises(FilterError):
        cesql("type = ")


def test_a_signed_literal_after_an_operand_is_refused_by_both(knative_cesql: Oracle) -> None:
    assert knative_cesql.ask({"expression": "5-3 = 2"})["error"] == "parse"
    with pytest.raises(FilterError):
        cesql("5-3 = 2")
