"""`kfn run`: serve the functions on uvicorn, locally or in the container."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping
from typing import Any

from kfn._errors import CommandError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="serve the functions (uvicorn)",
        description="Serve the functions on uvicorn. Settings come from the environment "
        "(see README, Configuration); the flags below override them.",
    )
    parser.add_argument(
        "--functions",
        help="module(s) to load, comma-separated "
        "(default: $KFN_FUNCTIONS, [tool.kfn] functions or 'functions')",
    )
    parser.add_argument("--port", type=int, help="port (default: $PORT, [tool.kfn] port or 8080)")
    parser.add_argument(
        "--host",
        default=os.environ.get("KFN_HOST", "127.0.0.1"),
        help="interface to listen on (default: $KFN_HOST or 127.0.0.1; use 0.0.0.0 in a container)",
    )
    parser.add_argument("--reload", action="store_true", help="restart when a file changes")
    parser.add_argument(
        "--no-schedules",
        action="store_true",
        help="do not fire @schedule functions on their cron schedule",
    )
    parser.add_argument(
        "--no-local-broker",
        action="store_true",
        help="do not route emits and replies to the functions here when K_SINK is not set",
    )
    parser.add_argument(
        "--container",
        action="store_true",
        help="build the image (as kfn build does) and run it as Knative would: "
        "read-only root, non-root user, $PORT",
    )
    parser.add_argument(
        "--engine",
        choices=("podman", "docker"),
        help="with --container: the engine (default: detect)",
    )
    parser.add_argument(
        "--no-console", action="store_true", help="do not serve the dev console at /_kfn/"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from kfn._errors import ConfigError
    from kfn.cli import project
    from kfn.config import Settings

    if args.container:
        return _in_container(args)
    # The app reads its settings from the environment (also in --reload's worker).
    defaults = project.load()
    project.apply_functions(args.functions, defaults)
    os.environ["PORT"] = str(project.port(args.port, defaults, os.environ))
    os.environ["KFN_HOST"] = args.host  # the console's address in the startup line
    local_loop(args, os.environ)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise CommandError(str(error)) from None

    from kfn.server import serve

    try:
        code = serve(settings, host=args.host, reload=args.reload)
    except SystemExit as stop:  # uvicorn exits (3) when the app's startup failed
        code = stop.code if isinstance(stop.code, int) else 1
    if code:
        print("kfn: the app did not start (see the error above)", file=sys.stderr)
    return code


def local_loop(args: argparse.Namespace, environ: MutableMapping[str, str]) -> None:
    """Turn on the local broker, the schedules and the console, unless told not to or on Knative.

    On Knative (K_SERVICE is set) the Broker routes events and PingSources fire the
    schedules, so `kfn run` as the container's command must do neither. A flag
    turns a feature off; otherwise a value already in the environment is kept.
    """
    on_knative = bool(environ.get("K_SERVICE"))
    for variable, refused in (
        ("KFN_LOCAL_BROKER", args.no_local_broker),
        ("KFN_SCHEDULES", args.no_schedules),
        ("KFN_CONSOLE", getattr(args, "no_console", False)),
    ):
        if refused or on_knative:
            environ[variable] = "false"
        else:
            environ.setdefault(variable, "true")


def _in_container(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kfn.deploy.errors import DeployError
    from kfn.image import BuildError
    from kfn.image.build import build_and_run

    port = args.port or int(os.environ.get("PORT", "8080"))
    environment = {"KFN_FUNCTIONS": args.functions} if args.functions else {}
    try:
        return build_and_run(Path("."), port=port, engine=args.engine, environment=environment)
    except (BuildError, DeployError) as error:
        raise CommandError(str(error)) from None
