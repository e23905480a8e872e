"""`kfn invoke` with a bearer token, against a real `kfn run` that checks sender identity.

The host verifies tokens against a JWKS served on 127.0.0.1 by the issuer of the
sender-identity tests; the token reaches it from --token, --token-file (as Kubernetes
mounts tokens) or KFN_INVOKE_TOKEN.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kfn.cli import main
from tests.conftest import REPO, Server
from tests.integration.test_sender_identity import AUDIENCE, EVENT_TYPE, Issuer, start_identity_host

MISSING = (
    "kfn: the host requires a sender-identity token: pass --token TOKEN or "
    "--token-file PATH, or set KFN_INVOKE_TOKEN"
)


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    yield issuer
    issuer.stop()


@pytest.fixture(scope="module")
def host(issuer: Issuer) -> Iterator[Server]:
    server = start_identity_host(issuer)
    yield server
    server.stop()


@dataclass
class Result:
    """What one `kfn invoke` gave: its exit code and output."""

    returncode: int
    stdout: str
    stderr: str


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(
    host: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Invoke:
    """`kfn invoke` to the host's `seen` function, run by the CLI's own entry point."""

    def run(event_id: str, *args: str, token_env: str | None = None) -> Result:
        monkeypatch.delenv("KFN_INVOKE_TOKEN", raising=False)
        if token_env is not None:
            monkeypatch.setenv("KFN_INVOKE_TOKEN", token_env)
        capsys.readouterr()
        target = ("--target", host.url + "/events/seen", "--type", EVENT_TYPE, "--id", event_id)
        code = main(["invoke", *target, *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def ran(host: Server, event_id: str) -> bool:
    return event_id in httpx.get(host.url + "/runs", timeout=5).json()


def test_without_a_token_the_401_says_how_to_send_one(host: Server) -> None:
    """As typed in a shell: `python -m kfn invoke ...`, with no token anywhere."""
    env = {key: value for key, value in os.environ.items() if key != "KFN_INVOKE_TOKEN"}
    target = ("--target", host.url + "/events/seen", "--type", EVENT_TYPE, "--id", "no-token")
    result = subprocess.run(
        [sys.executable, "-m", "kfn", "invoke", *target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("401 Unauthorized")
    assert result.stderr.splitlines()[-1] == MISSING
    assert not ran(host, "no-token")


def test_a_token_from_the_command_line_is_sent_as_bearer(
    invoke: Invoke, host: Server, issuer: Issuer
) -> None:
    result = invoke("flag-1", "--token", issuer.token())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("200 OK")
    assert '"id": "flag-1"' in result.stdout
    assert ran(host, "flag-1")


def test_a_token_file_as_kubernetes_mounts_it(
    invoke: Invoke, host: Server, issuer: Issuer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token() + "\n", encoding="utf-8")
    result = invoke("file-1", "--token-file", str(token_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ran(host, "file-1")


def test_a_token_from_the_environment(invoke: Invoke, host: Server, issuer: Issuer) -> None:
    result = invoke("env-1", token_env=issuer.token())
    assert result.returncode == 0, result.stdout + result.stderr
    assert ran(host, "env-1")


def test_the_flag_wins_over_the_environment(invoke: Invoke, host: Server, issuer: Issuer) -> None:
    result = invoke("flag-over-env", "--token", issuer.token(), token_env="not.a.jwt")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_refused_token_is_one_line_with_the_hosts_reason(
    invoke: Invoke, host: Server, issuer: Issuer
) -> None:
    token = issuer.token(aud=["serving.knative.dev/service/default/elsewhere"])
    result = invoke("wrong-aud", "--token", token)
    assert result.returncode == 1
    assert result.stdout.startswith("401 Unauthorized")
    assert result.stderr.splitlines()[-1] == (
        f"kfn: the host refused the token: the token is not for this audience ({AUDIENCE})"
    )
    assert token not in result.stdout + result.stderr
    assert not ran(host, "wrong-aud")


@pytest.mark.parametrize(
    ("args", "token_env", "message"),
    [
        (("--token-file", "/nonexistent/token"), None, "kfn: cannot read --token-file"),
        (("--token", "two words"), None, "kfn: --token: a bearer token is one word"),
        (("--token", " "), None, "kfn: --token: the token is empty"),
        ((), "  \n", "kfn: KFN_INVOKE_TOKEN: the token is empty"),
    ],
    ids=["unreadable-file", "a-space", "blank", "blank-env"],
)
def test_a_token_that_cannot_be_sent_is_a_clear_error(
    invoke: Invoke, host: Server, args: tuple[str, ...], token_env: str | None, message: str
) -> None:
    result = invoke("never-sent", *args, token_env=token_env)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stdout == ""


def test_an_empty_token_file_is_a_clear_error(invoke: Invoke, host: Server, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("\n", encoding="utf-8")
    result = invoke("never-sent", "--token-file", str(token_file))
    assert result.returncode == 2
    assert result.stderr == f"kfn: --token-file {token_file}: the token is empty\n"
