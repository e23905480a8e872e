"""The build context: what a wheel holds, and which functions modules go to /app."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from kfn.image import BuildError
from kfn.image.context import app_sources, copy_sources, read_wheel, settle

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
