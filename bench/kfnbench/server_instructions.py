"""Instructions per request of the whole server process: uvicorn, httptools, kfn, all of it.

The in-process count (instructions.py) drives the ASGI app with no server around it;
this one starts each system's server as its users start it, under valgrind's
callgrind with instrumentation off, and sends it requests over loopback from this
process, one at a time on one kept-alive connection. After a warm-up the harness
turns instrumentation on (`callgrind_control -i on`), sends the counted requests and
dumps the count (`callgrind_control -d`): the server's instructions for parsing,
serving and answering them, its event loop included, divided by the requests. The
client's work is in another process and not counted; what the server does while
idle between two requests (uvicorn's tick every 0.1 s) is, and is small.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from kfnbench import servers
from kfnbench.instructions import Count, InstructionsError, parse_totals
from kfnbench.systems import HOST, SERVERS, SYSTEMS
from kfnbench.workloads import WORKLOADS, Request

START_TIMEOUT = 300.0
REQUEST_TIMEOUT = 60.0
COUNTED = ("floor", "kfn", "kfn-async", "kfn-sync")


def raw_request(request: Request, path: str, port: int) -> bytes:
    """The bytes of one keep-alive HTTP/1.1 request."""
    lines = [f"{request.method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    if request.body or request.method == "POST":
        lines.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


class Connection:
    """One kept-alive connection that reads whole responses (by length or chunked)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise InstructionsError("the server closed the connection")
        self.buffer += chunk

    def _take_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def exchange(self, raw: bytes) -> int:
        """Send one request, read its whole response, return its status."""
        self.sock.sendall(raw)
        head = self._take_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        if "content-length" in fields:
            self._take(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._take_until(b"\r\n").split(b";")[0], 16)
                self._take(size + 2)
                if size == 0:
                    break
        return status


def _control(pid: int, *args: str) -> None:
    done = subprocess.run(
        ["callgrind_control", *args, str(pid)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise InstructionsError(f"callgrind_control {' '.join(args)}: {done.stderr.strip()}")


def _send(connection: Connection, raw: bytes, times: int, system: str) -> None:
    for _ in range(times):
        status = connection.exchange(raw)
        if not 200 <= status < 300:
            raise InstructionsError(f"{system} answered {status}")


def count(
    system: str, workload: str, requests: int, warmup: int, work: Path, cpu: int | None
) -> Count:
    """The server's instructions for `requests` requests of `workload`, after `warmup`."""
    route = SYSTEMS[system].routes[workload]
    server = SERVERS[route.server]
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"callgrind-server-{system}-{workload}.out"
    for old in work.glob(f"{out.name}*"):
        old.unlink()
    port = servers.free_port()
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}", *server.command(port)]  # fmt: skip
    env = servers._environment(server, port, {"PYTHONHASHSEED": "0"})
    log = open(work / f"callgrind-server-{system}-{workload}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        argv,
        cwd=server.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        process_group=0,
        preexec_fn=servers.pinner(cpu),
    )
    running = servers.Running(server, port, process, Path(log.name), time.perf_counter())
    raw = raw_request(WORKLOADS[workload].request, route.path, port)
    try:
        servers.wait_listening(running, START_TIMEOUT)
        connection = Connection(port)
        try:
            _send(connection, raw, warmup, system)
            _control(process.pid, "-i", "on")
            _send(connection, raw, requests, system)
            _control(process.pid, "-d")
        finally:
            connection.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        log.close()
    dump = out.with_name(out.name + ".1")  # the first dump on request
    if not dump.exists():
        raise InstructionsError(f"callgrind wrote no dump for {system} (see {log.name})")
    return Count(system, workload, requests, parse_totals(dump.read_text(errors="replace")))


def measure(
    systems: list[str], requests: int, warmup: int, work: Path, cpu: int | None
) -> list[Count]:
    """Whole-server instructions per binary event for each selected system counted here."""
    counts = []
    for system in [s for s in COUNTED if s in systems]:
        counted = count(system, "event-binary", requests, warmup, work, cpu)
        counts.append(counted)
        print(f"  whole server {system:<10} {counted.per_event:>10,.0f} per event", flush=True)
    return counts
