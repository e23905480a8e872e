"""`sender-identity = true` needs PyJWT in the image: kfn manifests, deploy and build check it.

The generated Services set KFN_OIDC_AUDIENCE, and a host without the `oidc` extra stops
at startup. The image installs `[project] dependencies` and the groups `[tool.kfn]
extras` names, so that is where the commands look, in a project of the test's own.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kfn.deploy import requirements
from kfn.deploy import settings as settings_module
from kfn.deploy.errors import DeployError
from tests.deploy.test_deploy_cli import kfn

HANDLERS = """\
from kfn import cloudevent

@cloudevent(type="guarded.created")
async def created(event) -> None:
    return None
"""
REFUSAL = (
    "kfn: [tool.kfn] sender-identity = true makes the host check OIDC tokens with PyJWT, "
    "which the image does not get: "
)


def write_project(folder: Path, project: str = "", kfn_table: str = "") -> Path:
    """A project whose `[project]` and `[tool.kfn]` add the given lines to a minimal one."""
    folder.mkdir(exist_ok=True)
    text = f"""\
[project]
name = "guarded"
version = "0.1.0"
{textwrap.dedent(project)}
[tool.kfn]
functions = ["handlers"]
image = "registry.example.com/guarded:1"
sender-identity = true
{textwrap.dedent(kfn_table)}"""
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")
    (folder / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    return folder


def checked(folder: Path) -> list[str]:
    return requirements.check(settings_module.load(folder))


def refusal(folder: Path) -> str:
    with pytest.raises(DeployError) as refused:
        checked(folder)
    return str(refused.value)


# -- the commands -----------------------------------------------------------------------


def test_kfn_manifests_refuses_without_the_oidc_extra_and_says_what_to_add(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path / "guarded")
    result = kfn(project, "manifests")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        REFUSAL + 'add "kfn-host[oidc]" to [project] dependencies of pyproject.toml'
    ]
    assert not (project / "deploy").exists()


def test_kfn_manifests_with_the_oidc_extra_writes_the_audience(tmp_path: Path) -> None:
    project = write_project(tmp_path / "guarded", 'dependencies = ["kfn-host[oidc]>=0.1"]')
    result = kfn(project, "manifests")
    assert result.returncode == 0, result.stderr
    assert "KFN_OIDC_AUDIENCE" in (project / "deploy" / "services.yaml").read_text()


def test_kfn_deploy_refuses_before_it_looks_for_kubectl(tmp_path: Path) -> None:
    project = write_project(tmp_path / "guarded", 'dependencies = ["kfn-host>=0.1"]')
    result = kfn(project, "deploy", "--dry-run")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        REFUSAL + 'write "kfn-host[oidc]>=0.1" for "kfn-host>=0.1" in [project] dependencies '
        "of pyproject.toml"
    ]
    assert result.stdout == ""


def test_kfn_build_refuses_before_it_builds(tmp_path: Path) -> None:
    project = write_project(tmp_path / "guarded")
    empty = tmp_path / "bin"
    empty.mkdir()
    result = kfn(project, "build", path=empty)
    assert result.returncode == 2
    assert result.stderr.startswith(REFUSAL)
    assert len(result.stderr.splitlines()) == 1


def test_without_sender_identity_nothing_is_asked(tmp_path: Path) -> None:
    project = write_project(tmp_path / "open")
    text = (project / "pyproject.toml").read_text().replace("sender-identity = true", "")
    (project / "pyproject.toml").write_text(text)
    assert checked(project) == []


# -- where the extra may come from --------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "kfn_table"),
    [
        ('dependencies = ["kfn-host[deploy,oidc]>=0.1"]', ""),
        ('dependencies = ["KFN_Host[OIDC] @ file:///wheels/kfn_host-0.1-py3-none-any.whl"]', ""),
        ('dependencies = ["PyJWT[crypto]>=2.10", "kfn-host"]', ""),
        ('dependencies = ["kfn-host[dev]"]', ""),  # kfn-host's own dev extra includes oidc
        (
            """\
            dependencies = ["kfn-host"]
            [project.optional-dependencies]
            auth = ["kfn-host[oidc]"]
            """,
            'extras = ["auth"]',
        ),
        (
            """\
            [project.optional-dependencies]
            cluster = ["guarded[auth]"]
            auth = ["kfn-host[oidc]"]
            """,
            'extras = ["cluster"]',
        ),
        ('dependencies = ["kfn-host[oidc]; python_version >= \\"3.11\\""]', ""),
        ('dependencies = ["kfn-host[oidc]; os_name ~= \\"posix\\""]', ""),
    ],
    ids=[
        "with-other-extras",
        "a-direct-reference",
        "pyjwt-itself",
        "kfn-host-dev",
        "an-extra-of-the-project",
        "an-extra-through-another",
        "a-marker-the-image-meets",
        "a-marker-pip-decides",
    ],
)
def test_the_extra_is_found_where_the_image_gets_it(
    tmp_path: Path, project: str, kfn_table: str
) -> None:
    assert checked(write_project(tmp_path / "guarded", project, kfn_table)) == []


@pytest.mark.parametrize(
    ("project", "kfn_table"),
    [
        ('dependencies = ["PyJWT>=2.10"]', ""),  # without cryptography it verifies no RS256
        (
            """\
            [project.optional-dependencies]
            auth = ["kfn-host[oidc]"]
            """,
            "",
        ),
        ('dependencies = ["kfn-host[oidc]; sys_platform == \\"win32\\""]', ""),
        ('dependencies = ["kfn-host[oidc]; python_version < \\"3.12\\""]', ""),
    ],
    ids=["pyjwt-without-crypto", "an-extra-not-installed", "not-on-linux", "not-on-3.13"],
)
def test_the_extra_is_missing_where_the_image_does_not_get_it(
    tmp_path: Path, project: str, kfn_table: str
) -> None:
    message = refusal(write_project(tmp_path / "guarded", project, kfn_table))
    assert message.endswith('add "kfn-host[oidc]" to [project] dependencies of pyproject.toml')


def test_kfn_host_itself_is_told_to_name_its_extra(tmp_path: Path) -> None:
    project = write_project(tmp_path / "host")
    text = (project / "pyproject.toml").read_text().replace('"guarded"', '"kfn-host"')
    (project / "pyproject.toml").write_text(text)
    assert refusal(project).endswith('add "oidc" to [tool.kfn] extras')
    (project / "pyproject.toml").write_text(text + 'extras = ["oidc"]\n')
    assert checked(project) == []


def test_dynamic_dependencies_are_a_warning_not_a_refusal(tmp_path: Path) -> None:
    project = write_project(tmp_path / "guarded", 'dynamic = ["dependencies"]')
    (warning,) = checked(project)
    assert "kfn-host[oidc]" in warning and "cannot read" in warning
    result = kfn(project, "manifests", "--stdout")
    assert result.returncode == 0, result.stderr
    assert "kfn: warning: [tool.kfn] sender-identity = true needs kfn-host[oidc]" in result.stderr


def test_a_requirement_that_does_not_parse_is_named(tmp_path: Path) -> None:
    project = write_project(tmp_path / "guarded", 'dependencies = ["kfn-host[oidc"]')
    message = refusal(project)
    assert message.startswith("pyproject.toml: [project] dependencies: 'kfn-host[oidc' is not")
    assert "\n" not in message


def test_dependencies_that_are_not_a_list_are_named(tmp_path: Path) -> None:
    project = write_project(tmp_path / "guarded", 'dependencies = "kfn-host[oidc]"')
    assert refusal(project) == "pyproject.toml: [project] dependencies must be a list of strings"
