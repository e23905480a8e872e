"""pytest plugin of the mutation run's map: which test files run which lines of kfn.

Each test's lines are recorded under its file's name, in the pytest process and in the
`kfn run` processes the test starts (they read KFN_MUTATE_TEST when coverage starts
them; see `CONTEXT_PTH` in run.py). A mutant then runs only the files that reach it.
"""

from __future__ import annotations

import os

import coverage
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    label = item.nodeid.split("::")[0]
    os.environ["KFN_MUTATE_TEST"] = label  # before fixtures start servers for this file
    current = coverage.Coverage.current()
    if current is not None:
        current.switch_context(label)
