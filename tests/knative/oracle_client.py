"""Drive one `oracle <command>` process over JSON lines: one request, one answer."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Answer = dict[str, Any]

ARRIVAL = "2026-03-04T05:06:07.123456789Z"
"""An arrival time for `filter` requests, so the stamp the ingress adds is reproducible."""


class OracleError(RuntimeError):
    """The oracle could not read a request, or it died."""


class Oracle:
    """A long-lived oracle process; `ask` one request, `ask_all` many in one pipe trip."""

    def __init__(self, binary: Path, command: str, *args: str) -> None:
        self.command = command
        self.process = subprocess.Popen(
            [str(binary), command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request: dict[str, Any]) -> Answer:
        return self.ask_all([request])[0]

    def ask_all(self, requests: Sequence[dict[str, Any]]) -> list[Answer]:
        """Answers in request order; a writer thread keeps both pipes flowing."""
        assert self.process.stdin is not None and self.process.stdout is not None
        lines = [json.dumps(request) + "\n" for request in requests]
        writer = threading.Thread(target=self._write, args=(lines,), daemon=True)
        writer.start()
        answers = []
        for _ in lines:
            line = self.process.stdout.readline()
            if not line:
                raise OracleError(f"oracle {self.command} died: {self._stderr()}")
            answer = json.loads(line)
            if set(answer) == {"error"}:
                raise OracleError(f"oracle {self.command}: {answer['error']}")
            answers.append(answer)
        writer.join()
        return answers

    def _write(self, lines: Iterable[str]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.writelines(lines)
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the reader reports the death with the oracle's stderr

    def _stderr(self) -> str:
        self.process.kill()
        _, err = self.process.communicate()
        return err.strip()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
