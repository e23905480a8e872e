"""`kfn list`: the registered functions, as the host routes them and Knative would deploy them."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kfn._errors import CommandError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list the registered functions",
        description="Import the functions and print each one: kind, route or filters, reply "
        "type, schedule and the Knative Service it deploys to.",
    )
    parser.add_argument(
        "--functions",
        help="module(s) to load, comma-separated "
        "(default: $KFN_FUNCTIONS, [tool.kfn] functions or 'functions')",
    )
    parser.add_argument("--json", action="store_true", help="print JSON, one object per function")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from kfn._errors import ConfigError, LoadError
    from kfn.cli import project
    from kfn.config import Settings
    from kfn.loader import load_functions
    from kfn.registry import default_registry

    defaults = project.load()
    project.apply_functions(args.functions, defaults)
    try:
        settings = Settings.from_env()
        load_functions(settings.functions, default_registry, check=True)
    except (ConfigError, LoadError) as error:
        raise CommandError(str(error)) from None
    rows = function_rows(default_registry.functions.values(), defaults.name if defaults else None)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(table(rows))
    return 0


def main_service() -> str | None:
    """The app's main Knative Service, from `[tool.kfn]`; None without one (or a readable one)."""
    from kfn.cli import project

    try:
        defaults = project.load()
    except CommandError:
        return None
    return defaults.name if defaults else None


def function_rows(functions: Any, main: str | None) -> list[dict[str, Any]]:
    """One plain dict per function, in declaration order."""
    from kfn.registry import EventFunction, HttpFunction

    rows: list[dict[str, Any]] = []
    for spec in functions:
        row: dict[str, Any] = {"name": spec.name}
        if isinstance(spec, HttpFunction):
            row["kind"] = "http"
            row["route"] = f"{','.join(spec.methods)} {spec.path}" + (
                "" if spec.public else " (cluster-local)"
            )
            row["filters"] = None
            row["reply_type"] = None
            row["schedule"] = None
            row["emits"] = []
        elif isinstance(spec, EventFunction):
            row["kind"] = "schedule" if spec.schedule is not None else "cloudevent"
            row["route"] = f"POST /events/{spec.name}"
            members = spec.filter.filters
            row["filters"] = ", ".join(map(repr, members)) if members else "(every event)"
            row["reply_type"] = spec.reply_type
            row["schedule"] = (
                f"{spec.schedule.cron} ({spec.schedule.timezone or 'UTC'})"
                if spec.schedule is not None
                else None
            )
            row["emits"] = list(spec.emits)
        else:
            continue
        row["service"] = spec.service or main
        rows.append(row)
    return rows


COLUMNS = (
    ("NAME", "name"),
    ("KIND", "kind"),
    ("ROUTE", "route"),
    ("FILTERS", "filters"),
    ("REPLY", "reply_type"),
    ("SCHEDULE", "schedule"),
    ("EMITS", "emits"),
    ("SERVICE", "service"),
)


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as aligned columns; '-' for nothing."""

    def cell(value: Any) -> str:
        if isinstance(value, list):
            return ",".join(value) or "-"
        return "-" if value is None else str(value)

    cells = [[title for title, _ in COLUMNS]]
    cells += [[cell(row[key]) for _, key in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )
