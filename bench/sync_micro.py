"""Benchmark: the same event function as `def` and as `async def`, throughput and p99.

A sync function runs on the host's worker threads (kfn._sync_pool); this measures
what that hand-off costs against the same body on the event loop, two ways:

- on a real server (the default): one `kfn run` in production mode (K_SERVICE set)
  serves both functions, pinned to CPU 0, with wrk (or, without wrk, a small asyncio
  client) on CPU 1 sending binary events to `/events/work_sync` and
  `/events/work_async`, interleaved, in an order rotated per repetition;
- in process (`--in-process`): `Dispatcher.call` from concurrent tasks, no HTTP.

Run it with the project's virtualenv:  .venv/bin/python bench/sync_micro.py
It prints one JSON object: medians per function, the ratios, and the targets.
This file is also the functions module that the server imports (`sync_micro`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kfn import CloudEvent, cloudevent

BENCH = Path(__file__).resolve().parent

HOST = "127.0.0.1"
TARGETS = {"throughput_ratio_min": 0.9, "p99_ratio_max": 1.5}
"""Sync against async: at least 0.9x the throughput, at most 1.5x the p99."""
FUNCTIONS = {"sync": "work_sync", "async": "work_async"}
BODY = b'{"order": "o-1", "items": 3, "total": 42.5}'


def _work(event: CloudEvent) -> None:
    """The shared body: look at the data, reply nothing (202)."""
    data = event.get_data()
    if not data:
        raise ValueError("no data")


@cloudevent(type="bench.sync")
def work_sync(event: CloudEvent) -> None:
    _work(event)


@cloudevent(type="bench.async")
async def work_async(event: CloudEvent) -> None:
    _work(event)


def _headers(kind: str) -> list[tuple[str, str]]:
    return [
        ("ce-specversion", "1.0"),
        ("ce-id", "bench-1"),
        ("ce-source", "/bench"),
        ("ce-type", f"bench.{kind}"),
        ("content-type", "application/json"),
    ]


def _summary(latencies_ns: list[int], seconds: float, errors: int) -> dict[str, float]:
    ordered = sorted(latencies_ns) or [0]

    def percentile(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] / 1e6, 3)

    return {
        "requests": len(latencies_ns),
        "rps": round(len(latencies_ns) / seconds, 1) if seconds else 0.0,
        "p50_ms": percentile(50),
        "p99_ms": percentile(99),
        "errors": errors,
    }


# -- in process --------------------------------------------------------------------------


async def _in_process(kind: str, tasks: int, per_task: int) -> dict[str, float]:
    from kfn.config import Settings
    from kfn.dispatch import Dispatcher
    from kfn.metrics import Metrics
    from kfn.registry import default_registry

    dispatcher = Dispatcher(default_registry, Settings(), Metrics())
    target = dispatcher.targets[FUNCTIONS[kind]]
    event = CloudEvent({"type": f"bench.{kind}", "source": "/bench", "id": "1"}, json.loads(BODY))
    latencies: list[int] = []

    async def loop() -> None:
        for _ in range(per_task):
            sent = time.perf_counter_ns()
            await dispatcher.call(target, event)
            latencies.append(time.perf_counter_ns() - sent)

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(tasks)))
    elapsed = time.perf_counter() - started
    await dispatcher.aclose()
    return _summary(latencies, elapsed, 0)


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in FUNCTIONS}
    for repetition in range(args.repeats):
        order = list(FUNCTIONS) if repetition % 2 == 0 else list(reversed(FUNCTIONS))
        for kind in order:
            runs[kind].append(asyncio.run(_in_process(kind, args.connections, args.per_task)))
    return _report("in-process", runs, {"tasks": args.connections, "per_task": args.per_task})


# -- on a real server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _cpus() -> tuple[int | None, int | None]:
    """(server CPU, load CPU) when there are two to pin to, else (None, None)."""
    available = sorted(os.sched_getaffinity(0))
    return (available[0], available[1]) if len(available) >= 2 else (None, None)


@contextlib.contextmanager
def _server(port: int, cpu: int | None, threads: int | None) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KFN_", "K_")) and key not in ("PYTHONPATH", "PORT")
    }
    env.update(
        PORT=str(port),
        KFN_FUNCTIONS="sync_micro",
        KFN_LOG_LEVEL="WARNING",
        PYTHONPATH=str(BENCH),
        K_SERVICE="sync-micro",
    )
    if threads is not None:
        env["KFN_SYNC_THREADS"] = str(threads)
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    process = subprocess.Popen(
        [sys.executable, "-m", "kfn", "run", "--host", HOST],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin,  # sched_setaffinity only: safe between fork and exec
        start_new_session=True,
    )
    try:
        _wait_ready(port, process)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    import http.client

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=1)
            connection.request("GET", "/health/readiness")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server was not ready within 30 s")


_WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('SYNCMICRO {"requests":%d,"duration_us":%d,"errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(
    wrk: str, port: int, kind: str, connections: int, seconds: float, cpu: int | None, tmp: Path
) -> dict[str, float]:
    script = tmp / f"{kind}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(BODY.decode())}"]
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in _headers(kind)]
    script.write_text("\n".join(lines) + "\n" + _WRK_DONE)
    url = f"http://{HOST}:{port}/events/{FUNCTIONS[kind]}"
    argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "5s", "-s", str(script), url]  # fmt: skip
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    for line in done.stdout.splitlines():
        if line.startswith("SYNCMICRO "):
            raw = json.loads(line.removeprefix("SYNCMICRO "))
            elapsed = raw["duration_us"] / 1e6
            return {
                "requests": raw["requests"],
                "rps": round(raw["requests"] / elapsed, 1) if elapsed else 0.0,
                "p50_ms": raw["p50_us"] / 1000,
                "p99_ms": raw["p99_us"] / 1000,
                "errors": raw["errors"],
            }
    raise RuntimeError(f"wrk gave no result: {done.stderr.strip() or done.stdout.strip()}")


async def _python_load(port: int, kind: str, connections: int, seconds: float) -> dict[str, float]:
    """Keep-alive HTTP/1.1 connections sending the event back to back (no wrk)."""
    head = [f"POST /events/{FUNCTIONS[kind]} HTTP/1.1", f"Host: {HOST}:{port}"]
    head += [f"{name}: {value}" for name, value in _headers(kind)]
    head.append(f"Content-Length: {len(BODY)}")
    payload = ("\r\n".join(head) + "\r\n\r\n").encode() + BODY
    latencies: list[int] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter_ns()
                writer.write(payload)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter_ns() - sent)
                if not 200 <= status < 300:
                    errors[0] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(connection() for _ in range(connections))), seconds + 30
    )
    return _summary(latencies, time.perf_counter() - started, errors[0])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def on_server(args: argparse.Namespace) -> dict[str, Any]:
    wrk = shutil.which("wrk") if args.load in ("auto", "wrk") else None
    if args.load == "wrk" and wrk is None:
        raise SystemExit("wrk is not on PATH (apt-get install wrk, or use --load python)")
    server_cpu, load_cpu = _cpus()
    port = _free_port()
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in FUNCTIONS}

    def load(kind: str, seconds: float, tmp: Path) -> dict[str, float]:
        if wrk is not None:
            return _wrk(wrk, port, kind, args.connections, seconds, load_cpu, tmp)
        return asyncio.run(_python_load(port, kind, args.connections, seconds))

    with (
        tempfile.TemporaryDirectory(prefix="sync-micro-") as tmp,
        _server(port, server_cpu, args.threads) as server,
    ):
        for kind in FUNCTIONS:
            if args.warmup > 0:
                load(kind, args.warmup, Path(tmp))
        for repetition in range(args.repeats):
            order = list(FUNCTIONS) if repetition % 2 == 0 else list(reversed(FUNCTIONS))
            for kind in order:
                cpu_before = _cpu_seconds(server.pid)
                run = load(kind, args.seconds, Path(tmp))
                used = _cpu_seconds(server.pid) - cpu_before
                per_event = used / run["requests"] * 1e6 if run["requests"] else 0.0
                run["cpu_us_per_event"] = round(per_event, 2)
                runs[kind].append(run)
    setup = {
        "load": "wrk" if wrk is not None else "python",
        "connections": args.connections,
        "seconds": args.seconds,
        "server_cpu": server_cpu,
        "load_cpu": load_cpu,
        "sync_threads": args.threads,
    }
    return _report("server", runs, setup)


def _report(
    mode: str, runs: dict[str, list[dict[str, float]]], setup: dict[str, Any]
) -> dict[str, Any]:
    medians = {
        kind: {
            "rps": statistics.median(run["rps"] for run in results),
            "p99_ms": statistics.median(run["p99_ms"] for run in results),
            "errors": sum(int(run["errors"]) for run in results),
            **(
                {"cpu_us_per_event": statistics.median(r["cpu_us_per_event"] for r in results)}
                if all("cpu_us_per_event" in r for r in results)
                else {}
            ),
        }
        for kind, results in runs.items()
    }
    sync, asynchronous = medians["sync"], medians["async"]
    throughput = sync["rps"] / asynchronous["rps"] if asynchronous["rps"] else 0.0
    p99 = sync["p99_ms"] / asynchronous["p99_ms"] if asynchronous["p99_ms"] else 0.0
    return {
        "mode": mode,
        "setup": setup,
        "median": medians,
        "runs": runs,
        "throughput_ratio": round(throughput, 3),
        "p99_ratio": round(p99, 3),
        "targets": TARGETS,
        "meets_targets": throughput >= TARGETS["throughput_ratio_min"]
        and p99 <= TARGETS["p99_ratio_max"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-process", action="store_true", help="no HTTP: Dispatcher.call")
    parser.add_argument("--connections", type=int, default=32, help="(or tasks in process)")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--per-task", type=int, default=2000, help="calls per task in process")
    parser.add_argument("--threads", type=int, default=None, help="KFN_SYNC_THREADS")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    report = in_process(args) if args.in_process else on_server(args)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
