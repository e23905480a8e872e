"""Knative Serving Service rules: metadata, the revision template, the PodSpec and container masks.

The CRD schema accepts most of what is wrong here (CONTRACT.md "The jsonschema
experiment"); these are the webhook's rules, with the feature flags at their defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfn.deploy import formats
from kfn.deploy.knative import RESERVED_ENV_NAMES
from kfn.deploy.rules import autoscaling
from kfn.deploy.rules._core import Report, Rule, items, join, mapping, rule
from kfn.deploy.rules.common import check_name

# Each rule below is from CONTRACT.md "Which PodSpec fields Knative allows" and "Serving Service,
# Configuration and Revision template", unless it names another section.
# progress-deadline: a non-negative duration, whole seconds (CONTRACT.md "Other serving annotations
# validated on the template").
PROGRESS_DEADLINE = rule("serving.progress-deadline", "progress-deadline is whole seconds >= 0")
# only allow-listed networking.knative.dev annotations on the template (CONTRACT.md "Other serving
# annotations validated on the template").
NETWORKING_ANNOTATION = rule("serving.networking-annotation", "template networking allow-list")
# rollout-duration: a non-negative duration, whole seconds (CONTRACT.md "Other serving annotations
# validated on the template").
ROLLOUT_DURATION = rule("serving.rollout-duration", "rollout-duration is whole seconds >= 0")
# a template name is a DNS-1035 label prefixed '<service>-'.
TEMPLATE_NAME = rule("serving.template-name", "template name is '<service>-...'")
# containerConcurrency in 0..1000 (also CONTRACT.md "containerConcurrency and the timeouts: defaults
# and limits").
CONCURRENCY = rule("serving.container-concurrency", "containerConcurrency in 0..1000")
# timeoutSeconds in 0..600 (also CONTRACT.md "containerConcurrency and the timeouts: defaults and
# limits").
TIMEOUT = rule("serving.timeout-seconds", "timeoutSeconds in 0..600")
# the PodSpec field mask; flag-gated fields are off by default.
POD_FIELDS = rule("serving.podspec-fields", "only the PodSpec fields Knative allows")
# automountServiceAccountToken only when false.
AUTOMOUNT = rule("serving.automount-token", "automountServiceAccountToken only false")
# serviceAccountName is a DNS-1123 subdomain.
SERVICE_ACCOUNT = rule("serving.service-account-name", "serviceAccountName is DNS-1123")
# the Container field mask.
CONTAINER_FIELDS = rule("serving.container-fields", "only the Container fields Knative allows")
# the image is required and parses.
IMAGE = rule("serving.container-image", "the image is a valid reference")
# queue-proxy is reserved; container names are unique.
CONTAINER_NAME = rule("serving.container-name", "container names are unique, not queue-proxy")
# exactly one port across the containers (also CONTRACT.md "What a container MUST do").
SINGLE_PORT = rule("serving.single-port", "exactly one container port")
# a port has only containerPort, name and protocol.
PORT_FIELDS = rule("serving.port-fields", "ports have only containerPort, name, protocol")
# the port name is '', http1 or h2c; protocol TCP (also CONTRACT.md "Other serving annotations
# validated on the template").
PORT_NAME = rule("serving.port-name", "port name ''/http1/h2c, protocol TCP")
# reserved ports 8012, 8013, 8022, 9090, 9091, 8008 (also CONTRACT.md "Reserved ports").
RESERVED_PORT = rule("serving.reserved-port", "the port is not reserved and in range")
# PORT, K_SERVICE, K_CONFIGURATION, K_REVISION are reserved (also CONTRACT.md "What a container MUST
# do").
RESERVED_ENV = rule("serving.reserved-env", "no reserved env var names")
# env valueFrom: configMapKeyRef or secretKeyRef (fieldRef is gated).
ENV_VALUE_FROM = rule("serving.env-value-from", "env valueFrom only configMap/secret keys")
# resources: only limits and requests.
RESOURCES = rule("serving.resources-fields", "resources has only limits and requests")
# probe fields and exactly one handler (also CONTRACT.md "Probes").
PROBE_HANDLER = rule("serving.probe-handler", "a probe has exactly one allowed handler")
# periodSeconds 0 forbids failureThreshold/timeoutSeconds; else >= 1 (also CONTRACT.md "Probes").
PROBE_THRESHOLDS = rule("serving.probe-thresholds", "probe thresholds fit periodSeconds")
# a named probe port must be the serving port's name (also CONTRACT.md "Probes").
PROBE_PORT = rule("serving.probe-port", "a probe targets the serving port")
# the container securityContext mask; privileged only false (CONTRACT.md "Security context and
# secure-pod-defaults").
SECURITY_CONTEXT = rule("serving.security-context", "only allowed securityContext fields")
# capabilities.add needs a flag (or secure-pod-defaults NET_BIND_SERVICE) (CONTRACT.md "Security
# context and secure-pod-defaults").
CAPABILITIES_ADD = rule("serving.capabilities-add", "capabilities.add needs a feature flag")
# runAsUser and runAsGroup in 0..MaxInt32 (CONTRACT.md "Security context and secure-pod-defaults").
RUN_AS = rule("serving.run-as-range", "runAsUser/runAsGroup in 0..2^31-1")
# volumeMounts: fields, absolute unique paths, read-only config mounts.
VOLUME_MOUNTS = rule("serving.volume-mounts", "volumeMounts follow Knative's rules")
# allowed volume types; every volume mounted; names unique.
VOLUMES = rule("serving.volumes", "volumes are allowed types, unique and mounted")
# terminationMessagePolicy is File or FallbackToLogsOnError.
TERMINATION_POLICY = rule("serving.termination-message-policy", "a known message policy")
# traffic percents in 0..100 summing to 100; no configurationName.
TRAFFIC = rule("serving.traffic", "traffic targets are valid")

_AUTOSCALING_PREFIX = autoscaling.PREFIX
_NETWORKING_PREFIX = "networking.knative.dev"
_NETWORKING_ALLOWED = frozenset(
    f"{_NETWORKING_PREFIX}/{key}"
    for key in (
        "ingress.class",
        "ingress-class",
        "certificate.class",
        "certificate-class",
        "disableAutoTLS",
        "disable-auto-tls",
        "disable-external-domain-tls",
        "httpOption",
        "http-protocol",
    )
)
_POD_ALLOWED = frozenset(
    {
        "containers",
        "volumes",
        "imagePullSecrets",
        "serviceAccountName",
        "enableServiceLinks",
        "automountServiceAccountToken",
        "containerConcurrency",
        "timeoutSeconds",
        "responseStartTimeoutSeconds",
        "idleTimeoutSeconds",
    }
)
_POD_FLAGS = {
    "affinity": "kubernetes.podspec-affinity",
    "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
    "hostAliases": "kubernetes.podspec-hostaliases",
    "nodeSelector": "kubernetes.podspec-nodeselector",
    "runtimeClassName": "kubernetes.podspec-runtimeclassname",
    "tolerations": "kubernetes.podspec-tolerations",
    "securityContext": "kubernetes.podspec-securitycontext",
    "shareProcessNamespace": "kubernetes.podspec-shareprocessnamespace",
    "priorityClassName": "kubernetes.podspec-priorityclassname",
    "schedulerName": "kubernetes.podspec-schedulername",
    "initContainers": "kubernetes.podspec-init-containers",
    "dnsPolicy": "kubernetes.podspec-dnspolicy",
    "dnsConfig": "kubernetes.podspec-dnsconfig",
    "hostIPC": "kubernetes.podspec-hostipc",
    "hostPID": "kubernetes.podspec-hostpid",
    "hostNetwork": "kubernetes.podspec-hostnetwork",
}
_CONTAINER_ALLOWED = frozenset(
    {
        "name",
        "args",
        "command",
        "env",
        "workingDir",
        "envFrom",
        "image",
        "imagePullPolicy",
        "livenessProbe",
        "ports",
        "readinessProbe",
        "resources",
        "securityContext",
        "startupProbe",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "volumeMounts",
    }
)
_PROBE_FIELDS = frozenset(
    {
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
        "terminationGracePeriodSeconds",
    }
)
_PROBE_HANDLERS = frozenset({"httpGet", "tcpSocket", "exec", "grpc"})
_SECURITY_ALLOWED = frozenset(
    {
        "capabilities",
        "readOnlyRootFilesystem",
        "runAsUser",
        "runAsGroup",
        "runAsNonRoot",
        "allowPrivilegeEscalation",
        "seccompProfile",
        "privileged",
    }
)
_RESERVED_PORTS = frozenset({8012, 8013, 8022, 9090, 9091, 8008})
_VOLUME_TYPES = frozenset({"secret", "configMap", "projected", "emptyDir"})
_VOLUME_FLAGS = {
    "persistentVolumeClaim": "kubernetes.podspec-persistent-volume-claim",
    "hostPath": "kubernetes.podspec-volumes-hostpath",
    "csi": "kubernetes.podspec-volumes-csi",
    "ephemeral": "kubernetes.podspec-volumes-ephemeral",
    "image": "kubernetes.podspec-volumes-image",
}
_READ_ONLY_TYPES = frozenset({"secret", "configMap", "projected"})
_INT32_MAX = 2**31 - 1


def check(report: Report, manifest: Mapping[str, Any]) -> None:
    """Every rule for a serving.knative.dev/v1 Service."""
    check_name(report, manifest, serving=True)
    metadata = mapping(manifest.get("metadata"))
    name = str(metadata.get("name") or "")
    annotations = mapping(metadata.get("annotations"))
    for key in annotations:
        if str(key).startswith(_AUTOSCALING_PREFIX):
            report.add(
                autoscaling.ON_METADATA,
                join("metadata.annotations", str(key)),
                "autoscaling annotations must be put under spec.template.metadata.annotations",
            )
    _duration_annotation(
        report,
        annotations,
        "metadata.annotations",
        ROLLOUT_DURATION,
        ("serving.knative.dev/rollout-duration", "serving.knative.dev/rolloutDuration"),
    )
    spec = mapping(manifest.get("spec"))
    template = mapping(spec.get("template"))
    _check_template_metadata(report, mapping(template.get("metadata")), name)
    _check_pod(report, mapping(template.get("spec")), "spec.template.spec")
    _check_traffic(report, spec.get("traffic"))


def _check_template_metadata(report: Report, metadata: Mapping[str, Any], service: str) -> None:
    path = "spec.template.metadata"
    annotations = mapping(metadata.get("annotations"))
    report.extend(autoscaling.check(annotations, join(path, "annotations")))
    for key in annotations:
        text = str(key)
        if text.startswith(_NETWORKING_PREFIX) and text not in _NETWORKING_ALLOWED:
            report.add(
                NETWORKING_ANNOTATION,
                join(join(path, "annotations"), text),
                f"{text} is not allowed on the template (visibility is a Service label)",
            )
    _duration_annotation(
        report,
        annotations,
        join(path, "annotations"),
        PROGRESS_DEADLINE,
        ("serving.knative.dev/progress-deadline",),
    )
    template_name = metadata.get("name")
    if template_name is not None and (
        not formats.is_dns1035_label(str(template_name))
        or not str(template_name).startswith(f"{service}-")
    ):
        report.add(
            TEMPLATE_NAME,
            join(path, "name"),
            f"{template_name!r} must be a DNS-1035 label starting with {service + '-'!r}",
        )


def _duration_annotation(
    report: Report,
    annotations: Mapping[str, Any],
    path: str,
    broken: Rule,
    keys: tuple[str, ...],
) -> None:
    for key in keys:
        if key in annotations:
            value = str(annotations[key])
            try:
                nanos = formats.parse_go_duration(value)
            except formats.DurationError:
                nanos = -1
            if nanos < 0 or nanos % formats.NANOS_PER_SECOND:
                report.add(
                    broken,
                    join(path, key),
                    f"{value!r} must be a non-negative duration in whole seconds",
                )
            return


def _check_pod(report: Report, pod: Mapping[str, Any], path: str) -> None:
    for key in pod:
        if key in _POD_ALLOWED:
            continue
        flag = _POD_FLAGS.get(str(key))
        reason = (
            f"needs the {flag} feature flag, which is disabled by default"
            if flag
            else "is not allowed by Knative"
        )
        report.add(POD_FIELDS, join(path, str(key)), f"the PodSpec field {key!r} {reason}")
    concurrency = pod.get("containerConcurrency")
    if concurrency is not None and (not _is_int(concurrency) or not 0 <= concurrency <= 1000):
        report.add(
            CONCURRENCY, join(path, "containerConcurrency"), f"{concurrency!r} must be in 0..1000"
        )
    timeout = pod.get("timeoutSeconds")
    if timeout is not None and (not _is_int(timeout) or not 0 <= timeout <= 600):
        report.add(
            TIMEOUT,
            join(path, "timeoutSeconds"),
            f"{timeout!r} must be in 0..600 (max-revision-timeout-seconds)",
        )
    if pod.get("automountServiceAccountToken") is True:
        report.add(
            AUTOMOUNT, join(path, "automountServiceAccountToken"), "may only be set to false"
        )
    account = pod.get("serviceAccountName")
    if account is not None and not formats.is_dns1123_subdomain(str(account)):
        report.add(
            SERVICE_ACCOUNT, join(path, "serviceAccountName"), f"{account!r} is not DNS-1123"
        )
    containers = [mapping(c) for _, c in items(pod.get("containers"))]
    ports = [
        (index, port_index, mapping(port))
        for index, container in enumerate(containers)
        for port_index, port in items(container.get("ports"))
    ]
    if len(ports) != 1 and not (len(ports) == 0 and len(containers) == 1):
        report.add(
            SINGLE_PORT,
            join(path, "containers"),
            f"{len(ports)} ports declared; Knative serves exactly one container port",
        )
    port_name = str(ports[0][2].get("name") or "") if ports else ""
    names: set[str] = set()
    mounted: set[str] = set()
    for index, container in enumerate(containers):
        where = join(join(path, "containers"), index)
        name = container.get("name")
        if name == "queue-proxy" or (name and name in names):
            report.add(CONTAINER_NAME, join(where, "name"), f"{name!r} is reserved or repeated")
        if name:
            names.add(str(name))
        _check_container(report, container, where, port_name)
        for _, mount in items(container.get("volumeMounts")):
            mounted.add(str(mapping(mount).get("name")))
    for index, container_index, port in ports:
        _check_port(
            report, port, join(join(join(path, "containers"), index), "ports"), container_index
        )
    _check_volumes(report, pod, path, containers, mounted)


def _check_container(
    report: Report, container: Mapping[str, Any], path: str, port_name: str
) -> None:
    for key in container:
        if key not in _CONTAINER_ALLOWED:
            report.add(
                CONTAINER_FIELDS,
                join(path, str(key)),
                f"the Container field {key!r} is not allowed by Knative",
            )
    image = container.get("image")
    if not image or not formats.is_image_reference(str(image)):
        report.add(IMAGE, join(path, "image"), f"{image!r} is not an image reference")
    for index, variable in items(container.get("env")):
        entry = mapping(variable)
        where = join(join(path, "env"), index)
        if entry.get("name") in RESERVED_ENV_NAMES:
            report.add(
                RESERVED_ENV, join(where, "name"), f"{entry.get('name')} is set by Knative itself"
            )
        value_from = mapping(entry.get("valueFrom"))
        for key in value_from:
            if key not in ("configMapKeyRef", "secretKeyRef"):
                report.add(
                    ENV_VALUE_FROM,
                    join(join(where, "valueFrom"), str(key)),
                    f"{key} needs the kubernetes.podspec-fieldref feature flag",
                )
    for key in mapping(container.get("resources")):
        if key not in ("limits", "requests"):
            report.add(
                RESOURCES, join(join(path, "resources"), str(key)), "only limits and requests"
            )
    for probe_key in ("readinessProbe", "livenessProbe", "startupProbe"):
        if probe_key in container:
            _check_probe(report, mapping(container[probe_key]), join(path, probe_key), port_name)
    _check_security(
        report, mapping(container.get("securityContext")), join(path, "securityContext")
    )
    policy = container.get("terminationMessagePolicy")
    if policy not in (None, "", "File", "FallbackToLogsOnError"):
        report.add(
            TERMINATION_POLICY,
            join(path, "terminationMessagePolicy"),
            f"{policy!r} is not File or FallbackToLogsOnError",
        )
    paths: set[str] = set()
    for index, mount in items(container.get("volumeMounts")):
        entry = mapping(mount)
        where = join(join(path, "volumeMounts"), index)
        for key in entry:
            if key not in ("name", "readOnly", "mountPath", "subPath"):
                report.add(VOLUME_MOUNTS, join(where, str(key)), f"{key!r} is not allowed")
        mount_path = str(entry.get("mountPath") or "")
        if not mount_path.startswith("/") or mount_path in ("/", "/dev", "/dev/log"):
            report.add(VOLUME_MOUNTS, join(where, "mountPath"), f"{mount_path!r} is not allowed")
        elif mount_path in paths:
            report.add(VOLUME_MOUNTS, join(where, "mountPath"), f"{mount_path!r} is mounted twice")
        paths.add(mount_path)


def _check_port(report: Report, port: Mapping[str, Any], path: str, index: int) -> None:
    where = join(path, index)
    for key in port:
        if key not in ("containerPort", "name", "protocol"):
            report.add(PORT_FIELDS, join(where, str(key)), f"{key!r} is not allowed on a port")
    name = port.get("name")
    if name not in (None, "", "http1", "h2c"):
        report.add(PORT_NAME, join(where, "name"), f"{name!r} must be http1 or h2c")
    if port.get("protocol") not in (None, "", "TCP"):
        report.add(PORT_NAME, join(where, "protocol"), "the protocol must be TCP")
    number = port.get("containerPort")
    if number is not None and (
        not _is_int(number) or not 0 <= number <= 65535 or number in _RESERVED_PORTS
    ):
        report.add(
            RESERVED_PORT,
            join(where, "containerPort"),
            f"{number!r} is reserved by Knative or out of range",
        )


def _check_probe(report: Report, probe: Mapping[str, Any], path: str, port_name: str) -> None:
    handlers = [key for key in probe if key in _PROBE_HANDLERS]
    others = [key for key in probe if key not in _PROBE_HANDLERS and key not in _PROBE_FIELDS]
    if len(handlers) != 1 or others:
        report.add(
            PROBE_HANDLER,
            path,
            f"needs exactly one of httpGet, tcpSocket, exec, grpc (found {handlers + others})",
        )
    period = probe.get("periodSeconds", 0)
    if period == 0:
        for key in ("failureThreshold", "timeoutSeconds"):
            if key in probe:
                report.add(
                    PROBE_THRESHOLDS,
                    join(path, key),
                    f"{key} must be unset when periodSeconds is 0 (aggressive probing)",
                )
    else:
        for key in ("failureThreshold", "timeoutSeconds"):
            value = probe.get(key)
            if value is not None and (not _is_int(value) or value < 1):
                report.add(PROBE_THRESHOLDS, join(path, key), f"{key} must be at least 1")
    success = probe.get("successThreshold")
    if success is not None and (not _is_int(success) or success < 1):
        report.add(PROBE_THRESHOLDS, join(path, "successThreshold"), "must be at least 1")
    for handler in handlers:
        port = mapping(probe[handler]).get("port")
        if isinstance(port, str) and port != port_name:
            report.add(
                PROBE_PORT,
                join(join(path, handler), "port"),
                f"named port {port!r} is not the serving port's name {port_name!r}",
            )


def _check_security(report: Report, context: Mapping[str, Any], path: str) -> None:
    for key in context:
        if key not in _SECURITY_ALLOWED:
            report.add(SECURITY_CONTEXT, join(path, str(key)), f"{key!r} is not allowed by Knative")
    if context.get("privileged") is True:
        report.add(SECURITY_CONTEXT, join(path, "privileged"), "privileged may only be false")
    added = mapping(context.get("capabilities")).get("add")
    if added:
        report.add(
            CAPABILITIES_ADD,
            join(join(path, "capabilities"), "add"),
            "needs kubernetes.containerspec-addcapabilities (disabled by default)",
        )
    for key in ("runAsUser", "runAsGroup"):
        value = context.get(key)
        if value is not None and (not _is_int(value) or not 0 <= value <= _INT32_MAX):
            report.add(RUN_AS, join(path, key), f"{value!r} must be in 0..{_INT32_MAX}")


def _check_volumes(
    report: Report,
    pod: Mapping[str, Any],
    path: str,
    containers: list[Mapping[str, Any]],
    mounted: set[str],
) -> None:
    names: dict[str, str] = {}
    for index, volume in items(pod.get("volumes")):
        entry = mapping(volume)
        where = join(join(path, "volumes"), index)
        name = str(entry.get("name") or "")
        kinds = [key for key in entry if key != "name"]
        for kind in kinds:
            if kind not in _VOLUME_TYPES:
                flag = _VOLUME_FLAGS.get(str(kind))
                reason = f"needs {flag} (disabled by default)" if flag else "is not allowed"
                report.add(VOLUMES, join(where, str(kind)), f"volume type {kind!r} {reason}")
        if name in names:
            report.add(VOLUMES, join(where, "name"), f"volume {name!r} is declared twice")
        names[name] = kinds[0] if kinds else ""
        if name not in mounted:
            report.add(VOLUMES, join(where, "name"), f"volume {name!r} is not mounted")
    for index, container in enumerate(containers):
        for mount_index, mount in items(container.get("volumeMounts")):
            entry = mapping(mount)
            if names.get(str(entry.get("name"))) in _READ_ONLY_TYPES and not entry.get("readOnly"):
                report.add(
                    VOLUME_MOUNTS,
                    join(join(join(join(path, "containers"), index), "volumeMounts"), mount_index),
                    "secret, configMap and projected volumes must be mounted readOnly",
                )


def _check_traffic(report: Report, traffic: Any) -> None:
    if traffic is None:
        return
    total = 0
    for index, target in items(traffic):
        entry = mapping(target)
        where = join("spec.traffic", index)
        percent = entry.get("percent", 0)
        if not _is_int(percent) or not 0 <= percent <= 100:
            report.add(TRAFFIC, join(where, "percent"), f"{percent!r} must be in 0..100")
        else:
            total += percent
        if "configurationName" in entry or "url" in entry:
            report.add(TRAFFIC, where, "a Service's traffic may not name a configuration or url")
        if entry.get("revisionName") and entry.get("latestRevision") is True:
            report.add(TRAFFIC, where, "latestRevision must be false with a revisionName")
    if total != 100:
        report.add(TRAFFIC, "spec.traffic", f"the percents add up to {total}, not 100")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
