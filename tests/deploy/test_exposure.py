"""Event endpoints reachable from outside the cluster take no events unless the user opts in.

A public Service (one with a public @http function) with event functions becomes two
Services by default: the public one with its event endpoints off, and `<name>-events`,
cluster-local, which the Triggers and PingSources deliver to. `sender-identity = true`
keeps one Service whose events need a token for its audience; `public-events = true`
keeps one Service that takes events from anywhere.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from kfn.deploy.errors import DeployError
from kfn.deploy.generate import Generation, generate
from kfn.registry import Registry
from kfn.schedule import schedule
from tests.deploy.conftest import IMAGE, REPO, by_kind, make_settings, one
from tests.deploy.crd_validation import CrdValidator

Build = Callable[..., Generation]
VISIBILITY = "networking.knative.dev/visibility"


def shop(registry: Registry, service: str | None = None) -> Registry:
    @registry.http("/hello", service=service)
    async def hello() -> dict[str, str]:
        return {}

    @registry.cloudevent(type="com.example.order.created", service=service)
    async def bill(event: Any) -> None:
        return None

    @schedule("0 3 * * *", service=service, registry=registry)
    async def sweep(event: Any) -> None:
        return None

    return registry


def opted(registry: Registry, choice: str, **table: Any) -> Generation:
    """generate() with `sender_identity` or `public_events` on."""
    settings = make_settings(**table)
    if choice == "sender_identity":
        settings = replace(settings, sender_identity=True)
    else:
        settings = replace(settings, public_events=True)
    return generate(settings, registry, image=IMAGE)


def env(service: dict[str, Any]) -> dict[str, str]:
    container = service["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_a_public_service_with_events_is_split_and_its_events_stay_in_the_cluster(
    registry: Registry, build: Build
) -> None:
    generation = build(shop(registry), name="shop")
    public, events = by_kind(generation, "Service")
    assert public["metadata"]["name"] == "shop"
    assert VISIBILITY not in public["metadata"]["labels"]
    assert env(public)["KFN_EVENT_ENDPOINTS"] == "false"
    assert events["metadata"]["name"] == "shop-events"
    assert events["metadata"]["labels"][VISIBILITY] == "cluster-local"
    assert "KFN_EVENT_ENDPOINTS" not in env(events)
    trigger = one(generation, "Trigger")["spec"]["subscriber"]
    ping = one(generation, "PingSource")["spec"]["sink"]
    for destination, function in ((trigger, "bill"), (ping, "sweep")):
        assert destination == {
            "ref": {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "name": "shop-events",
            },
            "uri": f"/events/{function}",
        }
    assert generation.exposure == [
        "shop: public; takes no events (403); its event functions run in shop-events",
        "shop-events: cluster-local; events from inside the cluster only",
    ]


def test_a_public_group_is_split_and_both_halves_load_the_group(
    registry: Registry, build: Build
) -> None:
    shop(registry, service="web")

    @registry.cloudevent(type="com.example.other")
    async def other(event: Any) -> None:
        return None

    services = {s["metadata"]["name"]: s for s in by_kind(build(registry, name="app"), "Service")}
    assert sorted(services) == ["app", "web", "web-events"]
    assert env(services["web"])["KFN_SERVICE_UNIT"] == "web"
    assert env(services["web-events"])["KFN_SERVICE_UNIT"] == "web"
    assert services["app"]["metadata"]["labels"][VISIBILITY] == "cluster-local"


def test_a_cluster_local_service_is_not_split(registry: Registry, build: Build) -> None:
    @registry.http("/internal", public=False)
    async def internal() -> None:
        return None

    @registry.cloudevent(type="t")
    async def handle(event: Any) -> None:
        return None

    generation = build(registry, name="app")
    assert [s["metadata"]["name"] for s in by_kind(generation, "Service")] == ["app"]
    assert generation.exposure == ["app: cluster-local; events from inside the cluster only"]


def test_sender_identity_keeps_one_service_and_names_its_audience(
    registry: Registry, crds: CrdValidator
) -> None:
    generation = opted(shop(registry), "sender_identity", name="shop", namespace="store")
    audience = "serving.knative.dev/service/store/shop"
    service = one(generation, "Service")
    assert VISIBILITY not in service["metadata"]["labels"]
    assert env(service)["KFN_OIDC_AUDIENCE"] == audience
    assert "KFN_EVENT_ENDPOINTS" not in env(service)
    assert one(generation, "Trigger")["spec"]["subscriber"]["audience"] == audience
    assert one(generation, "PingSource")["spec"]["sink"]["audience"] == audience
    for manifest in generation.manifests:
        assert crds.errors(manifest) == []
    assert generation.exposure == [
        f"shop: public; events only with a sender-identity token for {audience} (401 without)"
    ]


def test_public_events_is_the_opt_in_to_events_from_anywhere(registry: Registry) -> None:
    generation = opted(shop(registry), "public_events", name="shop")
    service = one(generation, "Service")
    assert "KFN_EVENT_ENDPOINTS" not in env(service)
    assert "audience" not in one(generation, "Trigger")["spec"]["subscriber"]
    assert generation.exposure == [
        "shop: public; events from anywhere, outside the cluster too (public-events = true)"
    ]


def test_a_split_whose_events_name_is_taken_is_refused(registry: Registry, build: Build) -> None:
    shop(registry)

    @registry.cloudevent(type="t", service="shop-events")
    async def elsewhere(event: Any) -> None:
        return None

    with pytest.raises(DeployError, match=r"'shop-events'.*is a group of its own"):
        build(registry, name="shop")


def test_kfn_manifests_prints_what_each_service_exposes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kfn", "manifests", "--stdout"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    exposed = [line for line in result.stderr.splitlines() if line.startswith("kfn: exposed: ")]
    assert exposed == [
        "kfn: exposed: shop: public; takes no events (403); its event functions run in shop-events",
        "kfn: exposed: shop-events: cluster-local; events from inside the cluster only",
        "kfn: exposed: maintenance: cluster-local; events from inside the cluster only",
    ]
    assert "exposed" not in result.stdout


def test_the_settings_keys_turn_the_choices_on(registry: Registry, build: Build) -> None:
    shop(registry)
    guarded = build(registry, name="shop", **{"sender-identity": True})
    assert [s["metadata"]["name"] for s in by_kind(guarded, "Service")] == ["shop"]
    assert "audience" in one(guarded, "Trigger")["spec"]["subscriber"]
    open_ = build(registry, name="shop", **{"public-events": True})
    assert open_.exposure == [
        "shop: public; events from anywhere, outside the cluster too (public-events = true)"
    ]


def test_the_settings_keys_are_booleans(registry: Registry, build: Build) -> None:
    with pytest.raises(DeployError, match="sender-identity"):
        build(shop(registry), name="shop", **{"sender-identity": "yes"})


def test_kfn_sets_the_audience_and_the_endpoints_switch_itself(
    registry: Registry, build: Build
) -> None:
    for name in ("KFN_OIDC_AUDIENCE", "KFN_EVENT_ENDPOINTS"):
        with pytest.raises(DeployError, match=name):
            build(shop(registry), name="shop", env={name: "x"})
        registry = Registry()
