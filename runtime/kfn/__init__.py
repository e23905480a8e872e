"""kfn: decorated HTTP and CloudEvent functions, hosted the Knative way.

    from kfn import http, cloudevent, CloudEvent
    from kfn.filters import prefix

The public API lives here; modules behind it may move.
"""

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import ConfigError, Drop, EmitError, KfnError, RegistrationError, Retry
from kfn.emitter import emit
from kfn.filters import all_of, any_of, cesql, exact, not_, prefix, suffix
from kfn.registry import Registry
from kfn.registry import default_registry as _default_registry
from kfn.schedule import schedule

http = _default_registry.http
cloudevent = _default_registry.cloudevent
on_startup = _default_registry.on_startup
on_shutdown = _default_registry.on_shutdown
readiness = _default_registry.readiness

__all__ = [
    "CloudEvent",
    "ConfigError",
    "Drop",
    "EmitError",
    "KfnError",
    "RegistrationError",
    "Registry",
    "Retry",
    "all_of",
    "any_of",
    "cesql",
    "cloudevent",
    "emit",
    "exact",
    "http",
    "not_",
    "on_shutdown",
    "on_startup",
    "prefix",
    "readiness",
    "schedule",
    "suffix",
]
