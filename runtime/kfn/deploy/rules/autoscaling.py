"""The `autoscaling.knative.dev/*` annotation rules of a revision template.

From CONTRACT.md "Every annotation and its validation".

Settings parsing runs these too, so a bad `[tool.kfn.scale]` value is reported
against its key with Knative's own wording of the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from kfn.deploy import formats, knative
from kfn.deploy.knative import AUTOSCALING_PREFIX
from kfn.deploy.rules._core import Report, Rule, Violation, join, rule

PREFIX = AUTOSCALING_PREFIX
KPA = knative.KPA
HPA = "hpa.autoscaling.knative.dev"
_INT32_MAX = 2**31 - 1
_SECOND = formats.NANOS_PER_SECOND
_HOUR = 3600 * _SECOND

# Each rule below is from CONTRACT.md "Every annotation and its validation", unless it names another
# section.
# never on Service/Configuration/Route metadata (also CONTRACT.md "Where autoscaling annotations may
# go").
ON_METADATA = rule("autoscaling.on-metadata", "autoscaling annotations go on the template")
# a class ending in .knative.dev must be kpa or hpa.
CLASS = rule("autoscaling.class", "class is kpa, hpa or a custom class")
# min-scale: int32 >= 0.
MIN_SCALE = rule("autoscaling.min-scale", "min-scale is an int32 >= 0")
# max-scale: int32 >= 0, and not below min-scale unless 0.
MAX_SCALE = rule("autoscaling.max-scale", "max-scale is an int32 >= 0 and >= min-scale")
# initial-scale: an int >= 0; 0 only if the cluster allows it.
INITIAL_SCALE = rule("autoscaling.initial-scale", "initial-scale is an int >= 1")
# activation-scale: >= 2, >= min-scale, <= max-scale.
ACTIVATION_SCALE = rule("autoscaling.activation-scale", "activation-scale within min..max, >= 2")
# metric: concurrency|rps for KPA; non-empty for HPA.
METRIC = rule("autoscaling.metric", "metric fits the class")
# target: a float >= 0.01.
TARGET = rule("autoscaling.target", "target is a number >= 0.01")
# target-utilization-percentage in [1, 100].
UTILIZATION = rule("autoscaling.target-utilization-percentage", "utilization in 1..100")
# target-burst-capacity >= 0 or -1.
BURST = rule("autoscaling.target-burst-capacity", "burst capacity >= 0 or -1")
# window: a Go duration in [6s, 1h], whole seconds.
WINDOW = rule("autoscaling.window", "window in 6s..1h, whole seconds")
# panic-window-percentage in [1, 100].
PANIC_WINDOW = rule("autoscaling.panic-window-percentage", "panic window in 1..100")
# panic-threshold-percentage in [110, 1000].
PANIC_THRESHOLD = rule("autoscaling.panic-threshold-percentage", "panic threshold in 110..1000")
# scale-down-delay in [0, 1h], whole seconds.
SCALE_DOWN_DELAY = rule("autoscaling.scale-down-delay", "scale-down-delay in 0..1h, whole seconds")
# scale-to-zero-pod-retention-period in [0, 1h].
RETENTION = rule("autoscaling.scale-to-zero-pod-retention-period", "retention in 0..1h")
# metric-aggregation-algorithm (KPA): linear or weighted-exponential.
AGGREGATION = rule("autoscaling.metric-aggregation-algorithm", "a known aggregation algorithm")

# the legacy camelCase aliases; the first key present wins.
_ALIASES = {
    "min-scale": "minScale",
    "max-scale": "maxScale",
    "initial-scale": "initialScale",
    "target-utilization-percentage": "targetUtilizationPercentage",
    "target-burst-capacity": "targetBurstCapacity",
    "panic-window-percentage": "panicWindowPercentage",
    "panic-threshold-percentage": "panicThresholdPercentage",
    "scale-down-delay": "scaleDownDelay",
    "scale-to-zero-pod-retention-period": "scaleToZeroPodRetentionPeriod",
    "metric-aggregation-algorithm": "metricAggregationAlgorithm",
}


def check(annotations: Mapping[str, str], path: str) -> list[Violation]:
    """Every violation among a revision template's autoscaling annotations."""
    report = Report()
    _Checker(report, annotations, path).run()
    return report.violations


