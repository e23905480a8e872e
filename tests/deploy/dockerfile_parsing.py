"""Read a Dockerfile and its ignore file the way a builder would, for the contract tests."""

from __future__ import annotations

import fnmatch
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def stages(text: str) -> list[Stage]:
    """The build stages: each FROM and the instructions after it (continuations joined)."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    result: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            result.append(Stage(parts[0], name))
        elif result:
            result[-1].instructions.append((keyword, args.strip()))
    return result


def command(stage: Stage) -> list[str]:
    """The exec-form CMD of a stage (the last one wins, as in Docker)."""
    cmds = stage.all("CMD")
    assert cmds, "the final stage has no CMD"
    value = json.loads(cmds[-1])
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), (
        "CMD is not exec form"
    )
    return value


def ignore_patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a context path is excluded (the subset of .dockerignore syntax the generator writes)."""
    parts = relative.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts):
                return True
        elif fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(parts[0], pattern):
            return True
    return False


def copy_context(source: Path, target: Path, patterns: list[str]) -> None:
    """The build context a builder would send: the project minus the ignored paths."""

    def skip(directory: str, names: list[str]) -> set[str]:
        base = Path(directory).relative_to(source)
        return {n for n in names if ignored((base / n).as_posix(), patterns)}

    shutil.copytree(source, target, ignore=skip)
