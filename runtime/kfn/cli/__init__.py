"""The `kfn` command: one module per subcommand, each adding its own parser.

Subcommand modules import only argparse-level things at the top; the work they do
(uvicorn, httpx, the generator) is imported when the subcommand runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kfn._errors import CommandError
from kfn.cli import deploy, invoke, run
from kfn.cli import list as list_command

SUBCOMMANDS = (run, invoke, deploy, list_command)

__all__ = ["CommandError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfn",
        description="Run, invoke and deploy Python functions the Knative way.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except CommandError as error:
        print(f"kfn: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code
