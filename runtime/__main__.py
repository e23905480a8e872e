"""`python -m runtime ...` is the `kfn` command."""

import sys

from runtime.cli import main

sys.exit(main())
