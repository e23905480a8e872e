"""Load generation: wrk pinned to the load CPU, or a small asyncio client when wrk is missing.

Every run is bounded twice: by its duration (wrk -d) and by a hard timeout on the
process. wrk reports through a Lua `done` hook as one JSON line, so nothing depends
on parsing its human-readable summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kfnbench.systems import HOST
from kfnbench.workloads import Request

MARKER = "KFNBENCH "
WRK_TIMEOUT = "5s"
GRACE = 30.0
"""Seconds a load run may overrun its duration before it is killed."""

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'KFNBENCH {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


class LoadError(RuntimeError):
    """A load run failed or produced no result."""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def _lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def wrk_script(req: Request, directory: Path, name: str) -> Path:
    """A wrk Lua script that sends `req` and prints the summary as JSON."""
    lines = [f"wrk.method = {_lua_string(req.method)}"]
    if req.body:
        lines.append(f"wrk.body = {_lua_string(req.body.decode())}")
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in req.headers]
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{name}.lua"
    script.write_text("\n".join(lines) + "\n" + _DONE)
    return script


def _wrk_argv(
    wrk: str, url: str, script: Path, connections: int, seconds: float, cpu: int | None
) -> list[str]:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", WRK_TIMEOUT, "-s", str(script), url]  # fmt: skip
    return ["taskset", "-c", str(cpu), *argv] if cpu is not None else argv


def _parse_wrk(stdout: str, stderr: str, url: str) -> LoadResult:
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            return LoadResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors=raw["errors"],
                p50_ms=raw["p50_us"] / 1000,
                p90_ms=raw["p90_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
            )
    raise LoadError(f"wrk gave no result for {url}: {stderr.strip() or stdout.strip()}")


def run_wrk(
    wrk: str, url: str, script: Path, connections: int, seconds: float, cpu: int | None
) -> LoadResult:
    argv = _wrk_argv(wrk, url, script, connections, seconds, cpu)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + GRACE)
    except subprocess.TimeoutExpired:
        raise LoadError(f"wrk overran {seconds + GRACE:.0f}s against {url}") from None
    return _parse_wrk(done.stdout, done.stderr, url)


@contextlib.contextmanager
def wrk_in_background(
    wrk: str, url: str, script: Path, connections: int, seconds: float, cpu: int | None
) -> Iterator[list[LoadResult]]:
    """wrk running while the body does something else (profiling); its result lands in
    the yielded list when the block ends. The process is killed if the block fails."""
    process = subprocess.Popen(
        _wrk_argv(wrk, url, script, connections, seconds, cpu),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results: list[LoadResult] = []
    try:
        yield results
        stdout, stderr = process.communicate(timeout=seconds + GRACE)
        results.append(_parse_wrk(stdout, stderr, url))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


# -- the fallback: a keep-alive HTTP/1.1 client on asyncio --------------------------------


def _payload(req: Request, port: int, path: str) -> bytes:
    head = [f"{req.method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    head += [f"{name}: {value}" for name, value in req.headers]
    head.append(f"Content-Length: {len(req.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + req.body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while size := int((await reader.readline()).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(
    port: int, payload: bytes, deadline: float, latencies: list[int], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            sent = time.perf_counter_ns()
            writer.write(payload)
            status = await _read_response(reader)
            latencies.append(time.perf_counter_ns() - sent)
            if not 200 <= status < 400:
                errors.append(status)
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
        errors.append(0)
    finally:
        writer.close()


async def _python_load(
    port: int, path: str, req: Request, connections: int, seconds: float
) -> LoadResult:
    payload = _payload(req, port, path)
    latencies: list[int] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    tasks = [_connection(port, payload, deadline, latencies, errors) for _ in range(connections)]
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + GRACE)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0]

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] / 1e6

    return LoadResult(
        len(latencies),
        elapsed,
        len(errors),
        percentile(50),
        percentile(90),
        percentile(99),
        ordered[-1] / 1e6,
    )


def run_python(port: int, path: str, req: Request, connections: int, seconds: float) -> LoadResult:
    """The fallback load generator (slower than wrk: it may be the bottleneck, and says so)."""
    runner: Callable[[Coroutine[Any, Any, LoadResult]], LoadResult] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    try:
        return runner(_python_load(port, path, req, connections, seconds))
    except TimeoutError:
        raise LoadError(f"the Python load generator overran against port {port}") from None
