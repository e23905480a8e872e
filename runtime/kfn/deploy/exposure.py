"""What each generated Service exposes: reachable from where, events accepted from where.

`kfn manifests` prints one line per Service, so the reach of the event endpoints is
read off the command's output instead of worked out from the YAML.
"""

from __future__ import annotations

from kfn.deploy.resources import common
from kfn.deploy.types import ProjectSettings
from kfn.deploy.units import EVENTS_SUFFIX, ServiceUnit


def line(unit: ServiceUnit, settings: ProjectSettings) -> str:
    """`<service>: public|cluster-local; events ...` for one Service."""
    reach = "public" if unit.public else "cluster-local"
    if not unit.takes_events:
        events = f"takes no events (403); its event functions run in {unit.name}{EVENTS_SUFFIX}"
    elif settings.sender_identity:
        events = (
            "events only with a sender-identity token for "
            f"{common.audience(settings, unit.name)} (401 without)"
        )
    elif unit.public:
        events = "events from anywhere, outside the cluster too (public-events = true)"
    else:
        events = "events from inside the cluster only"
    if unit.takes_events and not (unit.event_functions or unit.scheduled_functions):
        events += ", and it has no event functions"
    return f"{unit.name}: {reach}; {events}"


def lines(units: list[ServiceUnit], settings: ProjectSettings) -> list[str]:
    return [line(unit, settings) for unit in units]
