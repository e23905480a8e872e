"""The build context: what a wheel holds, and which functions modules go to /app."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from kfn.image import BuildError
from kfn.image.context import app_sources, copy_sources, local_source, read_wheel, settle

METADATA = """\
Metadata-Version: 2.4
Name: shop
Version: 1.2.0
Requires-Dist: kfn-host
Requires-Dist: tomli; python_version < "3.11"
Provides-Extra: dev
Requires-Dist: pytest; extra == "dev"
Provides-Extra: store
Requires-Dist: redis>=5; python_version >= "3.11" and extra == "store"
"""


def _wheel(folder: Path, *files: str) -> Path:
    path = folder / "shop-1.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("shop-1.2.0.dist-info/METADATA", METADATA)
        for name in files:
            archive.writestr(name, "")
    return path


def test_a_wheel_gives_its_name_version_requirements_and_importable_names(tmp_path: Path) -> None:
    wheel = read_wheel(_wheel(tmp_path, "shop/__init__.py", "helpers.py"))
    assert (wheel.name, wheel.version) == ("shop", "1.2.0")
    assert wheel.requirements() == ["kfn-host", 'tomli; python_version < "3.11"']
    assert wheel.top_level == {"shop", "helpers"}


def test_the_chosen_extras_add_their_requirements_without_the_extra_clause(
    tmp_path: Path,
) -> None:
    wheel = read_wheel(_wheel(tmp_path))
    assert wheel.requirements(["Store"])[2:] == ['redis>=5; python_version >= "3.11"']
    assert wheel.requirements(["dev"])[2:] == ["pytest"]


def test_an_extra_the_project_does_not_have_is_an_error_listing_its_extras(
    tmp_path: Path,
) -> None:
    wheel = read_wheel(_wheel(tmp_path))
    with pytest.raises(BuildError, match=r"no extra 'redis' \(its extras: dev, store\)"):
        wheel.requirements(["redis"])


def test_functions_the_wheel_installs_are_not_copied_and_the_others_are(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "functions").mkdir(parents=True)
    (project / "jobs.py").write_text("", encoding="utf-8")
    wheel = read_wheel(_wheel(tmp_path, "shop/__init__.py"))
    sources = app_sources(project, ["shop.handlers", "functions", "functions.more", "jobs"], wheel)
    assert sources == [project / "functions", project / "jobs.py"]


def test_a_functions_module_found_nowhere_is_an_error_naming_it(tmp_path: Path) -> None:
    wheel = read_wheel(_wheel(tmp_path, "shop/__init__.py"))
    with pytest.raises(BuildError, match="'handlers' is neither in the project's wheel"):
        app_sources(tmp_path, ["handlers"], wheel)


def test_sources_are_copied_without_caches_and_settled_to_one_date(tmp_path: Path) -> None:
    source = tmp_path / "functions"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"")
    (source / ".hidden").write_text("", encoding="utf-8")
    (source / "a.py").write_text("", encoding="utf-8")
    (source / "a.py").chmod(0o600)
    copy = tmp_path / "copy"
    copy_sources(source, copy)
    settle(copy, 0)
    assert [p.name for p in copy.iterdir()] == ["a.py"]
    assert (copy / "a.py").stat().st_mtime == 0
    assert (copy / "a.py").stat().st_mode & 0o777 == 0o644


def _installed(site: Path, name: str, direct_url: dict[str, object]) -> None:
    """A distribution as pip records one installed from a URL (PEP 610's direct_url.json)."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")


def test_a_dependency_installed_from_a_local_wheel_file_is_taken_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheel = _wheel(tmp_path)
    sdist = tmp_path / "other-1.0.tar.gz"
    sdist.write_bytes(b"")
    site = tmp_path / "site"
    _installed(site, "from_wheel", {"url": wheel.as_uri(), "archive_info": {}})
    _installed(site, "from_sdist", {"url": sdist.as_uri(), "archive_info": {}})
    _installed(site, "from_gone", {"url": (tmp_path / "gone.whl").as_uri(), "archive_info": {}})
    _installed(site, "from_index", {"url": "https://example.com/x.whl", "archive_info": {}})
    monkeypatch.syspath_prepend(str(site))
    assert local_source("from_wheel") == wheel
    assert [local_source(n) for n in ("from_sdist", "from_gone", "from_index")] == [None] * 3


def test_a_dependency_installed_from_a_project_folder_is_built_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "lib"
    project.mkdir()
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    site = tmp_path / "site"
    _installed(site, "from_folder", {"url": project.as_uri(), "dir_info": {"editable": True}})
    _installed(site, "from_vcs", {"url": project.as_uri(), "vcs_info": {"vcs": "git"}})
    monkeypatch.syspath_prepend(str(site))
    assert local_source("from_folder") == project
    assert local_source("from_vcs") is None
