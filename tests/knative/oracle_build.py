"""Build the Knative oracle and fetch the pinned upstream modules; standard library only.

The oracle's go.mod pins every version; `go mod download -json` gives a module's folder
in the Go module cache, and the binary is built once per source version under
build/oracle/ (gitignored). Run as a script, it does both with a progress line each,
so CI pays for the first build before the tests start:

    python3 tests/knative/oracle_build.py
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ORACLE_SOURCE = REPO / "tests" / "knative" / "oracle"
BUILD_DIR = REPO / "build" / "oracle"

EVENTING = "knative.dev/eventing"
SERVING = "knative.dev/serving"
CESQL = "github.com/cloudevents/sdk-go/sql/v2"
CONFORMANCE = "github.com/cloudevents/conformance"
UPSTREAM = (EVENTING, SERVING, CESQL, CONFORMANCE)
"""The modules whose files the tests read: CRDs and config maps, the TCK, the events."""


class GoError(RuntimeError):
    """Go is missing or a Go step failed; the message says which."""


def find_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise GoError("Go is not installed")
    return go


def _run(command: list[str], what: str, timeout: float) -> str:
    result = subprocess.run(
        command, cwd=ORACLE_SOURCE, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise GoError(f"{what} failed:\n{result.stderr.strip()}")
    return result.stdout


def module_dir(module: str) -> Path:
    """The folder of `module` at the version the oracle's go.mod pins (downloaded once)."""
    out = _run([find_go(), "mod", "download", "-json", module], f"go mod download {module}", 900)
    info = json.loads(out)
    if info.get("Error"):
        raise GoError(f"go mod download {module}: {info['Error']}")
    return Path(info["Dir"])


def module_version(module: str) -> str:
    out = _run([find_go(), "list", "-m", "-json", module], f"go list -m {module}", 120)
    return str(json.loads(out)["Version"])


def source_key() -> str:
    """A hash of the oracle's go.mod, go.sum and Go files: a new key means a new build."""
    digest = hashlib.sha256()
    for path in sorted(ORACLE_SOURCE.iterdir()):
        if path.suffix == ".go" or path.name in ("go.mod", "go.sum"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def oracle_binary(progress: bool = True) -> Path:
    """The oracle binary for the current sources, built if it is not there yet."""
    binary = BUILD_DIR / source_key() / "oracle"
    if binary.exists():
        return binary
    go = find_go()
    if progress:
        print(
            "building the Knative oracle (the first build compiles Knative: a few minutes)...",
            file=sys.stderr,
            flush=True,
        )
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name("oracle.partial")
    _run([go, "build", "-o", str(partial), "."], "building the Knative oracle", 1800)
    partial.replace(binary)
    for stale in BUILD_DIR.iterdir():
        if stale != binary.parent and stale.is_dir():
            shutil.rmtree(stale)  # builds of older sources: about 100 MB each
    return binary


def main() -> int:
    try:
        for module in UPSTREAM:
            print(f"go mod download {module}@{module_version(module)}", flush=True)
            module_dir(module)
        print(f"oracle: {oracle_binary().relative_to(REPO)}", flush=True)
    except GoError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
