"""Read a Dockerfile the way a builder would: stages, their instructions, the CMD."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


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
