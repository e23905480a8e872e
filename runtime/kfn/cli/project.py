"""The project's `[tool.kfn]`: the defaults every command starts from.

A flag wins, then the environment (`KFN_FUNCTIONS`, `PORT`), then `[tool.kfn]`, then
the host's defaults. So `kfn run`, `kfn list`, `kfn invoke` and `kfn manifests`
agree on the functions and the port without being told twice.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING

from kfn._errors import CommandError

if TYPE_CHECKING:
    from kfn.deploy.settings import ProjectSettings

DEFAULT_PORT = 8080


def load(project_dir: Path | None = None) -> ProjectSettings | None:
    """`[tool.kfn]` of the project in `project_dir` (default: the current folder).

    None when there is no pyproject.toml or it has no `[tool.kfn]` table; a wrong
    key or value is a CommandError that names it.
    """
    from kfn.deploy.defaults import PYPROJECT

    directory = project_dir or Path.cwd()
    path = directory / PYPROJECT
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: {error}") from None
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CommandError(f"{path}: {error}") from None
    tool = document.get("tool")
    if not isinstance(tool, dict) or "kfn" not in tool:
        return None
    # Only now: the settings model (pydantic) is deploy-time code, and the container's
    # `kfn run` has no pyproject.toml, so its cold start never imports it.
    from kfn.deploy import settings
    from kfn.deploy.errors import DeployError

    try:
        return settings.load(directory)
    except DeployError as error:
        raise CommandError(str(error)) from None


def port(
    flag: int | None, project: ProjectSettings | None, environ: MutableMapping[str, str]
) -> int:
    """The port `kfn run` listens on and `kfn invoke` sends to."""

    if flag is not None:
        return flag
    raw = environ.get("PORT", "").strip()
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise CommandError(f"PORT={raw!r} is not a port number") from None
    if project is not None and project.port is not None:
        return project.port
    return DEFAULT_PORT


def apply_functions(
    flag: str | None,
    project: ProjectSettings | None,
    environ: MutableMapping[str, str] = os.environ,
) -> None:
    """Set KFN_FUNCTIONS from the flag, or from `[tool.kfn]` when the environment has none.

    The host reads its settings from the environment (also in `--reload`'s worker
    process), so the choice is passed on there.
    """
    if flag:
        environ["KFN_FUNCTIONS"] = flag
    elif project is not None and not environ.get("KFN_FUNCTIONS", "").strip():
        environ["KFN_FUNCTIONS"] = ",".join(project.functions)
