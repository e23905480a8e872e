"""Knative Eventing Trigger rules: broker, filters, subscriber, delivery, annotations.

From CONTRACT.md "Trigger spec", "Delivery spec" and "Eventing Trigger".

The Trigger CRD keeps `spec` and `spec.delivery` preserve-unknown, so the schema
catches almost nothing here; these rules are the webhook's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kfn._syntax import TRIGGER_ATTRIBUTE_NAME
from kfn.deploy import formats
from kfn.deploy.rules._core import Report, items, join, mapping, rule
from kfn.deploy.rules.common import check_destination, check_name

# Each rule below is from CONTRACT.md "Eventing Trigger" and "Delivery spec", unless it names
# another section.
# exactly one of broker or brokerRef; brokerRef.namespace is gated.
BROKER = rule("trigger.broker", "exactly one of broker or brokerRef")
# filter.attributes keys match ^[a-z][a-z0-9]*$ (also CONTRACT.md "Trigger spec").
FILTER_ATTRIBUTES = rule(
    "trigger.filter-attribute-name", "filter.attributes keys are attribute names"
)
# one dialect per filters item, recursively (also CONTRACT.md "Trigger spec").
ONE_DIALECT = rule("trigger.filters-one-dialect", "one dialect per filters item")
# exact/prefix/suffix keys match the attribute-name regex.
FILTER_KEYS = rule("trigger.filters-attribute-name", "exact/prefix/suffix keys are attribute names")
# an empty name or value is skipped, so the filter matches every event; "The generator must never
# emit empty values" (the webhook itself lets them through) (CONTRACT.md "Trigger spec").
EMPTY_FILTER = rule("trigger.filters-empty", "no empty filter values or items")
# cesql must parse.
CESQL = rule("trigger.filters-cesql", "cesql expressions parse")
# retry >= 0.
RETRY = rule("delivery.retry", "retry is at least 0")
# backoffPolicy is linear or exponential.
BACKOFF_POLICY = rule("delivery.backoff-policy", "backoffPolicy is linear or exponential")
# backoffDelay is an ISO-8601 duration.
BACKOFF_DELAY = rule("delivery.backoff-delay", "backoffDelay is ISO-8601")
# timeout is a non-zero ISO-8601 duration (delivery-timeout is on by default).
DELIVERY_TIMEOUT = rule("delivery.timeout", "timeout is a non-zero ISO-8601 duration")
# retryAfterMax needs delivery-retryafter (disabled by default).
RETRY_AFTER_MAX = rule("delivery.retry-after-max", "retryAfterMax needs a feature flag")
# format is json or binary.
DELIVERY_FORMAT = rule("delivery.format", "format is json or binary")
# knative.dev/dependency is JSON for a same-namespace reference (also CONTRACT.md "Trigger spec").
DEPENDENCY = rule("trigger.dependency-annotation", "knative.dev/dependency is a reference")
# eventing.knative.dev/injection is enabled|disabled, broker default only (also CONTRACT.md "Trigger
# spec").
INJECTION = rule("trigger.injection-annotation", "injection annotation only on broker default")

_DIALECTS = ("all", "any", "not", "exact", "prefix", "suffix", "cesql")
ATTRIBUTE_NAME = TRIGGER_ATTRIBUTE_NAME


def check(report: Report, manifest: Mapping[str, Any]) -> None:
    """Every rule for an eventing.knative.dev/v1 Trigger."""
    check_name(report, manifest, serving=False)
    metadata = mapping(manifest.get("metadata"))
    namespace = metadata.get("namespace")
    spec = mapping(manifest.get("spec"))
    has_broker = bool(spec.get("broker"))
    broker_ref = spec.get("brokerRef")
    if has_broker == (broker_ref is not None):
        report.add(BROKER, "spec.broker", "set exactly one of broker or brokerRef")
    if mapping(broker_ref).get("namespace"):
        report.add(BROKER, "spec.brokerRef.namespace", "needs cross-namespace-event-links")
    for key in mapping(mapping(spec.get("filter")).get("attributes")):
        if not ATTRIBUTE_NAME.match(str(key)):
            report.add(
                FILTER_ATTRIBUTES,
                join("spec.filter.attributes", str(key)),
                f"{key!r} is not an attribute name (lower-case letters and digits)",
            )
    for index, item in items(spec.get("filters")):
        _check_filter(report, item, join("spec.filters", index))
    check_destination(report, spec.get("subscriber"), "spec.subscriber")
    if "delivery" in spec:
        check_delivery(report, spec.get("delivery"), "spec.delivery")
    _check_annotations(report, mapping(metadata.get("annotations")), namespace, spec.get("broker"))


def _check_filter(report: Report, item: Any, path: str) -> None:
    entry = mapping(item)
    dialects = [key for key in _DIALECTS if entry.get(key) is not None]
    if len(dialects) > 1:
        report.add(
            ONE_DIALECT,
            path,
            f"multiple dialects found ({', '.join(dialects)}); filters can have only one dialect set",
        )
    if not dialects:
        report.add(EMPTY_FILTER, path, "an empty filter matches every event")
    for dialect in dialects:
        value = entry[dialect]
        where = join(path, dialect)
        if dialect in ("all", "any"):
            if not isinstance(value, list) or not value:
                report.add(EMPTY_FILTER, where, f"an empty {dialect} matches every event")
            for index, sub in items(value):
                _check_filter(report, sub, join(where, index))
        elif dialect == "not":
            _check_filter(report, value, where)
        elif dialect == "cesql":
            _check_cesql(report, value, where)
        else:
            pairs = mapping(value)
            if not pairs:
                report.add(EMPTY_FILTER, where, f"an empty {dialect} matches every event")
            for key, expected in pairs.items():
                if not ATTRIBUTE_NAME.match(str(key)):
                    report.add(
                        FILTER_KEYS,
                        join(where, str(key)),
                        f"{key!r} is not an attribute name (lower-case letters and digits)",
                    )
                if not isinstance(expected, str) or expected == "":
                    report.add(
                        EMPTY_FILTER,
                        join(where, str(key)),
                        "an empty value is skipped by Knative, so the filter matches every event",
                    )


def _check_cesql(report: Report, expression: Any, path: str) -> None:
    # Checked with the host's own CESQL v1 compiler; Knative parses with sdk-go's sql/v2.
    from kfn._cesql import CesqlSyntaxError, compile_expression

    if not isinstance(expression, str) or not expression.strip():
        report.add(CESQL, path, "the expression is empty")
        return
    try:
        compile_expression(expression)
    except CesqlSyntaxError as error:
        report.add(CESQL, path, f"does not parse: {error}")


def check_delivery(report: Report, value: Any, path: str) -> None:
    """A duck DeliverySpec (a Trigger's, a Broker's)."""
    delivery = mapping(value)
    retry = delivery.get("retry")
    if retry is not None and (not isinstance(retry, int) or isinstance(retry, bool) or retry < 0):
        report.add(RETRY, join(path, "retry"), f"{retry!r} must be a whole number >= 0")
    policy = delivery.get("backoffPolicy")
    if policy is not None and policy not in ("linear", "exponential"):
        report.add(
            BACKOFF_POLICY, join(path, "backoffPolicy"), f"{policy!r} is not linear or exponential"
        )
    delay = delivery.get("backoffDelay")
    if delay is not None:
        try:
            formats.parse_iso8601_duration(delay)
        except formats.DurationError as error:
            report.add(BACKOFF_DELAY, join(path, "backoffDelay"), str(error))
    timeout = delivery.get("timeout")
    if timeout is not None:
        try:
            if formats.parse_iso8601_duration(timeout) == 0:
                report.add(DELIVERY_TIMEOUT, join(path, "timeout"), "must not be zero")
        except formats.DurationError as error:
            report.add(DELIVERY_TIMEOUT, join(path, "timeout"), str(error))
    if "retryAfterMax" in delivery:
        report.add(
            RETRY_AFTER_MAX,
            join(path, "retryAfterMax"),
            "needs the delivery-retryafter feature (disabled by default)",
        )
    delivery_format = delivery.get("format")
    if delivery_format is not None and delivery_format not in ("json", "binary"):
        report.add(
            DELIVERY_FORMAT, join(path, "format"), f"{delivery_format!r} is not json or binary"
        )
    if "deadLetterSink" in delivery:
        check_destination(report, delivery.get("deadLetterSink"), join(path, "deadLetterSink"))


def _check_annotations(
    report: Report, annotations: Mapping[str, Any], namespace: str | None, broker: Any
) -> None:
    dependency = annotations.get("knative.dev/dependency")
    if dependency is not None:
        where = "metadata.annotations.knative.dev/dependency"
        try:
            reference = json.loads(str(dependency))
        except ValueError:
            reference = None
        if not isinstance(reference, dict) or not all(
            reference.get(key) for key in ("kind", "name", "apiVersion")
        ):
            report.add(DEPENDENCY, where, "must be JSON with kind, name and apiVersion")
        elif reference.get("namespace") and reference.get("namespace") != namespace:
            report.add(DEPENDENCY, where, "the dependency must be in the Trigger's namespace")
    injection = annotations.get("eventing.knative.dev/injection")
    if injection is not None and (injection not in ("enabled", "disabled") or broker != "default"):
        report.add(
            INJECTION,
            "metadata.annotations.eventing.knative.dev/injection",
            "must be enabled or disabled, and only on a Trigger of the broker 'default'",
        )
