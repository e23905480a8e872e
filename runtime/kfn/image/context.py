"""The build context the Dockerfile installs from, made on the host with pip.

    pip/pip.whl                  pip itself, run from its wheel inside the build stage
    deps/requirements.txt        the project's requirements (markers evaluated in the image)
    deps/wheels/                 every dependency as a wheel for the target
    project/requirements.txt     `name==version` of the project
    project/wheels/              the project's own wheel
    app/                         the functions modules the project's wheel does not hold

The project's wheel is built from a clean copy of its sources (a stale `build/` cannot
leak into it), dependencies installed here from a local folder (kfn-host from a source
checkout, say) are built the same way, those installed from a local wheel file are
copied, and the rest comes from the package index as
wheels for the target. Every file is dated the same epoch, so the same inputs give the
same context and the same layers; wheels built from sources are kept in kfn's cache
(~/.cache/kfn/wheels), keyed by a digest of those sources.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from kfn.image.errors import BuildError
from kfn.image.python_platform import PythonPlatform

PIP_TIMEOUT = 900
SKIPPED_DIRS = frozenset(
    {"__pycache__", "build", "dist", "node_modules", "venv", "env", "wheelhouse"}
)
"""Never part of a project's sources (with hidden entries, *.egg-info and virtualenvs)."""
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_CLAUSE = re.compile(r"""(\s+and)?\s*\bextra\s*==\s*["'](?P<extra>[^"']+)["'](\s+and\b)?""")
"""`extra == "name"` in a Requires-Dist marker, as build backends write it (last, or first)."""


@dataclass(frozen=True)
class Wheel:
    """A built or downloaded wheel and what its metadata says."""

    path: Path
    name: str
    version: str
    requires: tuple[str, ...]  # Requires-Dist, as written (extras' lines included)
    extras: frozenset[str]  # Provides-Extra, canonical names
    top_level: frozenset[str]  # the importable names it installs

    def requirements(self, extras: Iterable[str] = ()) -> list[str]:
        """What installing the wheel with `extras` needs: each line, its extra clause removed."""
        wanted = {canonical(extra) for extra in extras}
        unknown = sorted(wanted - self.extras)
        if unknown:
            offered = ", ".join(sorted(self.extras)) or "none"
            raise BuildError(
                f"[tool.kfn] extras: {self.name} has no extra {unknown[0]!r} (its extras: {offered})"
            )
        lines = []
        for line in self.requires:
            match = _EXTRA_CLAUSE.search(line)
            if match is None:
                lines.append(line)
            elif canonical(match.group("extra")) in wanted:
                rest = _EXTRA_CLAUSE.sub("", line).strip()
                lines.append(rest[:-1].strip() if rest.endswith(";") else rest)
        return lines


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    if match is None:
        raise BuildError(f"cannot read the requirement {requirement!r}")
    return canonical(match.group(1))


def read_wheel(path: Path) -> Wheel:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        metadata_name = next(
            (n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None
        )
        if metadata_name is None:
            raise BuildError(f"{path.name} is not a wheel (it has no .dist-info/METADATA)")
        metadata = HeaderParser().parsestr(archive.read(metadata_name).decode("utf-8"))
    top_level = set()
    for name in names:
        first = name.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")):
            continue
        top_level.add(first[: -len(".py")] if first.endswith(".py") else first)
    return Wheel(
        path=path,
        name=str(metadata["Name"]),
        version=str(metadata["Version"]),
        requires=tuple(metadata.get_all("Requires-Dist") or ()),
        extras=frozenset(canonical(e) for e in metadata.get_all("Provides-Extra") or ()),
        top_level=frozenset(top_level),
    )


# -- pip on the host -------------------------------------------------------------------


def pip(arguments: list[str], *, epoch: int, what: str, hint: str = "") -> None:
    """Run the host's pip; on failure a BuildError with pip's own error lines."""
    if importlib.util.find_spec("pip") is None:
        raise BuildError(
            f"kfn build needs pip in the environment kfn runs from ({sys.executable}): "
            f"`{sys.executable} -m ensurepip`"
        )
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    command = [sys.executable, "-m", "pip", *arguments]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=PIP_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise BuildError(f"could not {what}: pip did not finish within {PIP_TIMEOUT} s") from None
    if result.returncode != 0:
        raise BuildError(
            f"could not {what}: {pip_errors(result.stderr + result.stdout)}"
            + (f" ({hint})" if hint else "")
        )


def pip_errors(output: str) -> str:
    """pip's own ERROR lines, after the build backend's `error:` lines when there are any."""
    lines = [line.strip() for line in output.splitlines()]
    backend = [
        line
        for line in lines
        if line.startswith("error:") and line != "error: subprocess-exited-with-error"
    ]
    errors = [line for line in lines if line.startswith("ERROR:")] or lines[-5:]
    return " ".join(backend[:3] + errors)


def build_wheel(
    source: Path, destination: Path, *, epoch: int, what: str, skip: Iterable[str] = ()
) -> Wheel:
    """The wheel of the project at `source`, built from a clean copy of its sources.

    `skip` names top-level folders left out of the copy, such as the generated deploy/,
    which setuptools' automatic discovery would take for a second package. The build is
    reproducible, so a wheel already built from the same sources and epoch is reused.
    """
    with tempfile.TemporaryDirectory(prefix="kfn-sources-") as scratch:
        copy = Path(scratch) / "src"
        copy_sources(source, copy, skip=skip)
        cached = cache_dir() / "wheels" / tree_digest(copy, epoch)
        found = sorted(cached.glob("*.whl")) if cached.is_dir() else []
        if not found:
            output = Path(scratch) / "wheel"
            pip(
                ["wheel", "--no-deps", "--quiet", "--wheel-dir", str(output), str(copy)],
                epoch=epoch,
                what=f"build a wheel of {what}",
            )
            (built,) = output.glob("*.whl")
            cached.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built, cached / built.name)
            found = [cached / built.name]
        destination.mkdir(parents=True, exist_ok=True)
        target = destination / found[0].name
        shutil.copyfile(found[0], target)
    return read_wheel(target)


