"""Importing the user's function modules, with a clear error instead of a traceback."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from kfn._errors import LoadError, RegistrationError


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
                    "exist (set KFN_FUNCTIONS or --functions)"
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
