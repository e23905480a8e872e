"""`python -m kfn ...` is the `kfn` command."""

import sys

from kfn.cli import main

sys.exit(main())
