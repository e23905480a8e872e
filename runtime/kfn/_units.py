"""Deployment units: which functions one Knative Service of the app runs.

`kfn manifests` runs one image as several Services when functions are grouped with
`service=...`, and tells each Service its unit in KFN_SERVICE_UNIT. The rule, shared
by the host and the generator: the functions declared with `service=<unit>` belong
to it; when none is, `<unit>` is the app's main Service and the functions declared
without `service=` belong to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kfn._errors import RegistrationError
from kfn.registry import FunctionSpec, Registry


def functions_of_unit(functions: Iterable[FunctionSpec], unit: str) -> list[FunctionSpec]:
    """The functions that run in the Service named `unit`, in declaration order."""
    functions = list(functions)
    grouped = any(spec.service == unit for spec in functions)
    wanted = unit if grouped else None
    return [spec for spec in functions if spec.service == wanted]


def select_unit(registry: Registry, unit: str) -> Registry:
    """A registry with only the functions of `unit` (and all the hooks); `registry` is kept."""
    kept = functions_of_unit(registry.functions.values(), unit)
    if not kept:
        raise RegistrationError(f"KFN_SERVICE_UNIT={unit!r}: no function belongs to this unit")
    selected = Registry()
    for spec in kept:
        selected.add(spec)
    selected.startup_hooks.extend(registry.startup_hooks)
    selected.shutdown_hooks.extend(registry.shutdown_hooks)
    selected.readiness_checks.extend(registry.readiness_checks)
    return selected
