"""`python -m kfnbench` inside bench/.venv: the same as bench/run.py without the bootstrap."""

import sys

from kfnbench.cli import main

sys.exit(main(sys.argv[1:]))
