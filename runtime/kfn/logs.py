"""Log lines: one JSON object per line on stderr, or readable text on a terminal.

Knative collects stdout/stderr as logs; one line per event worth logging, with the
function, the event id and the trace (`trace_id`, `span_id` of the invocation it
belongs to), is what an operator greps for and what a log backend joins to a trace.
Timestamps are RFC 3339 in UTC with milliseconds. uvicorn's own lines go through
the same formatter (`uvicorn_log_config`); its access log is off unless asked for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kfn import tracing
from kfn.problems import clip

logger = logging.getLogger("kfn")

JSON = "json"
TEXT = "text"

_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


_second: tuple[int, str] = (-1, "")
"""The last whole second formatted and its text up to the seconds' dot: lines come in bursts.

One tuple, read once per line: a sync function's thread may log while the loop's
thread replaces it, and a second must never get another second's text.
"""


def timestamp(created: float) -> str:
    """RFC 3339 with milliseconds, in UTC: 2026-12-01T09:48:04.123Z."""
    global _second
    whole = int(created)
    second, text = _second
    if second != whole:  # strftime once per second, not once per line
        text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second = (whole, text)
    millis = min(int((created - whole) * 1000), 999)
    return f"{text}{millis:03d}Z"


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: kfn's `fields`, or a library's `extra=` values."""
    fields = getattr(record, "fields", None)
    if isinstance(fields, dict):
        return fields
    if not record.__dict__.keys() - _RESERVED:  # a set difference: most records have none
        return {}
    return {
        k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
    }


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line, as fields: client, method, path, protocol, status."""
    args = record.args
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        client, method, path, version, status = args
        return {
            "client": client,
            "method": method,
            "path": path,
            "protocol": f"HTTP/{version}",
            "status": status,
        }
    return {}


class JsonFormatter(logging.Formatter):
    """One JSON object per record; the trace of the invocation it was logged in."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = tracing.logged()
        if span is not None:
            line["trace_id"] = span.trace_id
            line["span_id"] = span.span_id
            line["function"] = span.function
            line["event_id"] = span.event.get("id")
        line.update(_access_fields(record))
        for key, value in record_fields(record).items():
            if value is not None or key not in line:  # a None never hides the span's value
                line[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return _encode(line)


_encode = json.JSONEncoder(default=str).encode
"""json.dumps(line, default=str) with the encoder made once, not once per line."""


class TextFormatter(logging.Formatter):
    """`09:48:04.123 INFO  hop  from=bill to=ship status=202`: for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        clock = moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
        parts = [clock, f"{record.levelname:<7}", record.getMessage()]
        fields = {**_access_fields(record), **record_fields(record)}
        span = tracing.logged()
        if span is not None:
            fields.setdefault("function", span.function)
            fields["trace"] = span.trace_id[:8]
        parts.extend(f"{k}={_short(v)}" for k, v in fields.items() if v is not None)
        text = "  ".join(parts[:3]) + ("  " + " ".join(parts[3:]) if parts[3:] else "")
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return text


def _short(value: Any) -> str:
    """A field value as a person reads it: lists comma-separated, strings quoted only with spaces."""
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if " " not in text else json.dumps(text)


def formatter(kind: str) -> logging.Formatter:
    return TextFormatter() if kind == TEXT else JsonFormatter()


def default_format() -> str:
    """Readable text when stderr is a terminal, JSON otherwise (a container, a pipe, a file)."""
    return TEXT if sys.stderr.isatty() else JSON


def configure(level: str, kind: str | None = None) -> None:
    """Give the `kfn` logger a handler unless it has one (the user's, or uvicorn's config)."""
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter(kind or JSON))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


def uvicorn_log_config(level: str, kind: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn: its lines, kfn's and the functions' in one format.

    The root logger gets the same handler, so what a function logs with `logging`
    comes out as the same lines, carrying the trace of the invocation it ran in.
    """
    handler = {"class": "logging.StreamHandler", "formatter": "kfn", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "kfn": {"()": f"kfn.logs.{'TextFormatter' if kind == TEXT else 'JsonFormatter'}"}
        },
        "handlers": {"kfn": handler},
        "loggers": {
            "kfn": {"handlers": ["kfn"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["kfn"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["kfn"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["kfn"], "level": level},
    }


def event(level: int, message: str, exc: BaseException | None = None, **fields: Any) -> None:
    """Log one line with structured fields (and a traceback when `exc` is given).

    Long texts are cut (kfn.problems.clip): a field may hold what a sender sent.
    """
    if not logger.isEnabledFor(level):
        return
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    fields = {
        key: clip(value) if isinstance(value, str) else value for key, value in fields.items()
    }
    logger.log(level, clip(message), exc_info=exc_info, extra={"fields": fields})


@dataclass
class _Held:
    """The lines of one key held back in the current interval."""

    until: float
    interval: float
    level: int
    message: str
    fields: dict[str, Any]
    count: int = 0
    timer: asyncio.TimerHandle | None = None


_held: dict[str, _Held] = {}


def limited(key: str, level: int, message: str, *, interval: float = 5.0, **fields: Any) -> None:
    """Log the first line for `key` now, then at most one summary per `interval`.

    For floods an operator needs to know of but not read line by line (every 503
    refused while draining): the lines held back in an interval are counted, and
    one line with `suppressed` (the count) is written when it ends; an interval
    with none ends the flood, and the next line is written at once again.
    """
    now = time.monotonic()
    held = _held.get(key)
    if held is not None and now >= held.until:
        _report(key)
        held = _held.get(key)
    if held is None:
        held = _held[key] = _Held(now + interval, interval, level, message, fields)
        event(level, message, **fields)
        _schedule(held, key)
        return
    held.count += 1
    held.level, held.message, held.fields = level, message, fields


def _schedule(held: _Held, key: str) -> None:
    """Report `key` when its interval ends (one timer per key)."""
    if held.timer is not None:
        held.timer.cancel()
        held.timer = None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop: the next call for the key reports instead
        return
    held.timer = loop.call_at(loop.time() + max(held.until - time.monotonic(), 0), _report, key)


def _report(key: str) -> None:
    """End the interval of `key`: write its summary, or forget the key when none was held."""
    held = _held.get(key)
    if held is None:
        return
    if time.monotonic() < held.until:
        _schedule(held, key)
        return
    if held.count == 0:
        if held.timer is not None:
            held.timer.cancel()
        del _held[key]
        return
    event(
        held.level,
        f"{held.message} ({held.count} more in {held.interval:g}s)",
        **held.fields,
        suppressed=held.count,
    )
    held.count = 0
    held.until = time.monotonic() + held.interval
    _schedule(held, key)


def flush_limited() -> None:
    """Write the summaries still held back (at shutdown), so no count is lost."""
    for key, held in list(_held.items()):
        held.until = 0
        _report(key)
        held = _held.pop(key, held)
        if held.timer is not None:
            held.timer.cancel()