class _Checker:
    def __init__(self, report: Report, annotations: Mapping[str, str], path: str) -> None:
        self.report = report
        self.annotations = annotations
        self.path = path

    def lookup(self, key: str) -> tuple[str, str] | None:
        """(the annotation key used, its value) for a canonical key or its alias."""
        for candidate in (key, _ALIASES.get(key)):
            if candidate is not None and PREFIX + candidate in self.annotations:
                return PREFIX + candidate, str(self.annotations[PREFIX + candidate])
        return None

    def fail(self, broken: Rule, key: str, message: str) -> None:
        self.report.add(broken, join(self.path, key), message)

    def run(self) -> None:
        found = self.lookup("class")
        klass = found[1] if found else KPA
        if found and klass.endswith(".knative.dev") and klass not in (KPA, HPA):
            self.fail(CLASS, found[0], f"class {klass!r} is not {KPA} or {HPA}")
        minimum = self.int32("min-scale", MIN_SCALE)
        maximum = self.int32("max-scale", MAX_SCALE)
        if minimum is not None and maximum is not None and maximum != 0 and maximum < minimum:
            self.fail(
                MAX_SCALE,
                PREFIX + "max-scale",
                f"max-scale={maximum} is less than min-scale={minimum}",
            )
        self.activation(minimum or 0, maximum or 0)
        self.initial()
        self.metric(klass)
        self.number("target", TARGET, lambda v: v >= Decimal("0.01"), ">= 0.01")
        self.number("target-utilization-percentage", UTILIZATION, lambda v: 1 <= v <= 100, "1..100")
        self.number("target-burst-capacity", BURST, lambda v: v >= 0 or v == -1, ">= 0 or -1")
        self.number("panic-window-percentage", PANIC_WINDOW, lambda v: 1 <= v <= 100, "1..100")
        self.number(
            "panic-threshold-percentage", PANIC_THRESHOLD, lambda v: 110 <= v <= 1000, "110..1000"
        )
        self.duration("window", WINDOW, 6 * _SECOND, _HOUR, whole_seconds=True)
        self.duration("scale-down-delay", SCALE_DOWN_DELAY, 0, _HOUR, whole_seconds=True)
        self.duration(
            "scale-to-zero-pod-retention-period", RETENTION, 0, _HOUR, whole_seconds=False
        )
        found = self.lookup("metric-aggregation-algorithm")
        if (
            found
            and klass == KPA
            and found[1] not in ("linear", "weighted-exponential", "weightedExponential")
        ):
            self.fail(AGGREGATION, found[0], f"{found[1]!r} is not linear or weighted-exponential")

    def int32(self, key: str, broken: Rule) -> int | None:
        found = self.lookup(key)
        if found is None:
            return None
        if (
            not re.fullmatch(r"[+-]?[0-9]+", found[1])
            or not -(2**31) <= int(found[1]) <= _INT32_MAX
        ):
            self.fail(broken, found[0], f"{key}={found[1]!r} is not a 32-bit whole number")
            return None
        value = int(found[1])
        if value < 0:
            self.fail(broken, found[0], f"{key}={value} must be at least 0")
            return None
        return value

    def activation(self, minimum: int, maximum: int) -> None:
        found = self.lookup("activation-scale")
        if found is None:
            return
        value = self.int32("activation-scale", ACTIVATION_SCALE)
        if value is None:
            return
        # The webhook's else-if chain reports the first problem only.
        if value < minimum:
            self.fail(
                ACTIVATION_SCALE,
                found[0],
                f"activation-scale={value} is less than min-scale={minimum}",
            )
        elif maximum != 0 and value > maximum:
            self.fail(
                ACTIVATION_SCALE,
                found[0],
                f"activation-scale={value} is greater than max-scale={maximum}",
            )
        elif value < 2:
            self.fail(
                ACTIVATION_SCALE, found[0], f"activation-scale={value} must be greater than 1"
            )

    def initial(self) -> None:
        found = self.lookup("initial-scale")
        if found is None:
            return
        if not re.fullmatch(r"[+-]?[0-9]+", found[1]):
            self.fail(INITIAL_SCALE, found[0], f"initial-scale={found[1]!r} is not a whole number")
        elif int(found[1]) < 0:
            self.fail(INITIAL_SCALE, found[0], "initial-scale must be at least 0")
        elif int(found[1]) == 0:
            self.fail(
                INITIAL_SCALE,
                found[0],
                "initial-scale=0 needs allow-zero-initial-scale in config-autoscaler (off by default)",
            )

    def metric(self, klass: str) -> None:
        found = self.lookup("metric")
        if found is None:
            return
        if klass == KPA and found[1] not in ("concurrency", "rps"):
            self.fail(
                METRIC,
                found[0],
                f"metric {found[1]!r} needs class {HPA}; KPA scales on concurrency or rps",
            )
        elif klass == HPA and not found[1]:
            self.fail(METRIC, found[0], "the HPA class needs a metric such as cpu or memory")

    def number(self, key: str, broken: Rule, ok: Callable[[Decimal], bool], expected: str) -> None:
        found = self.lookup(key)
        if found is None:
            return
        try:
            value = Decimal(found[1])
        except InvalidOperation:
            self.fail(broken, found[0], f"{key}={found[1]!r} is not a number")
            return
        if not value.is_finite() or not ok(value):
            self.fail(broken, found[0], f"{key}={found[1]} must be {expected}")

    def duration(self, key: str, broken: Rule, low: int, high: int, whole_seconds: bool) -> None:
        found = self.lookup(key)
        if found is None:
            return
        try:
            nanos = formats.parse_go_duration(found[1])
        except formats.DurationError:
            self.fail(
                broken, found[0], f"{key}={found[1]!r} is not a duration such as '30s' or '5m'"
            )
            return
        if whole_seconds and nanos % _SECOND:
            self.fail(broken, found[0], f"{key}={found[1]} must be whole seconds")
        elif not low <= nanos <= high:
            self.fail(
                broken,
                found[0],
                f"{key}={found[1]} must be between {low // _SECOND}s and {high // _SECOND}s",
            )
