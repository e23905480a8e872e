#!/usr/bin/env python3
"""The benchmark's one command: `python3 bench/run.py` (see bench/README.md).

Runs with any Python 3.11+: it first makes bench/.venv (pinned systems, kfn from
this checkout) and then re-runs itself inside it, so the harness and the systems
it measures never depend on the caller's environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kfnbench import bootstrap


def main() -> int:
    if "-h" not in sys.argv[1:] and "--help" not in sys.argv[1:]:
        try:
            python = bootstrap.ensure_main_venv()
        except bootstrap.BootstrapError as error:
            bootstrap.log(f"cannot prepare bench/.venv: {error}")
            return 2
        if not bootstrap.inside_main_venv():
            os.execv(python, [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    from kfnbench.cli import main as run

    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
