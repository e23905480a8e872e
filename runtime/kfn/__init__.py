"""kfn: decorated HTTP and CloudEvent functions, hosted the Knative way.

    from kfn import http, cloudevent, CloudEvent
    from kfn.filters import prefix

The public API lives here; modules behind it may move.
"""

from cloudevents.core.v1.event import CloudEvent

from kfn.emitter import EmitError, emit
from kfn.filters import all_of, any_of, cesql, exact, not_, prefix, suffix
from kfn.problems import Drop, Retry
from kfn.registry import RegistrationError, Registry, default_registry
from kfn.schedule import schedule

http = default_registry.http
cloudevent = default_registry.cloudevent
on_startup = default_registry.on_startup
on_shutdown = default_registry.on_shutdown
readiness = default_registry.readiness

__all__ = [
    "CloudEvent",
    "Drop",
    "EmitError",
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
