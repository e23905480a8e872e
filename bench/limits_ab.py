"""What the connection limits cost on the event path: kfn at two revisions under wrk, interleaved.

    python3 bench/limits_ab.py --before main --after HEAD [--reps 3] [--seconds 10]

Each revision's `runtime/` and `functions/` are exported (git archive) into a
temporary directory and served by `kfn run` (K_SERVICE set, as on Knative) with
the current environment's packages, pinned to CPU 0 while wrk runs on CPU 1. The
two revisions alternate, so a machine's drift falls on both; the result is the
ratio of their median throughputs for one binary-mode CloudEvent that a function
acknowledges (202), and the latency medians beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from kfnbench.workloads import ACK_TYPE, ORDER_JSON, SOURCE  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["content-type"] = "application/json"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-id"] = "bench-1"
wrk.headers["ce-source"] = "{source}"
wrk.headers["ce-type"] = "{type}"
"""


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "runtime", "functions"],
        check=True,
        capture_output=True,
    ).stdout
    target = into / revision.replace("/", "_")
    target.mkdir()
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(target, filter="data")
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if shutil.which("taskset") else command


def serve(tree: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{tree / 'runtime'}:{tree}",
        "PORT": str(port),
        "K_SERVICE": "bench",
        "KFN_LOG_LEVEL": "WARNING",
    }
    command = pinned(0, [sys.executable, "-m", "kfn", "run", "--host", "127.0.0.1"])
    process = subprocess.Popen(
        command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{port}/health/readiness"
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"kfn at {tree} did not start")


def wrk(port: int, script: Path, seconds: int) -> tuple[float, float]:
    """Requests per second and the median latency in milliseconds."""
    command = pinned(
        1,
        ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", "-s", str(script)],
    )
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}/"], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw non-2xx answers:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    match = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    assert match is not None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return rate, float(match.group(1)) * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="main")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH")
    with tempfile.TemporaryDirectory(prefix="kfn-ab-") as scratch:
        root = Path(scratch)
        trees = {
            name: export(rev, root)
            for name, rev in (("before", args.before), ("after", args.after))
        }
        script = root / "event.lua"
        script.write_text(LUA.format(body=json.dumps(ORDER_JSON), source=SOURCE, type=ACK_TYPE))
        results: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
        for _ in range(args.reps):
            for name, tree in trees.items():
                port = free_port()
                process = serve(tree, port)
                try:
                    wrk(port, script, 2)  # warm-up
                    results[name].append(wrk(port, script, args.seconds))
                finally:
                    process.terminate()
                    process.wait(30)
    summary = {
        name: {
            "requests_per_second": [round(r, 1) for r, _ in runs],
            "median_rps": round(statistics.median(r for r, _ in runs), 1),
            "median_p50_ms": round(statistics.median(p for _, p in runs), 3),
        }
        for name, runs in results.items()
    }
    ratio = summary["after"]["median_rps"] / summary["before"]["median_rps"]
    print(json.dumps({"before": args.before, "after": args.after, **summary}, indent=2))
    print(f"throughput ratio after/before: {ratio:.3f}")


if __name__ == "__main__":
    main()
