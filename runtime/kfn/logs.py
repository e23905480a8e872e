"""Structured log lines: one JSON object per line on stderr.

Knative collects stdout/stderr as logs; one line per failure, with the function
and the event id, is what an operator greps for. No access log by default.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from typing import Any

logger = logging.getLogger("kfn")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, default=str)


def configure(level: str) -> None:
    """Give the `kfn` logger a JSON handler unless the user configured one already."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


def event(level: int, message: str, exc: BaseException | None = None, **fields: Any) -> None:
    """Log one line with structured fields (and a traceback when `exc` is given)."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    logger.log(level, message, exc_info=exc_info, extra={"fields": fields})
