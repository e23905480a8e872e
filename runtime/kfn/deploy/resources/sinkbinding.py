"""A SinkBinding to the Broker for a unit whose functions emit events: it injects K_SINK."""

from __future__ import annotations

from typing import Any

from kfn.deploy import formats
from kfn.deploy.resources import common
from kfn.deploy.settings import ProjectSettings
from kfn.deploy.units import ServiceUnit


def build(unit: ServiceUnit, settings: ProjectSettings) -> dict[str, Any]:
    return {
        "apiVersion": common.SOURCES_V1,
        "kind": "SinkBinding",
        "metadata": common.metadata(formats.dns_name(unit.name, "sink"), settings, unit.name),
        "spec": {
            # The subject's namespace defaults to the binding's (CONTRACT.md "SinkBinding").
            "subject": common.service_ref(unit.name),
            "sink": {"ref": common.broker_ref(settings)},
        },
    }
