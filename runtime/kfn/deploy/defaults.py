"""What `kfn manifests` writes when `[tool.kfn]` leaves a setting out (Knative's `_defaults`).

Scale to zero, at most 10 instances, a concurrency target of 100, modest resource
requests, and a request timeout above the longest function timeout plus the drain.
"""

from __future__ import annotations

from collections.abc import Mapping

PYPROJECT = "pyproject.toml"
"""Where a project's `[tool.kfn]` lives."""
NAMESPACE = "default"
BROKER = "default"
OUTPUT = "deploy"
PYTHON_VERSION = "3.13"
SCALE: Mapping[str, str] = {
    "min-scale": "0",
    "max-scale": "10",
    "scale-down-delay": "0s",
}
TARGET_BY_METRIC: Mapping[str, str] = {"concurrency": "100", "rps": "200"}
"""The autoscaling target when none is set, by metric (the KPA's defaults)."""
REQUESTS: Mapping[str, str] = {"cpu": "100m", "memory": "128Mi"}
LIMITS: Mapping[str, str] = {"memory": "256Mi"}
DRAIN_SECONDS = 30
"""How long Knative's queue-proxy drains before the container gets SIGTERM."""
MAX_TIMEOUT_SECONDS = 600
"""The longest timeoutSeconds Knative accepts by default."""
