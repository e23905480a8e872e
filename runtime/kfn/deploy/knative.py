"""Names Knative defines that the generator writes and the rules check, each written once."""

from __future__ import annotations

AUTOSCALING_PREFIX = "autoscaling.knative.dev/"
"""The prefix of the autoscaling annotations on a revision template."""
VISIBILITY_LABEL = "networking.knative.dev/visibility"
"""The Service label that keeps it off the public ingress (value `cluster-local`)."""
RESERVED_ENV_NAMES = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})
"""Env vars Knative sets in every container; a Service may not set them itself."""

SCALE_KEYS = (
    "class",
    "min-scale",
    "max-scale",
    "initial-scale",
    "activation-scale",
    "metric",
    "target",
    "target-utilization-percentage",
    "target-burst-capacity",
    "window",
    "panic-window-percentage",
    "panic-threshold-percentage",
    "scale-down-delay",
    "scale-to-zero-pod-retention-period",
    "metric-aggregation-algorithm",
)
"""Every autoscaling annotation a revision template takes, in the order they are written."""
KPA = "kpa.autoscaling.knative.dev"
"""The Knative Pod Autoscaler's class, the default."""
