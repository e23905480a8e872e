"""The negative cases of the webhook rule layer: a valid generated manifest, one rule broken.

Used by the rule tests (each case trips its rule) and by the agreement suite (each
case is refused by Knative's own code too, or its rule says why it is stricter).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kfn.deploy.generate import Generation, generate
from tests.deploy.conftest import IMAGE, kitchen_sink, make_settings

Manifest = dict[str, Any]
Mutation = Callable[[Manifest], None]


def sink() -> Generation:
    """The kitchen sink's manifests, the base every case breaks."""
    app, table = kitchen_sink()
    return generate(make_settings(**table), app, image=IMAGE)


def base(generation: Generation, kind: str, name: str) -> Manifest:
    for manifest in generation.manifests:
        if manifest["kind"] == kind and manifest["metadata"]["name"] == name:
            return copy.deepcopy(manifest)
    raise AssertionError(f"no {kind}/{name}")


def get(manifest: Manifest, path: str) -> Any:
    node: Any = manifest
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


TEMPLATE = "spec.template.metadata.annotations"
POD = "spec.template.spec"
CONTAINER = "spec.template.spec.containers.0"
AS = "autoscaling.knative.dev/"


def scale(**values: str) -> Mutation:
    def mutate(m: Manifest) -> None:
        get(m, TEMPLATE).update({AS + k.replace("_", "-"): v for k, v in values.items()})

    return mutate


def setting(path: str, key: str, value: Any) -> Mutation:
    def mutate(m: Manifest) -> None:
        get(m, path)[key] = value

    return mutate


def removing(path: str, key: str) -> Mutation:
    def mutate(m: Manifest) -> None:
        del get(m, path)[key]

    return mutate


def appending(path: str, value: Any) -> Mutation:
    def mutate(m: Manifest) -> None:
        get(m, path).append(value)

    return mutate


SERVICE = ("Service", "shop")
TRIGGER = ("Trigger", "shop-audit")
PING = ("PingSource", "shop-sweep")
BINARY_PING = ("PingSource", "shop-binary-report")
BINDING = ("SinkBinding", "shop-events-sink")
EVENTTYPE = ("EventType", "shop-com-example-order-created")
SUBSCRIBER = "spec.subscriber"
DEAD_LETTER = "spec.delivery.deadLetterSink"  # a ref alone: Knative validates refs without a uri

