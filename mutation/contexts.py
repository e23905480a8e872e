"""pytest plugin of the mutation run's map: which tests run which lines of kfn, and how long each takes.

In the pytest process a line is recorded under the test that ran it (its node id), so
a mutant there runs only those tests. A `kfn run` process a test starts is labelled
with the test's file instead (it reads KFN_MUTATE_TEST when coverage starts it; see
`CONTEXT_PTH` in run.py): a server a module fixture starts serves every test of the
file, so all of them are what reaches its lines. A server a session (or package)
fixture starts serves tests of several files: it is labelled `fixture:<name>`, and
the tests that use the fixture are recorded. Each test's time (setup, call and
teardown), those users, and the tests that failed unmutated go to the JSON file
KFN_MUTATE_TIMES names.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

import coverage
import pytest

_seconds: defaultdict[str, float] = defaultdict(float)
_failed: set[str] = set()
_users: defaultdict[str, set[str]] = defaultdict(set)
"""Per session- or package-scoped fixture, the tests that use it."""
SHARED_SCOPES = ("session", "package")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    os.environ["KFN_MUTATE_TEST"] = item.nodeid.split("::")[0]  # before fixtures start servers
    current = coverage.Coverage.current()
    if current is not None:
        current.switch_context(item.nodeid)
    info = getattr(item, "_fixtureinfo", None)
    for name, definitions in info.name2fixturedefs.items() if info is not None else ():
        if definitions and definitions[-1].scope in SHARED_SCOPES:
            _users[name].add(item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object]) -> object:
    """A process a shared fixture starts is labelled with the fixture, not the test it began in."""
    if fixturedef.scope not in SHARED_SCOPES:
        yield
        return
    test = os.environ.get("KFN_MUTATE_TEST")
    os.environ["KFN_MUTATE_TEST"] = f"fixture:{fixturedef.argname}"
    try:
        yield
    finally:
        if test is None:
            os.environ.pop("KFN_MUTATE_TEST", None)
        else:
            os.environ["KFN_MUTATE_TEST"] = test


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _seconds[report.nodeid] += report.duration
    if report.failed:
        _failed.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("KFN_MUTATE_TIMES")
    if path:
        with open(path, "w") as handle:
            users = {name: sorted(tests) for name, tests in _users.items()}
            json.dump({"seconds": _seconds, "failed": sorted(_failed), "fixtures": users}, handle)
