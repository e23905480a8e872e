"""What the generator writes for the decorators: Services, Triggers, PingSources, SinkBindings, EventTypes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from kfn.deploy import render
from kfn.deploy.errors import DeployError
from kfn.deploy.generate import Generation, generate
from kfn.deploy.resources import service as service_builder
from kfn.filters import cesql, exact, not_, prefix
from kfn.registry import Registry
from kfn.schedule import schedule
from tests.deploy.conftest import IMAGE, by_kind, kitchen_sink, make_settings, one

Build = Callable[..., Generation]


def _events_only(registry: Registry) -> None:
    @registry.cloudevent(type="com.example.order.created", reply_type="com.example.invoice.created")
    async def bill(event: Any) -> None:
        return None


def _container(service: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = service["spec"]["template"]["spec"]["containers"][0]
    return container


# -- Service ----------------------------------------------------------------------------


def test_one_service_scales_to_zero_with_autoscaling_on_the_template(
    registry: Registry, build: Build
) -> None:
    _events_only(registry)
    service = one(build(registry, name="shop"), "Service")
    assert service["metadata"]["name"] == "shop"
    assert "annotations" not in service["metadata"]
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "0"
    assert set(annotations) >= {
        "autoscaling.knative.dev/max-scale",
        "autoscaling.knative.dev/target",
        "autoscaling.knative.dev/metric",
        "autoscaling.knative.dev/scale-down-delay",
    }


def test_the_container_has_one_http1_port_probes_and_the_image(
    registry: Registry, build: Build
) -> None:
    _events_only(registry)
    container = _container(one(build(registry), "Service"))
    assert container["image"] == IMAGE
    assert container["ports"] == [{"name": "http1", "containerPort": 8080}]
    assert container["readinessProbe"] == {"httpGet": {"path": "/health/readiness"}}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/liveness"}
    assert "command" not in container and "args" not in container  # the image's CMD runs


def test_the_container_runs_restricted_with_a_writable_tmp(
    registry: Registry, build: Build
) -> None:
    _events_only(registry)
    service = one(build(registry), "Service")
    container = _container(service)
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert service["spec"]["template"]["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}}]


def test_concurrency_and_timeout_are_set_from_the_settings(
    registry: Registry, build: Build
) -> None:
    _events_only(registry)
    pod = one(build(registry, **{"container-concurrency": 20, "timeout-seconds": 120}), "Service")[
        "spec"
    ]["template"]["spec"]
    assert (pod["containerConcurrency"], pod["timeoutSeconds"]) == (20, 120)


def test_a_service_without_public_http_is_cluster_local(registry: Registry, build: Build) -> None:
    _events_only(registry)

    @registry.http("/internal", public=False)
    async def internal() -> None:
        return None

    labels = one(build(registry), "Service")["metadata"]["labels"]
    assert labels["networking.knative.dev/visibility"] == "cluster-local"


def test_a_public_http_function_makes_the_service_public_and_warns_for_private_ones(
    registry: Registry, build: Build
) -> None:
    @registry.http("/hello")
    async def hello() -> None:
        return None

    @registry.http("/admin", public=False)
    async def admin() -> None:
        return None

    generation = build(registry)
    assert (
        "networking.knative.dev/visibility" not in one(generation, "Service")["metadata"]["labels"]
    )
    assert any("public=False" in w and "admin" in w for w in generation.warnings)


def test_env_secrets_config_maps_resources_and_account_reach_the_container(
    registry: Registry, build: Build
) -> None:
    _events_only(registry)
    service = one(
        build(
            registry,
            functions=["functions", "extra"],
            env={
                "A": "1",
                "DB": {"secret": "db", "key": "url"},
                "F": {"config-map": "f", "key": "k"},
            },
            secrets=["api"],
            **{"config-maps": ["cfg"], "service-account": "runner"},
            resources={"limits": {"cpu": "1"}},
        ),
        "Service",
    )
    container = _container(service)
    assert container["env"] == [
        {"name": "KFN_FUNCTIONS", "value": "functions,extra"},
        {"name": "A", "value": "1"},
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
        {"name": "F", "valueFrom": {"configMapKeyRef": {"name": "f", "key": "k"}}},
    ]
    assert container["envFrom"] == [
        {"secretRef": {"name": "api"}},
        {"configMapRef": {"name": "cfg"}},
    ]
    assert container["resources"]["limits"] == {"memory": "256Mi", "cpu": "1"}
    assert service["spec"]["template"]["spec"]["serviceAccountName"] == "runner"


def test_grouped_services_run_the_same_image_and_name_their_unit(build: Build) -> None:
    app, table = kitchen_sink()
    generation = build(app, **table)
    services = by_kind(generation, "Service")
    # shop is public: its event functions run in the cluster-local shop-events (same unit).
    assert [s["metadata"]["name"] for s in services] == ["shop", "shop-events", "backoffice"]
    for service in services:
        container = _container(service)
        assert container["image"] == IMAGE
        unit = [e["value"] for e in container["env"] if e["name"] == "KFN_SERVICE_UNIT"]
        assert unit == [service["metadata"]["name"].removesuffix("-events")]
    backoffice = services[2]
    assert backoffice["metadata"]["labels"]["networking.knative.dev/visibility"] == "cluster-local"
    assert (
        backoffice["spec"]["template"]["metadata"]["annotations"][
            "autoscaling.knative.dev/min-scale"
        ]
        == "1"
    )
    assert backoffice["spec"]["template"]["spec"]["timeoutSeconds"] == 300


# -- Trigger ---------------------------------------------------------------------------


def test_each_cloudevent_function_gets_a_trigger_to_its_own_endpoint(
    registry: Registry, build: Build
) -> None:
    @registry.cloudevent(
        filters=[prefix(type="com.example."), not_(exact(subject="test")), cesql("EXISTS x")],
        service="audit",
    )
    def audit(event: Any) -> None:
        return None

    trigger = one(build(registry, name="shop", broker="events"), "Trigger")
    assert trigger["metadata"]["name"] == "shop-audit"
    assert trigger["metadata"]["annotations"] == {"kfn/function": "audit"}
    assert trigger["spec"]["broker"] == "events"
    assert trigger["spec"]["filters"] == [
        {"prefix": {"type": "com.example."}},
        {"not": {"exact": {"subject": "test"}}},
        {"cesql": "EXISTS x"},
    ]
    assert trigger["spec"]["subscriber"] == {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "audit"},
        "uri": "/events/audit",
    }
    assert "delivery" not in trigger["spec"]  # the Broker's delivery applies


def test_several_exact_attributes_become_one_dialect_per_item(
    registry: Registry, build: Build
) -> None:
    @registry.cloudevent(type="t.x", source="/s")
    async def f(event: Any) -> None:
        return None

    filters = one(build(registry), "Trigger")["spec"]["filters"]
    assert filters == [{"exact": {"type": "t.x"}}, {"exact": {"source": "/s"}}]


def test_delivery_comes_from_the_settings_with_decorator_overrides(
    registry: Registry, build: Build
) -> None:
    @registry.cloudevent(
        type="a", delivery={"retry": 1, "dead_letter_sink": "http://dlq.default.svc"}
    )
    async def first(event: Any) -> None:
        return None

    @registry.cloudevent(type="b")
    async def second(event: Any) -> None:
        return None

    generation = build(
        registry,
        delivery={"retry": 5, "backoff-policy": "exponential", "backoff-delay": "200ms"},
    )
    assert one(generation, "Trigger", "app-first")["spec"]["delivery"] == {
        "deadLetterSink": {"uri": "http://dlq.default.svc"},
        "retry": 1,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.2S",
    }
    assert one(generation, "Trigger", "app-second")["spec"]["delivery"] == {
        "retry": 5,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.2S",
    }


def test_a_wrong_decorator_delivery_names_the_function(registry: Registry, build: Build) -> None:
    @registry.cloudevent(type="a", delivery={"retries": 1})
    async def first(event: Any) -> None:
        return None

    with pytest.raises(DeployError, match=r"delivery=.*'first'.*delivery\.retries: unknown key"):
        build(registry)


def test_a_function_without_filters_gets_a_catch_all_trigger_and_a_warning(
    registry: Registry, build: Build
) -> None:
    @registry.cloudevent()
    async def everything(event: Any) -> None:
        return None

    generation = build(registry)
    assert "filters" not in one(generation, "Trigger")["spec"]
    assert any("no filters" in w for w in generation.warnings)


def test_a_delivery_timeout_shorter_than_the_function_warns(
    registry: Registry, build: Build
) -> None:
    @registry.cloudevent(type="a", timeout=30)
    async def slow(event: Any) -> None:
        return None

    generation = build(registry, delivery={"timeout": "10s"})
    assert one(generation, "Trigger")["spec"]["delivery"] == {"timeout": "PT10S"}
    assert any("shorter than its 30 s function timeout" in w for w in generation.warnings)


# -- PingSource, SinkBinding, EventType -------------------------------------------------


def test_a_scheduled_function_gets_a_pingsource_and_no_trigger(
    registry: Registry, build: Build
) -> None:
    @schedule("0 3 * * *", timezone="Europe/Berlin", data={"task": "sweep"}, registry=registry)
    async def nightly(event: Any) -> None:
        return None

    generation = build(registry, name="shop")
    assert by_kind(generation, "Trigger") == []
    ping = one(generation, "PingSource")
    assert ping["metadata"]["name"] == "shop-nightly"
    assert ping["spec"] == {
        "schedule": "0 3 * * *",
        "timezone": "Europe/Berlin",
        "contentType": "application/json",
        "data": '{"task": "sweep"}',
        "sink": {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "shop"},
            "uri": "/events/nightly",
        },
    }


def test_bytes_data_is_sent_as_base64(registry: Registry, build: Build) -> None:
    @schedule("@hourly", data=b"\x01\x02", registry=registry)
    async def job(event: Any) -> None:
        return None

    spec = one(build(registry), "PingSource")["spec"]
    assert (spec["dataBase64"], spec["contentType"]) == ("AQI=", "application/octet-stream")
    assert "data" not in spec and "timezone" not in spec


def test_a_unit_that_emits_gets_a_sinkbinding_to_the_broker(build: Build) -> None:
    app, table = kitchen_sink()
    bindings = by_kind(build(app, **table), "SinkBinding")
    assert [b["metadata"]["name"] for b in bindings] == ["backoffice-sink", "shop-events-sink"]
    assert bindings[0]["spec"] == {
        "subject": {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "name": "backoffice",
        },
        "sink": {
            "ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "events"}
        },
    }


def test_no_sinkbinding_without_emits(registry: Registry, build: Build) -> None:
    _events_only(registry)
    assert by_kind(build(registry), "SinkBinding") == []


def test_eventtypes_list_the_consumed_and_produced_types(registry: Registry, build: Build) -> None:
    _events_only(registry)

    @registry.cloudevent(type="com.example.invoice.created", emits=["com.example.mail.sent"])
    async def mail(event: Any) -> None:
        return None

    types = by_kind(build(registry, name="shop"), "EventType")
    assert [t["metadata"]["name"] for t in types] == [
        "shop-com-example-invoice-created",
        "shop-com-example-mail-sent",
        "shop-com-example-order-created",
    ]
    invoice = types[0]
    assert invoice["metadata"]["annotations"] == {
        "kfn/consumed-by": "mail",
        "kfn/produced-by": "bill",
    }
    assert invoice["spec"]["attributes"][0] == {
        "name": "type",
        "value": "com.example.invoice.created",
        "required": True,
    }
    assert invoice["spec"]["reference"] == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": "default",
    }


def test_eventtypes_can_be_turned_off(registry: Registry, build: Build) -> None:
    _events_only(registry)
    assert by_kind(build(registry, **{"event-types": False}), "EventType") == []


# -- the whole generation -----------------------------------------------------------------


def test_the_output_is_deterministic_and_independent_of_declaration_order(
    build: Build,
) -> None:
    app, table = kitchen_sink()
    first = build(app, **table).files
    assert build(app, **table).files == first
    reversed_app = Registry()
    for name in reversed(list(app.functions)):
        reversed_app.add(app.functions[name])
    assert build(reversed_app, **table).files == first
    text = "".join(first.values())
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "no dates or timestamps"
    assert "&id" not in text and "*id" not in text, "no YAML anchors"


def test_manifests_are_ordered_for_apply_and_files_split_by_kind(build: Build) -> None:
    app, table = kitchen_sink()
    generation = build(app, **table)
    kinds = [m["kind"] for m in generation.manifests]
    order = ["Service", "SinkBinding", "Trigger", "PingSource", "EventType"]
    assert kinds == sorted(kinds, key=order.index)
    assert list(generation.files) == [
        "services.yaml",
        "sinkbindings.yaml",
        "triggers.yaml",
        "pingsources.yaml",
        "eventtypes.yaml",
        "kustomization.yaml",
        "Dockerfile",
    ]
    reread = render.load_all(generation.files["services.yaml"])
    assert reread == by_kind(generation, "Service")
    first = render.load_all(generation.files["triggers.yaml"])[0]
    assert list(first) == ["apiVersion", "kind", "metadata", "spec"]


def test_the_kustomization_uses_labels_without_selectors(build: Build) -> None:
    app, table = kitchen_sink()
    text = build(app, **table).files["kustomization.yaml"]
    (kustomization,) = render.load_all(text)
    assert "commonLabels" not in kustomization
    assert kustomization["labels"] == [
        {"pairs": {"app.kubernetes.io/part-of": "shop"}, "includeSelectors": False}
    ]
    assert kustomization["resources"][0] == "services.yaml"


def test_an_image_is_required_and_must_parse(registry: Registry) -> None:
    _events_only(registry)
    with pytest.raises(DeployError, match="no image"):
        generate(make_settings(), registry)
    with pytest.raises(DeployError, match="not an image reference"):
        generate(make_settings(), registry, image="Bad Image")
    assert generate(make_settings(image=IMAGE), registry).manifests


def test_the_generator_refuses_a_manifest_knative_would_reject(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _events_only(registry)
    real = service_builder.build

    def broken(*args: Any) -> dict[str, Any]:
        manifest = real(*args)
        manifest["spec"]["template"]["spec"]["containerConcurrency"] = -1
        return manifest

    monkeypatch.setattr(service_builder, "build", broken)
    with pytest.raises(
        DeployError, match=r"(?s)Knative would reject.*serving.container-concurrency"
    ):
        generate(make_settings(), registry, image=IMAGE)


def _refs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["ref"]] if isinstance(node.get("ref"), dict) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_every_generated_ref_stays_in_the_objects_namespace() -> None:
    """Refs never name a namespace, so each resolves beside the object that holds it."""
    app, table = kitchen_sink()
    refs = [
        ref
        for m in generate(make_settings(**table), app, image=IMAGE).manifests
        for ref in _refs(m)
    ]
    assert len(refs) > 5
    assert [ref for ref in refs if "namespace" in ref] == []
