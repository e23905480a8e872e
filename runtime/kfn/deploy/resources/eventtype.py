"""EventTypes for the types the app declares: consumed (exact type filters) and produced.

A function consumes a type when its filters require `type` to equal it exactly; it
produces its `reply_type` and the types in `emits=`. Knative makes an EventType's spec
immutable, so the spec depends on the type and the broker only; which functions
consume or produce it is kept in annotations, which may change.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from kfn.deploy import formats
from kfn.deploy.resources import common
from kfn.deploy.settings import ProjectSettings
from kfn.deploy.units import ServiceUnit

EVENTTYPE_VERSION = "eventing.knative.dev/v1beta3"
CONSUMED_BY = "kfn/consumed-by"
PRODUCED_BY = "kfn/produced-by"


def declared_types(units: Iterable[ServiceUnit]) -> dict[str, tuple[set[str], set[str]]]:
    """type -> (consumers, producers), over every event function of the app."""
    types: dict[str, tuple[set[str], set[str]]] = {}
    for unit in units:
        for function in unit.event_functions:
            for item in function.filter.trigger_items():
                exact = item.get("exact")
                if isinstance(exact, dict) and isinstance(exact.get("type"), str):
                    types.setdefault(exact["type"], (set(), set()))[0].add(function.name)
        for function in [*unit.event_functions, *unit.scheduled_functions]:
            produced = [function.reply_type] if function.reply_type else []
            for event_type in [*produced, *function.emits]:
                types.setdefault(event_type, (set(), set()))[1].add(function.name)
    return types


def build_all(units: Iterable[ServiceUnit], settings: ProjectSettings) -> list[dict[str, Any]]:
    types = declared_types(units)
    names = _names(types, settings)
    return [_build(t, names[t], *types[t], settings) for t in sorted(types)]


def _names(types: Iterable[str], settings: ProjectSettings) -> dict[str, str]:
    """`<app>-<type>` as a DNS label; types that map to the same label get a hash each."""
    plain = {t: formats.dns_name(settings.name, t) for t in types}
    taken = Counter(plain.values())
    names = {}
    for event_type, name in plain.items():
        if taken[name] > 1:
            digest = hashlib.sha256(event_type.encode()).hexdigest()[:8]
            name = f"{formats.dns_name(settings.name, event_type, limit=54)}-{digest}"
        names[event_type] = name
    return names


def _build(
    event_type: str, name: str, consumers: set[str], producers: set[str], settings: ProjectSettings
) -> dict[str, Any]:
    annotations = {}
    if consumers:
        annotations[CONSUMED_BY] = ", ".join(sorted(consumers))
    if producers:
        annotations[PRODUCED_BY] = ", ".join(sorted(producers))
    return {
        "apiVersion": EVENTTYPE_VERSION,
        "kind": "EventType",
        "metadata": common.metadata(name, settings, None, annotations=annotations),
        "spec": {
            "reference": common.broker_ref(settings),
            "description": f"CloudEvents of type {event_type}, declared by the kfn app {settings.name}",
            "attributes": [
                {"name": "type", "value": event_type, "required": True},
                {"name": "source", "required": True},
                {"name": "specversion", "value": "1.0", "required": True},
                {"name": "id", "required": True},
            ],
        },
    }
