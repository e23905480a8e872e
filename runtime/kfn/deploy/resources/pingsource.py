"""A PingSource per @schedule function, posting to the function's own endpoint."""

from __future__ import annotations

from typing import Any

from kfn.deploy import formats
from kfn.deploy.resources import common
from kfn.deploy.settings import ProjectSettings
from kfn.deploy.units import ServiceUnit
from kfn.registry import EventFunction
from kfn.schedule import Schedule


def build(unit: ServiceUnit, function: EventFunction, settings: ProjectSettings) -> dict[str, Any]:
    schedule: Schedule = function.schedule
    spec: dict[str, Any] = {"schedule": schedule.cron}
    if schedule.timezone is not None:
        spec["timezone"] = schedule.timezone
    if schedule.content_type is not None:
        spec["contentType"] = schedule.content_type
    if isinstance(schedule.data, str):
        spec["data"] = schedule.data
    elif schedule.data_base64 is not None:
        spec["dataBase64"] = schedule.data_base64
    spec["sink"] = common.function_endpoint(unit.name, function, settings)
    return {
        "apiVersion": common.SOURCES_V1,
        "kind": "PingSource",
        "metadata": common.metadata(
            formats.dns_name(settings.name, function.name),
            settings,
            unit.name,
            annotations={common.FUNCTION_ANNOTATION: function.name},
        ),
        "spec": spec,
    }
