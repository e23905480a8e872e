"""The pod's time to stop: timeoutSeconds holds Knative's drain, the host's grace period and exit.

Knative sets a pod's terminationGracePeriodSeconds to the revision's timeoutSeconds;
the queue-proxy drains 30 s of it before SIGTERM, and the host then drains for its
grace period and is gone 2 s after it (kfn.server's watchdog). `[tool.kfn]
grace-period` is written as KFN_GRACE_PERIOD, and timeoutSeconds is derived, or
checked, to hold all three.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kfn.config import Settings as HostSettings
from kfn.deploy.errors import DeployError
from kfn.deploy.generate import Generation
from kfn.deploy.settings import SettingsError
from kfn.registry import Registry
from kfn.server import EXIT_MARGIN
from tests.deploy.conftest import make_settings, one
from tests.deploy.test_deploy_cli import kfn

Build = Callable[..., Generation]
DRAIN = 30


def _quick(registry: Registry, timeout: float = 5, service: str | None = None) -> None:
    @registry.cloudevent(type="com.example.quick", timeout=timeout, service=service)
    async def quick(event: Any) -> None:
        return None


def _pod(generation: Generation, name: str = "app") -> dict[str, Any]:
    pod: dict[str, Any] = one(generation, "Service", name)["spec"]["template"]["spec"]
    return pod


def _env(pod: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v.get("value", "") for v in pod["containers"][0].get("env", [])}


def _stops_in_time(pod: dict[str, Any]) -> bool:
    """What the host reads from the env kfn writes, against the time Knative gives the pod."""
    host = HostSettings.from_env(_env(pod))
    timeout: int = pod["timeoutSeconds"]
    return DRAIN + host.grace_period + EXIT_MARGIN <= timeout


def test_short_functions_still_get_time_for_the_default_grace_period(
    registry: Registry, build: Build
) -> None:
    _quick(registry, timeout=5)
    pod = _pod(build(registry))
    assert pod["timeoutSeconds"] == DRAIN + 30 + 2
    assert "KFN_GRACE_PERIOD" not in _env(pod)
    assert _stops_in_time(pod)


def test_grace_period_is_written_for_the_host_and_timeout_seconds_makes_room(
    registry: Registry, build: Build
) -> None:
    _quick(registry, timeout=5)
    pod = _pod(build(registry, **{"grace-period": "10s"}))
    assert _env(pod)["KFN_GRACE_PERIOD"] == "10s"
    assert pod["timeoutSeconds"] == DRAIN + 10 + 2
    assert _stops_in_time(pod)
    pod = _pod(build(registry, **{"grace-period": 2.5}))
    assert (_env(pod)["KFN_GRACE_PERIOD"], pod["timeoutSeconds"]) == ("2.5", DRAIN + 5)
    assert _stops_in_time(pod)


def test_a_long_function_timeout_still_decides_timeout_seconds(
    registry: Registry, build: Build
) -> None:
    _quick(registry, timeout=100)
    pod = _pod(build(registry, **{"grace-period": "10s"}))
    assert pod["timeoutSeconds"] == 100 + DRAIN


def test_a_configured_timeout_that_holds_the_stop_is_kept(registry: Registry, build: Build) -> None:
    _quick(registry)
    pod = _pod(build(registry, **{"timeout-seconds": 45, "grace-period": "13s"}))
    assert pod["timeoutSeconds"] == 45
    assert _stops_in_time(pod)


def test_a_configured_timeout_too_short_for_the_default_grace_period_is_refused(
    registry: Registry, build: Build
) -> None:
    _quick(registry)
    with pytest.raises(DeployError) as refused:
        build(registry, **{"timeout-seconds": 45})
    message = str(refused.value)
    assert message.startswith("timeout-seconds = 45 for Service 'app' is also the pod's time")
    assert "the host's 30 s default grace period" in message
    assert message.endswith("set timeout-seconds to at least 62, or grace-period to at most 13s")
    assert "\n" not in message


def test_a_configured_timeout_too_short_for_the_grace_period_is_refused(
    registry: Registry, build: Build
) -> None:
    _quick(registry)
    with pytest.raises(DeployError, match=r"host's 40 s grace-period .* at least 72, or grace"):
        build(registry, **{"timeout-seconds": 60, "grace-period": "40s"})
    with pytest.raises(DeployError, match=r"at least 42$"):
        build(registry, **{"timeout-seconds": 32, "grace-period": "10s"})


def test_a_grace_period_knative_has_no_room_for_is_refused(
    registry: Registry, build: Build
) -> None:
    _quick(registry)
    with pytest.raises(DeployError, match=r"grace-period = 10m .* at most 568s$"):
        build(registry, **{"grace-period": "10m"})
    pod = _pod(build(registry, **{"grace-period": "568s"}))
    assert pod["timeoutSeconds"] == 600


def test_a_group_has_a_grace_period_of_its_own(registry: Registry, build: Build) -> None:
    _quick(registry)
    _quick_billing(registry)
    generation = build(
        registry,
        **{"grace-period": "5s", "services": {"billing": {"grace-period": "1m"}}},
    )
    app, billing = _pod(generation, "app"), _pod(generation, "billing")
    assert (_env(app)["KFN_GRACE_PERIOD"], app["timeoutSeconds"]) == ("5s", DRAIN + 7)
    assert (_env(billing)["KFN_GRACE_PERIOD"], billing["timeoutSeconds"]) == ("1m", DRAIN + 62)
    assert _stops_in_time(app) and _stops_in_time(billing)


def _quick_billing(registry: Registry) -> None:
    @registry.cloudevent(type="com.example.charge", timeout=5, service="billing")
    async def charge(event: Any) -> None:
        return None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"grace-period": "soon"},
            "tool.kfn.grace-period = 'soon': must be a duration such as '20s', '1m' or 45",
        ),
        ({"grace-period": 0}, "tool.kfn.grace-period = 0: must be a duration"),
        ({"grace-period": True}, "tool.kfn.grace-period = True: must be a duration"),
        (
            {"services": {"billing": {"grace-period": "-1s"}}},
            "tool.kfn.services.billing.grace-period = '-1s': must be a duration",
        ),
        (
            {"env": {"KFN_GRACE_PERIOD": "10s"}},
            "tool.kfn.env.KFN_GRACE_PERIOD: is set by kfn itself (use [tool.kfn] functions, "
            "grace-period,",
        ),
    ],
)
def test_a_bad_grace_period_is_one_line_naming_its_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        make_settings(**table)
    assert str(raised.value).startswith(message)


PYPROJECT = """\
[project]
name = "quick"
version = "0.1.0"

[tool.kfn]
functions = ["handlers"]
image = "registry.example.com/quick:1"
timeout-seconds = {timeout}
"""
HANDLERS = """\
from kfn import cloudevent

@cloudevent(type="quick.done", timeout=5)
async def done(event) -> None:
    return None
"""


def test_kfn_manifests_refuses_a_timeout_the_pod_cannot_stop_within(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(timeout=40), encoding="utf-8")
    (tmp_path / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    result = kfn(tmp_path, "manifests")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kfn: timeout-seconds = 40 for Service 'quick'")
    assert "grace-period to at most 8s" in lines[0]
    assert not (tmp_path / "deploy").exists()
