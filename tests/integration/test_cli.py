"""`kfn invoke` against a real host, as a user types it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, Server, free_port


def kfn(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kfn", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_invoke_sends_a_binary_event_and_prints_the_reply(contract_server: Server) -> None:
    result = kfn(
        "invoke",
        "--target",
        contract_server.url + "/",
        "--type",
        "test.point",
        "--data",
        '{"x": 1, "y": 1}',
        "--subject",
        "here",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200 OK")
    assert "type: test.point.moved" in result.stdout
    assert "subject: here" in result.stdout
    assert '"x": 2' in result.stdout


def test_invoke_structured_mode_with_an_extension(contract_server: Server) -> None:
    result = kfn(
        "invoke",
        "--target",
        contract_server.url + "/events/forward",
        "--mode",
        "structured",
        "--type",
        "test.forward",
        "--id",
        "cli-1",
        "-e",
        "traceme=yes",
    )
    assert result.returncode == 0, result.stderr
    assert "Reply event (structured)" in result.stdout
    assert '"from": "cli-1"' in result.stdout


def test_invoke_shows_a_problem_and_exits_nonzero(contract_server: Server) -> None:
    result = kfn("invoke", "--target", contract_server.url + "/", "--type", "test.drop")
    assert result.returncode == 1
    assert result.stdout.startswith("422")
    assert '"detail": "not for us"' in result.stdout


def test_invoke_a_plain_http_request(contract_server: Server) -> None:
    result = kfn("invoke", "--mode", "http", "--target", contract_server.url + "/items/5?q=z")
    assert result.returncode == 0
    assert '"item_id": 5' in result.stdout


def test_invoke_with_a_file(contract_server: Server, tmp_path: object) -> None:
    from pathlib import Path

    data = Path(str(tmp_path)) / "point.json"
    data.write_text('{"x": 10, "y": 0}')
    result = kfn(
        "invoke", "--target", contract_server.url, "--type", "test.point", "--file", str(data)
    )
    assert result.returncode == 0, result.stderr
    assert '"x": 11' in result.stdout


def test_invoke_an_unreachable_target_is_a_clear_error() -> None:
    result = kfn("invoke", "--target", f"http://127.0.0.1:{free_port()}/")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("kfn: cannot reach")
    assert "Traceback" not in result.stderr


def test_invoke_a_bad_extension_name_is_a_clear_error() -> None:
    result = kfn("invoke", "-e", "Bad_Name=1")
    assert result.returncode == 2
    assert "not a valid attribute name" in result.stderr
