"""`kfn new NAME`: a project of your own, ready to run, test and deploy.

The files come from the `templates/project/` folder shipped inside the package;
`$name` in them becomes the project's name.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from kfn._errors import CommandError

TEMPLATE_SUFFIX = ".tmpl"
RENAMED = {"gitignore": ".gitignore"}  # a dotfile would not survive every packaging tool


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "new",
        help="create a new function project",
        description="Create the folder NAME with a project that runs, tests and deploys as it "
        "is: pyproject.toml (kfn-host, pytest, [tool.kfn]), functions/ with an HTTP and a "
        "CloudEvent function, tests/ and a README.",
    )
    parser.add_argument(
        "name", metavar="NAME", help="the project's name, folder and Knative Service (e.g. shop)"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from kfn._syntax import is_service_name

    name: str = args.name
    if not is_service_name(name):
        raise CommandError(
            f"{name!r} cannot name a project: it also names the Knative Service, so use "
            "lower-case letters, digits and '-', starting with a letter (e.g. 'my-shop')"
        )
    target = Path(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{name} already exists here; choose another name or remove it")
    written = write_project(target, {"name": name, "requirement": _requirement()})
    print(f"kfn: created {name}/ with {', '.join(str(p) for p in written)}")
    print(
        "\nNext, in a virtualenv:\n"
        f"  cd {name}\n"
        "  pip install -e '.[dev]'\n"
        "  kfn run      # serves on http://127.0.0.1:8080\n"
        "  pytest       # runs the tests"
    )
    return 0


def write_project(target: Path, values: dict[str, str]) -> list[Path]:
    """Render every template into `target`; the written paths, relative to it."""
    written: list[Path] = []
    root = resources.files("kfn") / "templates" / "project"
    for relative, text in _templates(root, Path()):
        destination = relative.with_name(RENAMED.get(relative.name, relative.name))
        path = target / destination
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values), encoding="utf-8")
        written.append(destination)
    return sorted(written)


def _templates(folder: Any, relative: Path) -> list[tuple[Path, str]]:
    """(path without the .tmpl suffix, text) for every template under `folder`."""
    found: list[tuple[Path, str]] = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found += _templates(entry, relative / entry.name)
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            name = entry.name[: -len(TEMPLATE_SUFFIX)]
            found.append((relative / name, entry.read_text(encoding="utf-8")))
    return found


def _requirement() -> str:
    """`>=<installed version>` for the new project's kfn-host dependency."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f">={version('kfn-host')}"
    except PackageNotFoundError:
        return ""