CASES: list[tuple[str, tuple[str, str], Mutation]] = [
    # Serving: autoscaling (CONTRACT.md 3b)
    ("autoscaling.on-metadata", SERVICE, setting("metadata", "annotations", {AS + "min-scale": "1"})),
    ("autoscaling.class", SERVICE, scale(**{"class": "custom.knative.dev"})),
    ("autoscaling.min-scale", SERVICE, scale(min_scale="-1")),
    ("autoscaling.max-scale", SERVICE, scale(min_scale="5", max_scale="2", activation_scale="5")),
    ("autoscaling.initial-scale", SERVICE, scale(initial_scale="0")),
    ("autoscaling.activation-scale", SERVICE, scale(activation_scale="1")),
    ("autoscaling.metric", SERVICE, scale(metric="cpu")),
    ("autoscaling.target", SERVICE, scale(target="0.001")),
    ("autoscaling.target-utilization-percentage", SERVICE, scale(target_utilization_percentage="101")),
    ("autoscaling.target-burst-capacity", SERVICE, scale(target_burst_capacity="-2")),
    ("autoscaling.window", SERVICE, scale(window="3s")),
    ("autoscaling.panic-window-percentage", SERVICE, scale(panic_window_percentage="0.5")),
    ("autoscaling.panic-threshold-percentage", SERVICE, scale(panic_threshold_percentage="100")),
    ("autoscaling.scale-down-delay", SERVICE, scale(scale_down_delay="1.5s")),
    ("autoscaling.scale-to-zero-pod-retention-period", SERVICE, scale(scale_to_zero_pod_retention_period="2h")),
    ("autoscaling.metric-aggregation-algorithm", SERVICE, scale(metric_aggregation_algorithm="median")),
    # Names and destinations
    ("metadata.name-dns1035", SERVICE, setting("metadata", "name", "Shop_1")),
    ("metadata.name-dns1123", TRIGGER, setting("metadata", "name", "Bad_Name")),
    ("metadata.name-required", PING, removing("metadata", "name")),
    ("destination.ref-or-uri", TRIGGER, setting("spec", "subscriber", {})),
    ("destination.relative-uri", TRIGGER, setting(SUBSCRIBER, "uri", "http://x.example/events/a")),
    ("destination.absolute-uri", TRIGGER, setting("spec", "subscriber", {"uri": "/events/audit"})),
    ("destination.ref-fields", TRIGGER, removing(DEAD_LETTER + ".ref", "kind")),
    ("destination.ref-group", PING, setting("spec.sink.ref", "group", "serving.knative.dev")),
    ("destination.cacerts-pem", TRIGGER, setting(SUBSCRIBER, "CACerts", "not a certificate")),
    ("ceoverrides.extension-name", PING, setting("spec", "ceOverrides", {"extensions": {"my-ext": "x"}})),
    # Serving: metadata, template, limits (CONTRACT.md 3b, 3d)
    ("serving.progress-deadline", SERVICE, setting(TEMPLATE, "serving.knative.dev/progress-deadline", "1.5s")),
    ("serving.networking-annotation", SERVICE, setting(TEMPLATE, "networking.knative.dev/visibility", "cluster-local")),
    ("serving.rollout-duration", SERVICE, setting("metadata", "annotations", {"serving.knative.dev/rollout-duration": "-1s"})),
    ("serving.template-name", SERVICE, setting("spec.template.metadata", "name", "other-v1")),
    ("serving.container-concurrency", SERVICE, setting(POD, "containerConcurrency", -1)),
    ("serving.timeout-seconds", SERVICE, setting(POD, "timeoutSeconds", 601)),
    # PodSpec and Container field masks (CONTRACT.md 3b)
    ("serving.podspec-fields", SERVICE, setting(POD, "nodeSelector", {"disk": "ssd"})),
    ("serving.automount-token", SERVICE, setting(POD, "automountServiceAccountToken", True)),
    ("serving.service-account-name", SERVICE, setting(POD, "serviceAccountName", "Bad_SA")),
    ("serving.container-fields", SERVICE, setting(CONTAINER, "lifecycle", {"preStop": {}})),
    ("serving.container-image", SERVICE, setting(CONTAINER, "image", "Not An Image")),
    ("serving.container-name", SERVICE, setting(CONTAINER, "name", "queue-proxy")),
    ("serving.single-port", SERVICE, appending(CONTAINER + ".ports", {"containerPort": 9000})),
    ("serving.port-fields", SERVICE, setting(CONTAINER + ".ports.0", "hostPort", 80)),
    ("serving.port-name", SERVICE, setting(CONTAINER + ".ports.0", "name", "grpc")),
    ("serving.reserved-port", SERVICE, setting(CONTAINER + ".ports.0", "containerPort", 8012)),
    ("serving.reserved-env", SERVICE, appending(CONTAINER + ".env", {"name": "PORT", "value": "1"})),
    ("serving.env-value-from", SERVICE, appending(CONTAINER + ".env", {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})),
    ("serving.resources-fields", SERVICE, setting(CONTAINER + ".resources", "claims", [])),
    ("serving.probe-handler", SERVICE, setting(CONTAINER + ".readinessProbe", "tcpSocket", {})),
    ("serving.probe-thresholds", SERVICE, setting(CONTAINER + ".readinessProbe", "failureThreshold", 3)),
    ("serving.probe-port", SERVICE, setting(CONTAINER + ".readinessProbe.httpGet", "port", "web")),
    ("serving.security-context", SERVICE, setting(CONTAINER + ".securityContext", "seLinuxOptions", {})),
    ("serving.capabilities-add", SERVICE, setting(CONTAINER + ".securityContext.capabilities", "add", ["NET_ADMIN"])),
    ("serving.run-as-range", SERVICE, setting(CONTAINER + ".securityContext", "runAsUser", -1)),
    ("serving.volume-mounts", SERVICE, setting(CONTAINER + ".volumeMounts.0", "mountPath", "/dev")),
    ("serving.volumes", SERVICE, appending(POD + ".volumes", {"name": "host", "hostPath": {"path": "/"}})),
    ("serving.termination-message-policy", SERVICE, setting(CONTAINER, "terminationMessagePolicy", "Always")),
    ("serving.traffic", SERVICE, setting("spec", "traffic", [{"percent": 50, "latestRevision": True}])),
    # PingSource, SinkBinding, EventType (CONTRACT.md 3c)
    ("pingsource.schedule", PING, setting("spec", "schedule", "@every 1m")),
    ("pingsource.timezone", PING, setting("spec", "timezone", "Mars/Olympus")),
    ("pingsource.data-one-of", PING, setting("spec", "dataBase64", "e30=")),
    ("pingsource.data-base64", BINARY_PING, setting("spec", "dataBase64", "not base64!")),
    ("pingsource.data-json", PING, setting("spec", "data", "[1, 2]")),
    ("sinkbinding.subject", BINDING, removing("spec.subject", "name")),
    ("sinkbinding.subject-namespace", BINDING, setting("spec.subject", "namespace", "other")),
    ("eventtype.attributes", EVENTTYPE, lambda m: m["spec"]["attributes"].pop()),
    # Trigger (CONTRACT.md 3c, 3d)
    ("trigger.broker", TRIGGER, removing("spec", "broker")),
    ("trigger.filter-attribute-name", TRIGGER, setting("spec", "filter", {"attributes": {"Type": "x"}})),
    ("trigger.filters-one-dialect", TRIGGER, appending("spec.filters", {"exact": {"type": "a"}, "prefix": {"source": "b"}})),
    ("trigger.filters-attribute-name", TRIGGER, appending("spec.filters", {"exact": {"Type": "a"}})),
    ("trigger.filters-empty", TRIGGER, appending("spec.filters", {"exact": {"type": ""}})),
    ("trigger.filters-cesql", TRIGGER, appending("spec.filters", {"cesql": "subject LIKE"})),
    ("delivery.retry", TRIGGER, setting("spec.delivery", "retry", -1)),
    ("delivery.backoff-policy", TRIGGER, setting("spec.delivery", "backoffPolicy", "fibonacci")),
    ("delivery.backoff-delay", TRIGGER, setting("spec.delivery", "backoffDelay", "200ms")),
    ("delivery.timeout", TRIGGER, setting("spec.delivery", "timeout", "PT0S")),
    ("delivery.retry-after-max", TRIGGER, setting("spec.delivery", "retryAfterMax", "PT10S")),
    ("delivery.format", TRIGGER, setting("spec.delivery", "format", "xml")),
    ("trigger.dependency-annotation", TRIGGER, setting("metadata.annotations", "knative.dev/dependency", "not json")),
    ("trigger.injection-annotation", TRIGGER, setting("metadata.annotations", "eventing.knative.dev/injection", "enabled")),
]  # fmt: skip
