"""The Knative Service of one unit: scale to zero, probes, a restricted container, one port.

image -> `kfn run --host 0.0.0.0` (the Dockerfile's CMD), which reads PORT,
KFN_FUNCTIONS and KFN_SERVICE_UNIT from the environment.
"""

from __future__ import annotations

from typing import Any

from kfn._probes import LIVENESS_PATH, READINESS_PATH
from kfn.config import DEFAULT_FUNCTIONS, DEFAULT_PORT
from kfn.deploy.grace import GRACE_PERIOD_ENV
from kfn.deploy.knative import VISIBILITY_LABEL
from kfn.deploy.resources import common
from kfn.deploy.settings import IDEMPOTENCY_STORE_ENV, EnvVar, ProjectSettings
from kfn.deploy.units import ServiceUnit

PORT = DEFAULT_PORT
"""Knative's default user port; the host reads the PORT Knative sets.

See CONTRACT.md "What a container MUST do".
"""
CONTAINER_NAME = "function"


def security_context() -> dict[str, Any]:
    """Kubernetes' "restricted" profile; the image runs as a numeric non-root user."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def build(
    unit: ServiceUnit, settings: ProjectSettings, image: str, warnings: list[str]
) -> dict[str, Any]:
    labels = common.labels(settings, unit.name)
    if not unit.public:
        # A label, not an annotation (CONTRACT.md "Visibility: cluster-local").
        labels[VISIBILITY_LABEL] = "cluster-local"
    elif any(not f.public for f in unit.http_functions):
        private = ", ".join(f.name for f in unit.http_functions if not f.public)
        warnings.append(
            f"Service {unit.name!r} is public, so its public=False HTTP function(s) {private} "
            "are reachable from outside too (visibility is per Service); give them their own "
            "service=... group"
        )
    _warn_on_local_claims(unit, warnings)
    pod: dict[str, Any] = {
        "containerConcurrency": unit.settings.container_concurrency,
        "timeoutSeconds": unit.timeout_seconds(warnings),
    }
    if unit.settings.service_account is not None:
        pod["serviceAccountName"] = unit.settings.service_account
    pod["containers"] = [_container(unit, settings, image)]
    # The root filesystem is read-only; /tmp must stay writable (CONTRACT.md "What a container
    # MUST do").
    pod["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    return {
        "apiVersion": common.SERVING_V1,
        "kind": "Service",
        "metadata": {"name": unit.name, "namespace": settings.namespace, "labels": labels},
        "spec": {
            "template": {
                "metadata": {
                    "labels": common.labels(settings, unit.name),
                    # Autoscaling belongs on the revision template only (CONTRACT.md "Where
                    # autoscaling annotations may go").
                    "annotations": unit.settings.annotations(),
                },
                "spec": pod,
            }
        },
    }


def _container(unit: ServiceUnit, settings: ProjectSettings, image: str) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": image,
        "ports": [{"name": "http1", "containerPort": PORT}],
    }
    env = _env(unit, settings)
    if env:
        container["env"] = env
    env_from = [{"secretRef": {"name": name}} for name in unit.settings.secrets]
    env_from += [{"configMapRef": {"name": name}} for name in unit.settings.config_maps]
    if env_from:
        container["envFrom"] = env_from
    resources = {}
    if unit.settings.requests:
        resources["requests"] = dict(unit.settings.requests)
    if unit.settings.limits:
        resources["limits"] = dict(unit.settings.limits)
    if resources:
        container["resources"] = resources
    # periodSeconds unset: the queue-proxy probes readiness aggressively, which is what
    # makes a cold start fast (CONTRACT.md "Probes").
    container["readinessProbe"] = {"httpGet": {"path": READINESS_PATH}}
    container["livenessProbe"] = {
        "httpGet": {"path": LIVENESS_PATH},
        "periodSeconds": 10,
        "failureThreshold": 3,
    }
    container["securityContext"] = security_context()
    container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    return container


def _warn_on_local_claims(unit: ServiceUnit, warnings: list[str]) -> None:
    """Idempotent functions on several replicas need a shared store, not each one's memory."""
    runs = [*unit.event_functions, *unit.scheduled_functions]
    idempotent = [f.name for f in runs if f.idempotent]
    shared = any(v.name == IDEMPOTENCY_STORE_ENV for v in unit.settings.env)
    if idempotent and not shared and unit.settings.scale.get("max-scale") != "1":
        warnings.append(
            f"Service {unit.name!r} may run several replicas, but its idempotent function(s) "
            f"{', '.join(idempotent)} keep their claims in each replica's memory, so a "
            "duplicate on another replica runs again; set [tool.kfn.idempotency] store "
            "(a Redis URL from a Secret), or max-scale = 1"
        )


def _env(unit: ServiceUnit, settings: ProjectSettings) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = []
    if settings.functions != DEFAULT_FUNCTIONS:
        env.append({"name": "KFN_FUNCTIONS", "value": ",".join(settings.functions)})
    if unit.grouped:
        env.append({"name": "KFN_SERVICE_UNIT", "value": unit.selects})
    if not unit.takes_events:
        # Public: its events go to the cluster-local `<name>-events` (deploy/units.py).
        env.append({"name": "KFN_EVENT_ENDPOINTS", "value": "false"})
    elif settings.sender_identity:
        env.append({"name": "KFN_OIDC_AUDIENCE", "value": common.audience(settings, unit.name)})
    if unit.settings.grace_period is not None:
        # timeoutSeconds leaves the pod room for it (kfn.deploy.grace).
        env.append({"name": GRACE_PERIOD_ENV, "value": unit.settings.grace_period})
    env.extend(_variable(variable) for variable in unit.settings.env)
    return env


def _variable(variable: EnvVar) -> dict[str, Any]:
    if variable.secret is not None:
        return {
            "name": variable.name,
            "valueFrom": {"secretKeyRef": {"name": variable.secret, "key": variable.key}},
        }
    if variable.config_map is not None:
        return {
            "name": variable.name,
            "valueFrom": {"configMapKeyRef": {"name": variable.config_map, "key": variable.key}},
        }
    return {"name": variable.name, "value": variable.value}
