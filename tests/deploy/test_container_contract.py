"""The container contract, without a container engine.

What the image promises: its exact CMD, in a fresh virtual environment built only
from pyproject.toml, with the function sources the Dockerfile copies, starts the host
on $PORT, answers the probes, and exits 0 on SIGTERM. The test reads the CMD, the
copies and the ignore file from deploy/, so it fails when they change.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy.conftest import REPO
from tests.deploy.dockerfile_parsing import command, copy_context, ignore_patterns, stages

DEPLOY = REPO / "deploy"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _image_filesystem(tmp_path: Path) -> tuple[Path, Path]:
    """(the venv, /app) as the Dockerfile would build them."""
    final = stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))[-1]
    patterns = ignore_patterns((DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8"))
    context = tmp_path / "context"
    copy_context(REPO, context, patterns)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    app = tmp_path / "app"  # the final stage's WORKDIR
    app.mkdir()
    for copy in final.all("COPY"):
        if copy.startswith("--from"):
            continue
        source, target = copy.split()
        if (context / source).is_dir():
            shutil.copytree(context / source, app / target)
        else:
            shutil.copy2(context / source, app / target)
    return venv, app


@pytest.mark.slow
def test_the_image_command_serves_the_probes_on_port_and_exits_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    venv, app = _image_filesystem(tmp_path)
    cmd = command(stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))[-1])
    port = _free_port()
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        # What Knative sets in every container (CONTRACT.md 3a).
        "PORT": str(port),
        "K_SERVICE": "shop",
        "K_CONFIGURATION": "shop",
        "K_REVISION": "shop-00001",
    }
    process = subprocess.Popen(
        cmd, cwd=app, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"  # the CMD binds 0.0.0.0; we only talk to loopback
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"{base}/health/readiness", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200, "the host never became ready"
        assert ready.json() == {"status": "ready"}
        assert httpx.get(f"{base}/health/liveness", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = process.stdout.read() if process.stdout else ""
    assert code == 0, output
    assert "Traceback" not in output, output
