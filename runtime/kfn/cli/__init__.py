"""The `kfn` command: one module per subcommand, each adding its own parser.

Subcommand modules import only argparse-level things at the top; the work they do
(uvicorn, httpx, the generator) is imported when the subcommand runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kfn._errors import CommandError
from kfn.cli import deploy, invoke, new, run
from kfn.cli import list as list_command

SUBCOMMANDS = (new, run, invoke, list_command, deploy)
DISTRIBUTION = "kfn-host"

__all__ = ["CommandError", "build_parser", "main", "version"]


def version() -> str:
    """The installed kfn-host version, as `kfn --version` prints it."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return f"{DISTRIBUTION} {installed(DISTRIBUTION)}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return f"{DISTRIBUTION} (not installed)"


class _Version(argparse.Action):
    """`--version`, reading the package metadata only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(version())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfn",
        description="Run, invoke and deploy Python functions the Knative way.",
    )
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        code: int = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except CommandError as error:
        print(f"kfn: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`kfn invoke ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code
