"""Names Knative defines that the generator writes and the rules check, each written once."""

from __future__ import annotations

AUTOSCALING_PREFIX = "autoscaling.knative.dev/"
"""The prefix of the autoscaling annotations on a revision template."""
VISIBILITY_LABEL = "networking.knative.dev/visibility"
"""The Service label that keeps it off the public ingress (value `cluster-local`)."""
RESERVED_ENV_NAMES = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})
"""Env vars Knative sets in every container; a Service may not set them itself."""
