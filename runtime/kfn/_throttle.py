"""Refusals logged the way an operator can live with: WARNING, one line per kind every few seconds.

A refusal repeated for every request of a storm (too many connections, draining,
overloaded) is one fact; the operator needs it once in a while, with how many
lines were held back since the last one.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kfn import logs
from kfn.problems import Problem


class Throttle:
    """`ready()` says whether a line may go out now, and how many were held back before it."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._next = 0.0
        self._held = 0

    def ready(self) -> int | None:
        """The number of lines held back since the last one, or None to hold this one back too."""
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return None
        held, self._held = self._held, 0
        self._next = now + self.interval
        return held


_THROTTLES: dict[str, Throttle] = {}


def log_refusal(problem: Problem, **fields: Any) -> None:
    """Log that a request was refused with `problem`, unless its kind was logged moments ago."""
    throttle = _THROTTLES.get(problem.kind)
    if throttle is None:
        throttle = _THROTTLES[problem.kind] = Throttle()
    held = throttle.ready()
    if held is not None:
        logs.event(
            logging.WARNING,
            problem.detail,
            status=problem.status,
            problem=problem.kind,
            held_back=held or None,
            **fields,
        )
