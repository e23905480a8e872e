"""KFN_SYNC_THREADS: how many worker threads sync functions get."""

from __future__ import annotations

import os

import pytest

from kfn import ConfigError
from kfn.config import Settings


def test_the_default_is_the_stdlib_thread_pool_size() -> None:
    assert Settings.from_env({}).sync_threads == min(32, (os.cpu_count() or 1) + 4)


def test_the_pool_size_is_read_from_the_environment() -> None:
    assert Settings.from_env({"KFN_SYNC_THREADS": "3"}).sync_threads == 3


@pytest.mark.parametrize("value", ["0", "many", "5000"])
def test_an_invalid_pool_size_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^KFN_SYNC_THREADS="):
        Settings.from_env({"KFN_SYNC_THREADS": value})
