"""What the image installs, read from the project's pyproject.toml, against what the settings need.

With `[tool.kfn] sender-identity = true` the generated Services set KFN_OIDC_AUDIENCE,
and the host then checks each event's token with PyJWT (the `oidc` extra); an image
without it stops at startup. The image installs the project's `[project]
dependencies` and the optional-dependency groups `[tool.kfn] extras` names
(kfn.image.context), so those are read here, with `packaging` as pip reads them:
kfn-host with the `oidc` extra (directly, through one of the project's own extras, or
through another extra of kfn-host that includes it), or PyJWT with `crypto`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from kfn.deploy import defaults
from kfn.deploy.errors import DeployError
from kfn.deploy.types import ProjectSettings

HOST = "kfn-host"
OIDC_EXTRA = "oidc"
JOSE = "pyjwt"
JOSE_EXTRA = "crypto"


def check(settings: ProjectSettings) -> list[str]:
    """Raise DeployError when the image would lack what the settings need; warnings otherwise."""
    if not settings.sender_identity:
        return []
    project = _project_table(settings)
    if project is None or "dependencies" in (project.get("dynamic") or ()):
        return [
            "[tool.kfn] sender-identity = true needs kfn-host[oidc] in the image, and kfn "
            f"cannot read the project's dependencies from {defaults.PYPROJECT} ([project] "
            "dependencies are not written there): make sure they include it"
        ]
    installed = Installed(project, settings)
    if OIDC_EXTRA in installed.extras(HOST) or JOSE_EXTRA in installed.extras(JOSE):
        return []
    raise DeployError(
        "[tool.kfn] sender-identity = true makes the host check OIDC tokens with PyJWT, "
        f"which the image does not get: {installed.fix()}"
    )


def _project_table(settings: ProjectSettings) -> dict[str, Any] | None:
    path = settings.project_dir / defaults.PYPROJECT
    try:
        with path.open("rb") as file:
            project = tomllib.load(file).get("project")
    except (OSError, tomllib.TOMLDecodeError):
        return None  # settings.load read it already; a project without one has no [project]
    return project if isinstance(project, dict) else None


class Installed:
    """The requirements the image installs: the project's, with the extras it selects."""

    def __init__(self, project: Mapping[str, Any], settings: ProjectSettings) -> None:
        self.name = canonicalize_name(str(project.get("name", "")))
        self.environment = {
            "python_version": settings.python_version,
            "python_full_version": settings.python_version + ".0",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "extra": "",
        }
        groups = project.get("optional-dependencies") or {}
        self.groups = {
            canonicalize_name(str(name)): _parsed(lines, f"optional-dependencies.{name}")
            for name, lines in (groups.items() if isinstance(groups, dict) else ())
        }
        self.direct = _parsed(project.get("dependencies") or [], "dependencies")
        self.selected: dict[str, set[str]] = {}
        self._select(self.name, settings.extras)
        for requirement in self.direct:
            self._add(requirement)
        if self.name != HOST:
            self._close_host_extras()

    def extras(self, name: str) -> set[str]:
        return self.selected.get(name, set())

    def _select(self, name: str, extras: Iterable[str]) -> None:
        chosen = self.selected.setdefault(name, set())
        for extra in extras:
            extra = canonicalize_name(extra)
            if extra in chosen:
                continue
            chosen.add(extra)
            if name == self.name:  # one of the project's own groups: what it requires
                for requirement in self.groups.get(extra, ()):
                    self._add(requirement)

    def _add(self, requirement: Requirement) -> None:
        if requirement.marker is not None and not self._applies(requirement.marker):
            return
        self._select(canonicalize_name(requirement.name), requirement.extras)

    def _applies(self, marker: Marker, extra: str = "") -> bool:
        try:
            return marker.evaluate({**self.environment, "extra": extra})
        except (UndefinedComparison, UndefinedEnvironmentName):
            return True  # pip decides in the image; kfn does not refuse on a guess

    def _close_host_extras(self) -> None:
        """Add the extras kfn-host's own extras name (`dev` includes `oidc`, say)."""
        try:
            lines = metadata.requires(HOST) or []
        except metadata.PackageNotFoundError:
            return
        own = [r for r in _parsed(lines, f"{HOST}'s metadata") if canonicalize_name(r.name) == HOST]
        chosen = self.selected.setdefault(HOST, set())
        while True:
            wanted = {
                canonicalize_name(extra)
                for requirement in own
                if requirement.marker is not None
                and any(self._applies(requirement.marker, given) for given in chosen)
                for extra in requirement.extras
            }
            if wanted <= chosen:
                return
            chosen |= wanted

    def fix(self) -> str:
        """What to write so that the image gets kfn-host[oidc]."""
        if self.name == HOST:
            return f'add "{OIDC_EXTRA}" to [tool.kfn] extras'
        for requirement in self.direct:
            applies = requirement.marker is None or self._applies(requirement.marker)
            if canonicalize_name(requirement.name) == HOST and applies:
                wanted = Requirement(str(requirement))
                wanted.extras.add(OIDC_EXTRA)
                return (
                    f'write "{wanted}" for "{requirement}" in [project] dependencies of '
                    f"{defaults.PYPROJECT}"
                )
        return f'add "{HOST}[{OIDC_EXTRA}]" to [project] dependencies of {defaults.PYPROJECT}'


def _parsed(lines: object, where: str) -> list[Requirement]:
    if not isinstance(lines, list):
        raise DeployError(f"{defaults.PYPROJECT}: [project] {where} must be a list of strings")
    requirements = []
    for line in lines:
        try:
            requirements.append(Requirement(str(line)))
        except InvalidRequirement as error:
            why = str(error).splitlines()[0]  # packaging adds the line and a caret under it
            raise DeployError(
                f"{defaults.PYPROJECT}: [project] {where}: {line!r} is not a requirement ({why})"
            ) from None
    return requirements


__all__ = ["check"]
