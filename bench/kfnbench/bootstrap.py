"""The bench's own environments and its load generator, made ready before a run.

Standard library only: bench/run.py imports this with whatever `python3` the user
has, before bench/.venv exists. Each environment carries a stamp (a hash of its
pinned requirements and the interpreter), so a second run reuses it in a second
instead of reinstalling, and a change to the pins rebuilds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from kfnbench.paths import (
    FF_REQUIREMENTS,
    FF_VENV,
    KFN_APP,
    KFN_SNAPSHOT,
    REQUIREMENTS,
    ROOT,
    VENV,
    WORK,
    venv_bin,
)

STAMP = ".kfnbench-stamp"
KFN_STAMP = ".kfnbench-kfn-stamp"
PIP_TIMEOUT = 1200
APT_TIMEOUT = 300
MIN_PYTHON = (3, 11)


class BootstrapError(RuntimeError):
    """An environment or tool could not be prepared; the message says which step failed."""


def log(message: str) -> None:
    print(f"[kfnbench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One bootstrap at a time (a test and a manual run may start together)."""
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "bootstrap.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: Sequence[str], timeout: float, what: str) -> None:
    """Run a setup step, keeping its chatter in .work/bootstrap.log unless it fails."""
    WORK.mkdir(parents=True, exist_ok=True)
    logfile = WORK / "bootstrap.log"
    with open(logfile, "a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        try:
            result = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise BootstrapError(
                f"{what}: timed out after {timeout:.0f}s (see {logfile})"
            ) from None
    if result.returncode != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-15:]
        raise BootstrapError(
            f"{what}: exit code {result.returncode}; last lines of {logfile}:\n" + "\n".join(tail)
        )


def _stamp(*inputs: Path) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in inputs:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _ready(venv: Path, stamp: str) -> bool:
    marker = venv / STAMP
    return (
        marker.exists()
        and marker.read_text().strip() == stamp
        and venv_bin(venv, "python").exists()
    )


def _create(venv: Path) -> Path:
    if sys.version_info < MIN_PYTHON:
        raise BootstrapError(
            f"Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]}+ is needed (kfn requires it); this is "
            f"{sys.version.split()[0]}"
        )
    python = venv_bin(venv, "python")
    if not python.exists():
        log(f"creating {venv.relative_to(ROOT)}")
        _run([sys.executable, "-m", "venv", str(venv)], 300, f"creating {venv}")
    return python


SNAPSHOT_DIRS = ("runtime", "functions")
SNAPSHOT_FILES = ("pyproject.toml", "README.md", "LICENSE")


def _kfn_fingerprint() -> str:
    """A hash of kfn's sources and the example app: any change rebuilds the snapshot."""
    digest = hashlib.sha256()
    paths = [ROOT / name for name in SNAPSHOT_FILES if (ROOT / name).exists()]
    for directory in SNAPSHOT_DIRS:
        paths += sorted(p for p in (ROOT / directory).rglob("*") if p.is_file())
    for path in paths:
        if "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _snapshot() -> Path:
    """Copy what a kfn build and the example app need; building never writes into the checkout."""
    shutil.rmtree(KFN_SNAPSHOT, ignore_errors=True)
    KFN_SNAPSHOT.mkdir(parents=True)
    for name in SNAPSHOT_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, KFN_SNAPSHOT / name)
    for directory in SNAPSHOT_DIRS:
        shutil.copytree(
            ROOT / directory,
            KFN_SNAPSHOT / directory,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.rmtree(KFN_APP, ignore_errors=True)
    shutil.copytree(KFN_SNAPSHOT / "functions", KFN_APP / "functions")
    return KFN_SNAPSHOT


def ensure_main_venv() -> Path:
    """bench/.venv with the pins, and kfn built from a snapshot of this checkout.

    kfn is a regular (not editable) install: an editable install's import hook runs in
    every process of the venv and would add to every cold start measured here.
    """
    stamp = _stamp(REQUIREMENTS)
    kfn_stamp = _kfn_fingerprint()
    with _locked():
        python = venv_bin(VENV, "python")
        if not _ready(VENV, stamp):
            python = _create(VENV)
            log("installing the pinned systems into bench/.venv (first run only; a few minutes)")
            _run(
                [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
                PIP_TIMEOUT,
                "installing bench/requirements.txt",
            )
            (VENV / STAMP).write_text(stamp + "\n")
        marker = VENV / KFN_STAMP
        fresh = marker.exists() and marker.read_text().strip() == kfn_stamp
        if not fresh or not (KFN_APP / "functions").is_dir():
            log("installing kfn from a snapshot of this checkout into bench/.venv")
            pip = [str(python), "-m", "pip"]
            _run([*pip, "uninstall", "-q", "-y", "kfn-host"], PIP_TIMEOUT, "removing the old kfn")
            _run(
                [*pip, "install", "-q", "--no-build-isolation", "-c", str(REQUIREMENTS),
                 str(_snapshot())],
                PIP_TIMEOUT,
                "installing kfn from the repository",
            )  # fmt: skip
            marker.write_text(kfn_stamp + "\n")
        return python


def ensure_ff_venv() -> Path:
    """functions-framework's own environment (its cloudevents pin conflicts with kfn's)."""
    stamp = _stamp(FF_REQUIREMENTS)
    with _locked():
        if _ready(FF_VENV, stamp):
            return FF_VENV
        python = _create(FF_VENV)
        log("installing functions-framework into its own environment (first run only)")
        _run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(FF_REQUIREMENTS)],
            PIP_TIMEOUT,
            "installing bench/requirements-functions-framework.txt",
        )
        (FF_VENV / STAMP).write_text(stamp + "\n")
        return FF_VENV


def inside_main_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _privilege_prefix() -> list[str] | None:
    """How to run apt-get: directly as root, through passwordless sudo, or not at all."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo"):
        probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, timeout=10, check=False)
        if probe.returncode == 0:
            return ["sudo", "-n"]
    return None


def ensure_wrk() -> tuple[str | None, str]:
    """The wrk binary, installed from Debian's packages when missing; else (None, why)."""
    found = shutil.which("wrk")
    if found:
        return found, "wrk found on PATH"
    if not shutil.which("apt-get"):
        return None, "wrk is not installed and there is no apt-get to install it"
    prefix = _privilege_prefix()
    if prefix is None:
        return None, "wrk is not installed and apt-get needs root (no passwordless sudo)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log("wrk is missing: installing it with apt-get")
    with _locked():
        for argv in (
            [*prefix, "apt-get", "update", "-q"],
            [*prefix, "apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"],
        ):
            try:
                result = subprocess.run(
                    argv, capture_output=True, timeout=APT_TIMEOUT, env=env, check=False
                )
            except subprocess.TimeoutExpired:
                return None, f"`{' '.join(argv)}` timed out"
            if result.returncode != 0:
                tail = result.stderr.decode(errors="replace").strip().splitlines()[-1:]
                return None, f"`{' '.join(argv)}` failed: {' '.join(tail)}"
    found = shutil.which("wrk")
    return (
        (found, "wrk installed from Debian's packages")
        if found
        else (
            None,
            "apt-get installed wrk but it is not on PATH",
        )
    )
