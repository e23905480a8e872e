"""Reading the base image's Python and platform from the probe's answer."""

from __future__ import annotations

import json

import pytest

from kfn.image import BuildError
from kfn.image.python_platform import parse


def _probe(**facts: object) -> str:
    answer: dict[str, object] = {"implementation": "cpython", "python": [3, 11]}
    answer.update({"machine": "x86_64", "glibc": None, "musl": None}, **facts)
    return json.dumps(answer) + "\n"


def test_a_glibc_base_takes_every_manylinux_tag_down_to_2014() -> None:
    target = parse("debian", _probe(glibc="glibc 2.36"))
    assert target.abi == "cp311"
    platforms = target.platforms()
    assert platforms[0] == "manylinux_2_36_x86_64"
    assert platforms[-2:] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    options = target.pip_options()
    assert options[options.index("--python-version") + 1] == "3.11"
    assert options[:2] == ["--only-binary", ":all:"]


def test_a_musl_base_takes_musllinux_tags() -> None:
    target = parse("alpine", _probe(musl="1.2.5", machine="aarch64", python=[3, 13]))
    assert target.platforms() == [f"musllinux_1_{m}_aarch64" for m in (2, 1)]
    assert target.label() == "CPython 3.13, musl 1.2, aarch64"


def test_a_python_older_than_kfn_supports_is_refused_by_name() -> None:
    with pytest.raises(BuildError, match=r"old:1 has cpython 3\.9; kfn needs CPython 3\.11"):
        parse("old:1", _probe(python=[3, 9], glibc="glibc 2.31"))


def test_a_base_without_a_known_c_library_is_refused() -> None:
    with pytest.raises(BuildError, match="neither glibc nor musl"):
        parse("odd", _probe())


def test_output_that_is_not_the_probe_is_reported() -> None:
    with pytest.raises(BuildError, match="could not read the Python of odd"):
        parse("odd", "hello\n")