def cache_dir() -> Path:
    """kfn's cache: $XDG_CACHE_HOME/kfn, else ~/.cache/kfn."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kfn"


def tree_digest(folder: Path, epoch: int) -> str:
    """A digest of every file's path, mode and bytes under `folder` (and the epoch)."""
    digest = hashlib.sha256(f"epoch={epoch}\n".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(
            f"{path.relative_to(folder).as_posix()}\0{path.stat().st_mode & 0o111}\0".encode()
        )
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def download(
    requirements: list[str], target: PythonPlatform, destination: Path, *, epoch: int
) -> None:
    """Every requirement and its dependencies, as wheels for `target`."""
    if not requirements:
        return
    pip(
        ["download", "--quiet", "--dest", str(destination), *target.pip_options(), *requirements],
        epoch=epoch,
        what=f"download the dependencies for {target.label()}",
        hint="kfn build installs wheels only: a dependency without a wheel for this target "
        "needs another version, or a base image it has wheels for",
    )


def download_pip(destination: Path, *, epoch: int) -> Path:
    """The host's pip version as a wheel, run from the wheel inside the build stage."""
    version = importlib.metadata.version("pip")
    with tempfile.TemporaryDirectory(prefix="kfn-pip-") as scratch:
        pip(
            [
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--dest",
                scratch,
                f"pip=={version}",
            ],
            epoch=epoch,
            what=f"download pip {version}",
        )
        (wheel,) = Path(scratch).glob("pip-*.whl")
        destination.mkdir(parents=True, exist_ok=True)
        target = destination / "pip.whl"
        shutil.move(wheel, target)
    return target


# -- what the project needs ------------------------------------------------------------


def local_source(name: str) -> Path | None:
    """Where `name` was installed from, when it was installed here from a local folder or wheel.

    Such a distribution may be on no package index (kfn-host from a checkout, say), so
    the build takes it from there: a folder's wheel is built, a wheel file is copied.
    """
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    raw = distribution.read_text("direct_url.json")
    if not raw:
        return None
    try:
        direct = json.loads(raw)
    except ValueError:
        return None
    url = str(direct.get("url", ""))
    if not url.startswith("file:"):
        return None
    path = Path(url2pathname(urlparse(url).path))
    if "archive_info" in direct:
        return path if path.suffix == ".whl" and path.is_file() else None
    if "dir_info" not in direct:
        return None
    return path if (path / "pyproject.toml").is_file() or (path / "setup.py").is_file() else None


def app_sources(project_dir: Path, functions: Iterable[str], wheel: Wheel) -> list[Path]:
    """The functions modules to copy into /app: those the project's wheel does not install."""
    sources: list[Path] = []
    for module in functions:
        top = module.split(".", 1)[0]
        if top in wheel.top_level:
            continue
        for candidate in (project_dir / top, project_dir / f"{top}.py"):
            if candidate.exists():
                if candidate not in sources:
                    sources.append(candidate)
                break
        else:
            raise BuildError(
                f"the functions module {module!r} is neither in the project's wheel "
                f"({wheel.path.name}) nor in {project_dir}: package it, or put {top}/ or "
                f"{top}.py in the project folder"
            )
    return sources


# -- files -----------------------------------------------------------------------------


def copy_sources(source: Path, target: Path, skip: Iterable[str] = ()) -> None:
    """Copy a project's sources: no hidden entries, caches, build output or virtualenvs."""
    top_level = {source / name for name in skip}

    def ignored(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory, name)
            if (
                path in top_level
                or name.startswith(".")
                or name in SKIPPED_DIRS
                or name.endswith((".egg-info", ".pyc"))
                or (path / "pyvenv.cfg").is_file()
            ):
                skipped.add(name)
        return skipped

    if source.is_dir():
        shutil.copytree(source, target, ignore=ignored, symlinks=False)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def settle(directory: Path, epoch: int) -> None:
    """Same modes and dates for every file, so the context's bytes depend on content only."""
    for path in sorted(directory.rglob("*"), reverse=True):
        path.chmod(0o755 if path.is_dir() else 0o644)
        os.utime(path, (epoch, epoch), follow_symlinks=False)
    os.utime(directory, (epoch, epoch))


def write_lines(path: Path, lines: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
