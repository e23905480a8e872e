"""The public API is what `__all__` says, as in httpx's tests/test_exported_members.py."""

from __future__ import annotations

from types import ModuleType

import pytest

import kfn
import kfn.filters
import kfn.testing


def public_members(module: ModuleType) -> set[str]:
    """Names defined or re-exported by `module` that do not start with '_', modules aside."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }


def test_kfn_exports_exactly_its_public_api() -> None:
    assert set(kfn.__all__) == public_members(kfn)


@pytest.mark.parametrize("module", [kfn.filters, kfn.testing], ids=lambda m: m.__name__)
def test_every_name_in_a_public_modules_all_exists(module: ModuleType) -> None:
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_kfn_filters_exports_the_filter_builders() -> None:
    assert set(kfn.filters.__all__) == {
        "Filter",
        "FilterError",
        "all_of",
        "any_of",
        "cesql",
        "exact",
        "not_",
        "prefix",
        "suffix",
    }


def test_kfn_testing_exports_the_test_kit() -> None:
    assert set(kfn.testing.__all__) == {
        "DecodedResponse",
        "CapturedSink",
        "KfnClient",
        "Mode",
        "decode_response",
        "event",
    }
