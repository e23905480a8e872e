"""The generated Dockerfile: offline installs from the wheelhouse, no shell needed, non-root.

The image itself is built and run in tests/container/; these read the file as a builder would.
"""

from __future__ import annotations

import json

from kfn.deploy.dockerfile import COMMAND, render
from tests.deploy.conftest import REPO, make_settings
from tests.deploy.dockerfile_parsing import Stage, command, stages

DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")


def _argv(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"not exec form: {args}"
    return [str(item) for item in value]


def _arg_default(text: str, name: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(f"ARG {name}=")]
    return line.split("=", 1)[1]


def test_both_stages_start_from_the_base_image_argument() -> None:
    build, run = stages(DOCKERFILE)
    assert build.name == "build"
    assert build.base == run.base == "${BASE_IMAGE}"
    assert _arg_default(DOCKERFILE, "BASE_IMAGE") == "python:3.13-slim"


def test_the_base_image_setting_and_python_version_choose_the_default() -> None:
    assert _arg_default(render(make_settings(), ""), "BASE_IMAGE") == "python:3.13-slim"
    chosen = render(make_settings(**{"python-version": "3.12"}), "")
    assert _arg_default(chosen, "BASE_IMAGE") == "python:3.12-slim"
    own = render(make_settings(**{"base-image": "registry.example.com/base/python:3.11"}), "")
    assert _arg_default(own, "BASE_IMAGE") == "registry.example.com/base/python:3.11"


def test_every_command_is_exec_form_so_no_stage_needs_a_shell() -> None:
    for stage in stages(DOCKERFILE):
        for args in stage.all("RUN") + stage.all("CMD"):
            _argv(args)


def test_pip_installs_only_from_the_wheelhouse() -> None:
    build = stages(DOCKERFILE)[0]
    installs = [_argv(args) for args in build.all("RUN") if "install" in _argv(args)]
    assert len(installs) == 2
    for argv in installs:
        assert "--no-index" in argv and "--find-links" in argv
    assert "--no-deps" in installs[1]  # the project last, its dependencies already there


def test_bytecode_is_compiled_with_hashes_after_the_last_copy() -> None:
    build = stages(DOCKERFILE)[0]
    keywords = [keyword for keyword, _ in build.instructions]
    last = _argv(build.all("RUN")[-1])
    assert keywords[-1] == "RUN" and "compileall" in last
    assert last[last.index("--invalidation-mode") + 1] == "unchecked-hash"
    assert "/opt/venv" in last and "/app" in last


def test_the_final_stage_runs_nothing_and_uses_a_numeric_non_root_user() -> None:
    run: Stage = stages(DOCKERFILE)[-1]
    assert run.all("RUN") == []
    assert run.all("COPY") == ["--from=build /opt/venv /opt/venv", "--from=build /app /app"]
    (user,) = run.all("USER")
    uid, gid = (int(part) for part in user.split(":"))
    assert uid > 0 and gid > 0


def test_the_command_serves_on_all_interfaces_and_reads_port_from_the_env() -> None:
    run = stages(DOCKERFILE)[-1]
    assert command(run) == list(COMMAND)
    assert "--port" not in command(run)  # $PORT comes from Knative through the environment
    assert run.all("ENTRYPOINT") == []
    assert run.all("EXPOSE") == ["8080"]


def test_the_functions_setting_becomes_the_images_kfn_functions() -> None:
    text = render(make_settings(functions=["shop.handlers", "shop.jobs"]), "")
    (env,) = stages(text)[-1].all("ENV")
    assert "KFN_FUNCTIONS=shop.handlers,shop.jobs" in env.split()
