"""What the base image runs: its Python and platform, read by running `python3` in it once.

The wheelhouse is downloaded on the host for this target (`pip download --platform
--python-version --abi --only-binary`), so the image installs without a network. Any
base with `python3` on PATH works: the probe asks that interpreter, not the image's name.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from kfn.image.engine import Engine, last_line
from kfn.image.errors import BuildError

MINIMUM_PYTHON = (3, 11)
PROBE_TIMEOUT = 300  # the first run may pull the base image
OLDEST_MANYLINUX = 17  # manylinux_2_17, the manylinux2014 baseline
PROBE = """\
import glob, json, os, platform, subprocess, sys
glibc = musl = None
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (OSError, ValueError):
    pass
for loader in glob.glob("/lib/ld-musl-*.so.1")[:1]:
    output = subprocess.run([loader], capture_output=True, text=True).stderr
    musl = next((l.split()[1] for l in output.splitlines() if l.startswith("Version ")), None)
print(json.dumps({"implementation": sys.implementation.name, "python": sys.version_info[:2],
                  "machine": platform.machine(), "glibc": glibc, "musl": musl}))
"""


@dataclass(frozen=True)
class PythonPlatform:
    """A CPython version on a Linux platform, as wheel tags name them."""

    python: tuple[int, int]
    machine: str
    libc: str  # "glibc" or "musl"
    libc_version: tuple[int, int]

    @property
    def abi(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}"

    def platforms(self) -> list[str]:
        """Every platform tag a wheel for this target may carry, newest first."""
        major, minor = self.libc_version
        if self.libc == "musl":
            return [f"musllinux_{major}_{m}_{self.machine}" for m in range(minor, 0, -1)]
        tags = [
            f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, OLDEST_MANYLINUX - 1, -1)
        ]
        return [*tags, f"manylinux2014_{self.machine}"]  # pip adds manylinux2010 and 1

    def pip_options(self) -> list[str]:
        """The `pip download` options that pick wheels for this target."""
        options = ["--only-binary", ":all:", "--implementation", "cp"]
        options += ["--python-version", f"{self.python[0]}.{self.python[1]}"]
        options += ["--abi", self.abi]
        for tag in self.platforms():
            options += ["--platform", tag]
        return options

    def label(self) -> str:
        version = ".".join(map(str, self.libc_version))
        return f"CPython {self.python[0]}.{self.python[1]}, {self.libc} {version}, {self.machine}"


def probe(engine: Engine, base_image: str, platform: str | None) -> PythonPlatform:
    """Run the base image's `python3` once (no network) and read its target."""
    command = engine.run(
        base_image,
        options=["--network", "none"],
        platform=platform,
        entrypoint="python3",
        arguments=["-c", PROBE],
    )
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BuildError(
            f"{engine.name} did not run {base_image} within {PROBE_TIMEOUT} s"
        ) from None
    if result.returncode != 0:
        detail = last_line(result.stderr or result.stdout)
        if "python3" in detail and ("not found" in detail or "no such file" in detail.lower()):
            raise BuildError(
                f"the base image {base_image} has no python3 on PATH ({detail}): choose a base "
                "with Python 3.11 or newer (--base-image, [tool.kfn] base-image)"
            )
        raise BuildError(
            f"{engine.name} could not run the base image {base_image}: {engine.cannot_run(detail)}"
        )
    return parse(base_image, result.stdout)


def parse(base_image: str, output: str) -> PythonPlatform:
    """The target from the probe's JSON line; a base kfn cannot serve is an error here."""
    try:
        facts = json.loads(output.strip().splitlines()[-1])
        python = (int(facts["python"][0]), int(facts["python"][1]))
        machine = str(facts["machine"])
    except (IndexError, KeyError, TypeError, ValueError):
        raise BuildError(
            f"could not read the Python of {base_image} (its python3 printed {output[:200]!r})"
        ) from None
    if facts.get("implementation") != "cpython" or python < MINIMUM_PYTHON:
        found = f"{facts.get('implementation')} {python[0]}.{python[1]}"
        raise BuildError(
            f"the base image {base_image} has {found}; kfn needs CPython "
            f"{MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]} or newer (--base-image, "
            "[tool.kfn] base-image)"
        )
    if facts.get("glibc"):
        libc, version = "glibc", str(facts["glibc"]).split()[-1]
    elif facts.get("musl"):
        libc, version = "musl", str(facts["musl"])
    else:
        raise BuildError(
            f"the base image {base_image} has neither glibc nor musl: kfn installs "
            "manylinux or musllinux wheels only"
        )
    major, _, minor = version.partition(".")
    try:
        libc_version = (int(major), int(minor.split(".")[0]))
    except ValueError:
        raise BuildError(
            f"could not read the {libc} version of {base_image} ({version!r})"
        ) from None
    return PythonPlatform(python=python, machine=machine, libc=libc, libc_version=libc_version)
