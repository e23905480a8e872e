"""What a result is a result of: the machine, the interpreter, every version, the commit."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from kfnbench.bootstrap import KFN_STAMP
from kfnbench.paths import ROOT, VENV, venv_bin
from kfnbench.systems import SYSTEMS

_LIST_DISTRIBUTIONS = (
    "import json, importlib.metadata as m; "
    "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
)


def _first_line(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, object]:
    memory = _first_line("/proc/meminfo", "MemTotal").split()
    gib = f"{int(memory[0]) / 2**20:.1f} GiB" if memory and memory[0].isdigit() else "unknown"
    return {
        "cpu": _first_line("/proc/cpuinfo", "model name"),
        "cpus": os.cpu_count(),
        "memory": gib,
        "kernel": platform.release(),
        "os": _first_line("/etc/os-release", "PRETTY_NAME=").strip('"'),
        "python": sys.version.split()[0],
    }


def distributions(venv: Path) -> dict[str, str]:
    """Installed distributions of a venv, name -> version."""
    if Path(sys.prefix).resolve() == venv.resolve():
        return {d.metadata["Name"].lower(): d.version for d in metadata.distributions()}
    out = subprocess.run(
        [str(venv_bin(venv, "python")), "-c", _LIST_DISTRIBUTIONS],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    versions: dict[str, str] = json.loads(out.stdout)
    return versions


def versions(systems: list[str]) -> dict[str, dict[str, str]]:
    """For each system, the versions of the packages that make it up."""
    cache: dict[Path, dict[str, str]] = {}
    result = {}
    for name in systems:
        system = SYSTEMS[name]
        installed = cache.setdefault(system.venv, distributions(system.venv))
        result[name] = {
            package: installed.get(package.lower(), "missing") for package in system.packages
        }
    return result


def git() -> dict[str, object]:
    def run(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = run("status", "--porcelain", "--", "runtime", "functions", "pyproject.toml")
    marker = VENV / KFN_STAMP
    snapshot = marker.read_text().strip()[:12] if marker.exists() else "unknown"
    return {
        "commit": run("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(changed),
        "snapshot": snapshot,
    }


def wrk_version(wrk: str | None) -> str:
    if not wrk:
        return ""
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10)
    first = (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0].strip()
    return first.removeprefix("wrk ").strip()


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
