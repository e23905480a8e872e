"""The pod's time to stop: Knative's drain, then the host's grace period, inside timeoutSeconds.

A revision's pods get no terminationGracePeriodSeconds of their own: Knative's
`BuildPodSpec` (Serving, pkg/reconciler/revision/resources/deploy.go) sets it to the
revision's timeoutSeconds, and its PodSpec field mask drops one written in the
template. Of that time the queue-proxy's preStop drain takes at least 30 s before the
container gets SIGTERM (CONTRACT.md "Lifecycle, SIGTERM and graceful shutdown"); the
host then drains for its grace period (KFN_GRACE_PERIOD, written from
`[tool.kfn] grace-period`) and is gone `EXIT_MARGIN` after it. A timeoutSeconds
shorter than all three would have the kubelet kill the host while it still finishes
events, so kfn refuses it.
"""

from __future__ import annotations

import math

from kfn._errors import ConfigError
from kfn.config import Settings as HostSettings
from kfn.config import parse_duration
from kfn.deploy import defaults
from kfn.deploy.errors import DeployError
from kfn.deploy.types import UnitSettings
from kfn.server import EXIT_MARGIN

GRACE_PERIOD_ENV = "KFN_GRACE_PERIOD"
DRAIN_SECONDS = defaults.DRAIN_SECONDS
MAX_TIMEOUT_SECONDS = defaults.MAX_TIMEOUT_SECONDS


def grace_period(settings: UnitSettings) -> float:
    """The host's grace period in this unit: `grace-period`, else the host's default."""
    if settings.grace_period is None:
        return HostSettings().grace_period
    try:
        return parse_duration(GRACE_PERIOD_ENV, settings.grace_period)
    except ConfigError as error:  # the table checked it already
        raise DeployError(f"grace-period: {error}") from None


def seconds_to_stop(settings: UnitSettings) -> int:
    """The least timeoutSeconds the unit's pods stop within: drain, grace period, exit."""
    return DRAIN_SECONDS + math.ceil(grace_period(settings) + EXIT_MARGIN)


def _stop(settings: UnitSettings) -> str:
    grace = grace_period(settings)
    whose = "grace-period" if settings.grace_period is not None else "default grace period"
    return (
        f"Knative's {DRAIN_SECONDS} s drain before SIGTERM, then the host's {grace:g} s "
        f"{whose} and {EXIT_MARGIN:g} s to exit"
    )


def check_fits_knative(unit: str, settings: UnitSettings) -> int:
    """The unit's seconds to stop; raises DeployError when Knative's longest timeout is less."""
    needed = seconds_to_stop(settings)
    if needed > MAX_TIMEOUT_SECONDS:
        longest = MAX_TIMEOUT_SECONDS - DRAIN_SECONDS - math.ceil(EXIT_MARGIN)
        raise DeployError(
            f"grace-period = {settings.grace_period} for Service {unit!r} is too long: the pod "
            f"must stop within timeoutSeconds, at most {MAX_TIMEOUT_SECONDS} on Knative, and "
            f"that time holds {_stop(settings)}; set grace-period to at most {longest}s"
        )
    return needed


def check_timeout(unit: str, timeout_seconds: int, settings: UnitSettings) -> None:
    """Refuse a configured timeout-seconds the pod cannot stop within (see the module)."""
    needed = check_fits_knative(unit, settings)
    if timeout_seconds >= needed:
        return
    room = timeout_seconds - DRAIN_SECONDS - math.ceil(EXIT_MARGIN)
    shorter = f", or grace-period to at most {room}s" if room >= 1 else ""
    raise DeployError(
        f"timeout-seconds = {timeout_seconds} for Service {unit!r} is also the pod's time to "
        f"stop, too short for {_stop(settings)}; set timeout-seconds to at least "
        f"{needed}{shorter}"
    )


__all__ = [
    "GRACE_PERIOD_ENV",
    "check_fits_knative",
    "check_timeout",
    "grace_period",
    "seconds_to_stop",
]
