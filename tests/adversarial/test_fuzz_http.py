"""The HTTP fuzzer: mutated CloudEvents requests against a production-mode `kfn run`.

A seeded generator (KFN_FUZZ_SEED, else a fresh seed, printed and recorded) builds
requests in every content mode from valid events, then breaks them: headers
mutated, duplicated or dropped, charsets and media types of every sort, JSON
nested deep, NaN, huge numbers, broken UTF-8 and lone surrogates, sizes at and
past the body limit; some go out as raw bytes on a socket. The host must answer
each in time, with no 5xx of its own (only the 500 a function's unwritable reply
earns), every error as problem+json, and no traceback anywhere in a response.
Every fault it found is a named test in tests/integration/test_wire_faults.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.apps.wire import BAD_REPLIES
from tests.conftest import Server, start_server

if TYPE_CHECKING:
    from tests.adversarial.conftest import Ledger

BODY_LIMIT = 200_000
TIMEOUT = 10.0
"""Seconds a request may take before it counts as a hang."""

TYPES = ["wire.echo", "wire.quiet", "wire.reply", "wire.unknown", "", "x" * 5_000]
PATHS = ["/", "/events/echo", "/events/bad_reply", "/events/quiet", "/events/nope", "/events/"]
CHARSETS = [
    "utf-8",
    "UTF-8",
    "latin-1",
    "utf-16",
    "utf-32",
    "ascii",
    "shift_jis",
    "utf-7",
    "idna",
    "punycode",
    "unicode_escape",
    "raw_unicode_escape",
    "undefined",
    "base64",
    "rot13",
    "zlib",
    "hex",
    "nope",
    "",
    '"utf-8"',
    "utf-8-sig",
    "cp1252",
    "mbcs",
    "\u00e9",
]
MEDIA_TYPES = [
    "application/json",
    "text/plain",
    "text/html",
    "application/octet-stream",
    "application/xml",
    "text/json",
    "application/vnd.x+json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/cloudevents+avro",
    "application/cloudevents-batch+xml",
    "multipart/form-data",
    "garbage",
    "",
]
ALLOWED_5XX = {(500, "reply-not-encodable"), (503, "overloaded")}
"""The 5xx a request may earn here: a function's reply that cannot be written, and
the in-flight limit (not a fault of decoding)."""


def _seed() -> int:
    given = os.environ.get("KFN_FUZZ_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


class Generator:
    """Requests built from valid events, then broken, from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def text(self) -> str:
        rng = self.rng
        choice = rng.random()
        if choice < 0.4:
            return "".join(rng.choice("abcXYZ09-._/:") for _ in range(rng.randint(0, 12)))
        if choice < 0.6:
            return "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(1, 8)))
        if choice < 0.7:
            return "\ud800" + "x"
        if choice < 0.8:
            return "x" * rng.choice([100, 5_000, 60_000])
        return rng.choice(["%", "%zz", "%ff", "%e9", '"q"', '"\\"', "\\", " ", "\t", "null"])

    def json_value(self, depth: int = 0) -> Any:
        rng = self.rng
        if depth > 3 or rng.random() < 0.4:
            return rng.choice(
                [1, -1, 0.5, 1e308, 2**70, True, None, "s", self.text(), "\u00e9", []]
            )
        if rng.random() < 0.5:
            return [self.json_value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {self.text()[:10]: self.json_value(depth + 1) for _ in range(rng.randint(0, 3))}

    def data(self) -> bytes:
        """A body as data: JSON of some sort, broken JSON, nesting, odd numbers or bytes."""
        rng = self.rng
        kind = rng.randrange(10)
        if kind == 0:
            depth = rng.choice([127, 128, 129, 130, 500, 1_000, 5_000, 100_000])
            opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
            return opener * depth + b"1" + closer * depth
        if kind == 1:
            return rng.choice([b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b'{"a": Infinity}'])
        if kind == 2:
            return rng.choice([b"1e400", b"-1e400", b"1e-400", b"9" * 5_000, b"1" * 300 + b".5"])
        if kind == 3:
            return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        if kind == 4:
            return rng.choice([b'"\\ud800"', b'"\\udfff\\ud800"', b'"\xed\xa0\x80"', b"\xff\xfe{}"])
        if kind == 5:
            whole = json.dumps(self.json_value()).encode()
            return whole[: rng.randint(0, len(whole))]
        if kind == 6:
            return b"x" * rng.choice([BODY_LIMIT - 200, BODY_LIMIT, BODY_LIMIT + 1, BODY_LIMIT * 3])
        if kind == 7:
            return json.dumps(self.json_value()).encode("utf-16")
        return json.dumps(self.json_value()).encode()

    def attributes(self) -> dict[str, Any]:
        rng = self.rng
        attributes: dict[str, Any] = {
            "specversion": rng.choice(["1.0"] * 8 + ["0.3", "", "2.0"]),
            "id": rng.choice(["e-1", "", self.text()]),
            "source": rng.choice(["/tests/fuzz", "", self.text()]),
            "type": rng.choice(TYPES),
        }
        if attributes["type"] == "wire.reply" or rng.random() < 0.2:
            attributes["subject"] = rng.choice([*BAD_REPLIES, self.text()])
        for _ in range(rng.choice([0, 0, 1, 3])):
            name = rng.choice(
                ["ext", "count", "Bad", "x-y", "data", "time", "dataschema", "a" * 30]
            )
            attributes[name] = rng.choice([self.text(), 7, 2**40, True, 1.5, None, [1], {"a": 1}])
        for name in rng.sample(["id", "source", "type", "specversion"], rng.choice([0] * 6 + [1])):
            attributes.pop(name, None)
        return attributes

    def content_type(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.15:
            return None
        media = rng.choice(MEDIA_TYPES)
        if rng.random() < 0.4:
            media += f"; charset={rng.choice(CHARSETS)}"
        if rng.random() < 0.1:
            media = media.upper()
        return media

    def request(self) -> Case:
        rng = self.rng
        mode = rng.choice(["binary", "binary", "structured", "batch"])
        attributes = self.attributes()
        content_type = self.content_type()
        headers: list[tuple[str, str]] = []
        if mode == "binary":
            for name, value in attributes.items():
                headers.append((f"ce-{name}", str(value)))
            if rng.random() < 0.1:
                headers.append(("ce-id", "again"))
            if content_type is not None:
                headers.append(("content-type", content_type))
            body = self.data() if rng.random() < 0.8 else b""
        else:
            document: dict[str, Any] = dict(attributes)
            if content_type is not None and rng.random() < 0.5:
                document["datacontenttype"] = content_type
            body = self._document(document, mode)
            kind = (
                "application/cloudevents+json"
                if mode == "structured"
                else ("application/cloudevents-batch+json")
            )
            if rng.random() < 0.2:
                kind += f"; charset={rng.choice(CHARSETS)}"
            headers.append(("content-type", kind))
        path = rng.choice(PATHS)
        return Case(mode, path, headers, body, raw=rng.random() < 0.2)

    def _document(self, document: dict[str, Any], mode: str) -> bytes:
        rng = self.rng
        data = self.data() if rng.random() < 0.7 else None
        text = json.dumps(document, default=str)
        if data is not None and rng.random() < 0.8:
            member = (
                b'"data": ' + data if rng.random() < 0.85 else b'"data_base64": "' + data + b'"'
            )
            encoded = (
                text[:-1].encode("utf-8", "surrogatepass")
                + (b", " if document else b"")
                + member
                + b"}"
            )
        else:
            encoded = text.encode("utf-8", "surrogatepass")
        if mode == "batch":
            count = rng.choice([0, 1, 1, 2, 5])
            encoded = b"[" + b", ".join([encoded] * count) + b"]"
            if rng.random() < 0.1:
                encoded = b"{}"
        return encoded


@dataclass
class Case:
    mode: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bool = False

    def __repr__(self) -> str:
        headers = [(k, v[:80]) for k, v in self.headers]
        return f"Case({self.mode}, {self.path}, {headers}, {self.body[:120]!r}, raw={self.raw})"


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


@dataclass
class Findings:
    statuses: Counter[str] = field(default_factory=Counter)
    raw: int = 0
    faults: list[str] = field(default_factory=list)

    def fault(self, case: Case, why: str) -> None:
        if len(self.faults) < 10:
            self.faults.append(f"{why}: {case!r}")


_NOT_IN_A_FIELD = bytes(c for c in range(32) if c != 9) + b"\x7f"


def header_bytes(value: str) -> bytes:
    """A header value as HTTP lets it on the wire: UTF-8 bytes (obs-text), no control byte.

    Malformed HTTP (a CR, a NUL) is the server layer's to refuse before the host sees
    it; here every request is well-formed HTTP carrying a broken CloudEvent.
    """
    raw = value.encode("utf-8", "surrogatepass")
    return raw.translate(None, _NOT_IN_A_FIELD).strip(b" \t")


def send_raw(port: int, case: Case) -> Answer:
    lines = [f"POST {case.path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    lines += [k.encode() + b": " + header_bytes(v) for k, v in case.headers]
    lines.append(f"Content-Length: {len(case.body)}".encode())
    request = b"\r\n".join(lines) + b"\r\n\r\n" + case.body
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        # The server may answer (413) and close before the body is all sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    if not status_line.startswith(b"HTTP/1.1 "):
        raise ConnectionError(f"no HTTP response: {status_line[:80]!r}")
    content_type = ""
    for line in header_lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            content_type = value.strip().decode("latin-1")
    return Answer(int(status_line.split()[1]), content_type, body)


def send_httpx(client: httpx.Client, case: Case) -> Answer:
    headers = [(k.encode(), header_bytes(v)) for k, v in case.headers]
    response = client.post(case.path, headers=headers, content=case.body)
    return Answer(response.status_code, response.headers.get("content-type", ""), response.content)


def judge(case: Case, answer: Answer, findings: Findings) -> None:
    """What a Broker must be able to rely on, whatever it sent."""
    if answer.status < 500:
        findings.statuses[str(answer.status)] += 1
    if b"Traceback" in answer.body or b'File "' in answer.body:
        findings.fault(case, f"{answer.status} with a traceback")
    if answer.status < 400:
        return
    if answer.content_type != "application/problem+json":
        if answer.status >= 500:
            findings.statuses[f"{answer.status} not a problem"] += 1
        findings.fault(case, f"{answer.status} as {answer.content_type!r}")
        return
    try:
        problem = json.loads(answer.body)
    except ValueError:
        if answer.status >= 500:
            findings.statuses[f"{answer.status} not a problem"] += 1
        findings.fault(case, f"{answer.status} with a problem that is not JSON")
        return
    kind = str(problem.get("type", "")).removeprefix("urn:kfn:problem:")
    if answer.status >= 500:
        findings.statuses[f"{answer.status} {kind}"] += 1
    if problem.get("status") != answer.status:
        findings.fault(case, f"{answer.status} whose problem says {problem.get('status')}")
    if answer.status >= 500 and (answer.status, kind) not in ALLOWED_5XX:
        findings.fault(case, f"{answer.status} {kind}")
    if len(answer.body) > 8_000:
        findings.fault(case, f"a problem of {len(answer.body)} bytes echoes too much")


@pytest.fixture(scope="module")
def target() -> Iterator[Server]:
    server = start_server(
        "tests.apps.wire",
        {"K_SERVICE": "fuzz", "KFN_LOG_FORMAT": "json", "KFN_MAX_BODY_BYTES": str(BODY_LIMIT)},
    )
    yield server
    server.stop()


def test_no_request_earns_a_5xx_a_non_problem_or_a_hang(
    target: Server, budget: Callable[[float], float], ledger: Ledger
) -> None:
    seed = _seed()
    generator = Generator(seed)
    findings = Findings()
    deadline = time.monotonic() + budget(15)
    sent = 0
    with httpx.Client(base_url=target.url, timeout=TIMEOUT) as client:
        while time.monotonic() < deadline:
            case = generator.request()
            try:
                answer = send_raw(target.port, case) if case.raw else send_httpx(client, case)
            except (TimeoutError, httpx.TimeoutException):
                findings.fault(case, f"no answer within {TIMEOUT:g}s")
                continue
            except (ConnectionError, httpx.TransportError) as error:
                findings.fault(case, f"connection lost ({type(error).__name__})")
                continue
            finally:
                sent += 1
                findings.raw += case.raw
            judge(case, answer, findings)
    assert target.process.poll() is None, "the host died"
    host_faults = [line for line in target.logs().splitlines() if '"internal error"' in line]
    ledger.record(
        "HTTP fuzzer",
        f"seed {seed} (replay: KFN_FUZZ_SEED={seed}); every 5xx counted by its problem type",
        requests=sent,
        raw_socket_requests=findings.raw,
        faults=len(findings.faults),
        **{f"status {code}": count for code, count in sorted(findings.statuses.items())},
    )
    assert not host_faults, host_faults[:3]
    assert not findings.faults, f"seed {seed}:\n" + "\n".join(findings.faults)
    assert sent > 100
