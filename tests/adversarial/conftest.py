"""The attack and overload suite: bounded runs in `make test`, long ones with `make fuzz`.

Every test here is marked `adversarial`. Its running time comes from `budget(short)`:
the short figure under `make test`, `KFN_FUZZ_SECONDS` each under `make fuzz`. What a
test tried and survived goes into the session's `ledger`; when `KFN_RELIABILITY_REPORT`
names a file (`make fuzz` sets RELIABILITY.md), the ledger is written there at the end.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
LONG_SECONDS = float(os.environ.get("KFN_FUZZ_SECONDS", "0") or 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.adversarial)


@pytest.fixture
def budget() -> Callable[[float], float]:
    """Seconds a test may spend attacking: `short` in the suite, KFN_FUZZ_SECONDS in a long run."""

    def seconds(short: float) -> float:
        return LONG_SECONDS if LONG_SECONDS > 0 else short

    return seconds


@dataclass
class Section:
    title: str
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """What the suite tried and what the host survived, by section, for RELIABILITY.md."""

    sections: dict[str, Section] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def record(self, title: str, note: str | None = None, **figures: Any) -> None:
        """Add figures (counts add up across calls, other values are replaced) and a note."""
        section = self.sections.setdefault(title, Section(title))
        for key, value in figures.items():
            old = section.figures.get(key)
            both_counts = isinstance(old, int) and isinstance(value, int)
            section.figures[key] = old + value if both_counts else value
        if note and note not in section.notes:
            section.notes.append(note)

    def markdown(self, outcome: str) -> str:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        minutes = (time.time() - self.started) / 60
        lines = [
            "# Reliability: the attack and overload suite's last long run",
            "",
            "Written by `make fuzz` (tests/adversarial, `KFN_FUZZ_SECONDS` per test); do not edit.",
            "",
            f"- revision: {revision or 'unknown'}; {minutes:.1f} min on {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            f"- outcome: {outcome}",
            "",
        ]
        for section in self.sections.values():
            lines += [f"## {section.title}", ""]
            lines += [f"- {key}: {value}" for key, value in section.figures.items()]
            lines += [f"- {note}" for note in section.notes]
            lines.append("")
        return "\n".join(lines)


_LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return _LEDGER


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report = os.environ.get("KFN_RELIABILITY_REPORT")
    if report and _LEDGER.sections:
        failed = session.testsfailed
        outcome = "every test passed" if failed == 0 else f"{failed} test(s) failed"
        Path(report).write_text(_LEDGER.markdown(outcome))
