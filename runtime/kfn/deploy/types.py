"""The typed settings of `kfn manifests`: what `[tool.kfn]` reads into (Knative's `_types`).

The table's model and checks are kfn.deploy.table, reading and resolving it is
kfn.deploy.settings, the defaults are kfn.deploy.defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from kfn.config import DEFAULT_FUNCTIONS
from kfn.deploy import defaults
from kfn.deploy.knative import AUTOSCALING_PREFIX, KPA, SCALE_KEYS


@dataclass(frozen=True)
class EnvVar:
    """One container env var: a literal value, or one key of a Secret or a ConfigMap."""

    name: str
    value: str | None = None
    secret: str | None = None
    config_map: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Destination:
    """Where events go: an absolute URI, or a reference (with an optional relative URI)."""

    uri: str | None = None
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A Trigger's delivery; every field is optional and None leaves the Broker's default."""

    retry: int | None = None
    backoff_policy: str | None = None
    backoff_delay: str | None = None  # ISO-8601
    timeout: str | None = None  # ISO-8601
    dead_letter_sink: Destination | None = None

    def merged(self, override: Delivery) -> Delivery:
        """This delivery with every field `override` sets replaced."""
        changes = {
            name: getattr(override, name)
            for name in self.__dataclass_fields__
            if getattr(override, name) is not None
        }
        return replace(self, **changes)

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class UnitSettings:
    """What one Knative Service runs with; the app's settings, overridden per group."""

    scale: Mapping[str, str] = field(default_factory=lambda: dict(defaults.SCALE))
    requests: Mapping[str, str] = field(default_factory=lambda: dict(defaults.REQUESTS))
    limits: Mapping[str, str] = field(default_factory=lambda: dict(defaults.LIMITS))
    env: tuple[EnvVar, ...] = ()
    secrets: tuple[str, ...] = ()
    config_maps: tuple[str, ...] = ()
    container_concurrency: int = 0
    timeout_seconds: int | None = None  # None: derived from the functions' timeouts
    grace_period: str | None = None  # KFN_GRACE_PERIOD as written; None: the host's default
    service_account: str | None = None

    def annotations(self) -> dict[str, str]:
        """The autoscaling annotations, defaults filled in by class and metric."""
        scale = dict(self.scale)
        kpa = scale.get("class", KPA) == KPA
        scale.setdefault("metric", "concurrency" if kpa else "cpu")
        if scale["metric"] in defaults.TARGET_BY_METRIC:
            scale.setdefault("target", defaults.TARGET_BY_METRIC[scale["metric"]])
        return {AUTOSCALING_PREFIX + key: scale[key] for key in SCALE_KEYS if key in scale}


@dataclass(frozen=True)
class ProjectSettings:
    """Everything `kfn manifests` needs besides the functions themselves."""

    name: str
    project_dir: Path = Path(".")
    namespace: str = defaults.NAMESPACE
    broker: str = defaults.BROKER
    image: str | None = None
    functions: tuple[str, ...] = DEFAULT_FUNCTIONS
    port: int | None = None  # local only: Knative sets PORT in the cluster
    output: str = defaults.OUTPUT
    python_version: str = defaults.PYTHON_VERSION
    base_image: str | None = None  # None: python:<python_version>-slim
    extras: tuple[str, ...] = ()  # the project's optional dependencies the image installs
    event_types: bool = True
    sender_identity: bool = False  # event requests need a cluster-issued OIDC token
    public_events: bool = False  # a public Service takes events from anywhere (no split)
    delivery: Delivery = field(default_factory=Delivery)
    unit: UnitSettings = field(default_factory=UnitSettings)
    services: Mapping[str, UnitSettings] = field(default_factory=dict)

    def for_unit(self, name: str) -> UnitSettings:
        return self.services.get(name, self.unit)

    @property
    def base(self) -> str:
        """The image both Dockerfile stages start from."""
        return self.base_image or f"python:{self.python_version}-slim"
