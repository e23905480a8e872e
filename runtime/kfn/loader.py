"""Importing the user's function modules, with a clear error instead of a traceback.

`kfn run`, `kfn list` and `kfn manifests` all load functions through
`load_functions`, so none of them accepts an app another one refuses.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from kfn._errors import LoadError, RegistrationError
from kfn.registry import Registry


def load_functions(modules: tuple[str, ...], registry: Registry, *, check: bool = False) -> None:
    """Import the modules and refuse an app that registers no function.

    With `check`, also check every function the way the host does when it starts
    off Knative (signatures, replies, routes, models that defer their build); the
    host itself checks them as it builds its dispatcher and routes, with the same errors.
    """
    before = set(sys.modules)
    load_modules(modules)
    if not registry.functions:
        raise LoadError(_nothing_registered(modules, before))
    if check:
        try:
            check_functions(registry)
        except RegistrationError as error:
            raise LoadError(str(error)) from None


def _nothing_registered(modules: tuple[str, ...], before: set[str]) -> str:
    """Which modules were imported, and which modules of a package were not."""
    import pkgutil  # only for this message: not on the way to a start

    imported = [
        name
        for name in sorted(set(sys.modules) - before)
        if any(name == module or name.startswith(module + ".") for module in modules)
    ]
    skipped = [
        f"{module}.{info.name}"
        for module in modules
        for info in pkgutil.iter_modules(getattr(sys.modules.get(module), "__path__", []))
        if f"{module}.{info.name}" not in sys.modules
    ]
    message = (
        f"no functions registered: imported {', '.join(imported or modules)}, and none of "
        "them declares an @http, @cloudevent or @schedule function"
    )
    if skipped:
        package, _, first = skipped[0].rpartition(".")
        message += (
            f"; {', '.join(skipped)} {'is' if len(skipped) == 1 else 'are'} never imported: "
            "a package registers only what its __init__.py imports (in "
            f"{package.replace('.', '/')}/__init__.py: from {package} import {first})"
        )
    return message


def check_functions(registry: Registry) -> None:
    """Raise RegistrationError for a function the host would refuse at startup."""
    from kfn.binding import bind

    for spec in registry.event_functions:
        bind(spec).build()
    if registry.http_functions:
        from kfn.http_routes import build_http_app

        build_http_app(registry)


def load_modules(modules: tuple[str, ...]) -> None:
    """Import each module (and so run its decorators) from the current directory."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    for module in modules:
        try:
            importlib.import_module(module)
        except RegistrationError as error:
            raise LoadError(str(error)) from None
        except ModuleNotFoundError as error:
            if error.name and module.startswith(error.name):
                raise LoadError(
                    f"cannot import the functions module {module!r} from {cwd}: it does not "
                    "exist (set [tool.kfn] functions, KFN_FUNCTIONS or --functions)"
                ) from None
            raise LoadError(_short(module, error)) from None
        except Exception as error:
            raise LoadError(_short(module, error)) from None


def _short(module: str, error: BaseException) -> str:
    """The error and the user's own line that raised it, not the import machinery."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "importlib" not in f.filename]
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    if isinstance(error, SyntaxError):
        where = f" at {error.filename}:{error.lineno}"
    return f"importing {module!r} failed{where}: {type(error).__name__}: {error}"
