"""A Trigger per @cloudevent function: the decorator's filters, the function's own endpoint.

The filters are the very objects that route events locally (runtime/kfn/filters.py), so
the cluster routes what `kfn run` routes. Each Trigger delivers to `/events/<name>`,
so each function gets its own delivery, retries and dead-letter sink.
"""

from __future__ import annotations

from typing import Any

from kfn.deploy import formats
from kfn.deploy.errors import DeployError
from kfn.deploy.resources import common
from kfn.deploy.settings import Delivery, ProjectSettings, SettingsError, parse_decorator_delivery
from kfn.deploy.units import ServiceUnit
from kfn.registry import EventFunction, where_defined


def name(settings: ProjectSettings, function: EventFunction) -> str:
    return formats.dns_name(settings.name, function.name)


def build(
    unit: ServiceUnit, function: EventFunction, settings: ProjectSettings, warnings: list[str]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"broker": settings.broker}
    items = function.filter.trigger_items()
    if items:
        spec["filters"] = items
    else:
        warnings.append(
            f"function {function.name!r} has no filters: its Trigger delivers every event on "
            f"broker {settings.broker!r} to it, replies included"
        )
    spec["subscriber"] = common.function_endpoint(unit.name, function, settings)
    delivery = delivery_of(function, settings)
    if not delivery.empty:
        spec["delivery"] = delivery_spec(delivery)
        _warn_short_timeout(unit, function, delivery, warnings)
    return {
        "apiVersion": common.EVENTING_V1,
        "kind": "Trigger",
        "metadata": common.metadata(
            name(settings, function),
            settings,
            unit.name,
            annotations={common.FUNCTION_ANNOTATION: function.name},
        ),
        "spec": spec,
    }


def delivery_of(function: EventFunction, settings: ProjectSettings) -> Delivery:
    """[tool.kfn.delivery], with every key the decorator's delivery= sets replaced."""
    if function.delivery is None:
        return settings.delivery
    where = (
        f"@cloudevent(delivery=...) on function {function.name!r} in {where_defined(function.func)}"
    )
    try:
        override = parse_decorator_delivery(function.delivery, where)
    except SettingsError as error:
        raise DeployError(str(error)) from None
    return settings.delivery.merged(override)


def delivery_spec(delivery: Delivery) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if delivery.dead_letter_sink is not None:
        spec["deadLetterSink"] = common.destination(delivery.dead_letter_sink)
    if delivery.retry is not None:
        spec["retry"] = delivery.retry
    if delivery.backoff_policy is not None:
        spec["backoffPolicy"] = delivery.backoff_policy
    if delivery.backoff_delay is not None:
        spec["backoffDelay"] = delivery.backoff_delay
    if delivery.timeout is not None:
        spec["timeout"] = delivery.timeout
    return spec


def _warn_short_timeout(
    unit: ServiceUnit, function: EventFunction, delivery: Delivery, warnings: list[str]
) -> None:
    if delivery.timeout is None:
        return
    seconds = formats.parse_iso8601_duration(delivery.timeout)
    limit = function.timeout or unit.host_timeout()
    if seconds < limit:
        warnings.append(
            f"function {function.name!r}: the delivery timeout {delivery.timeout} is shorter than "
            f"its {limit:g} s function timeout; the broker gives up (and retries) while it runs"
        )
