"""The planted-bug table (tests/deliberate_breaks.py) still fits the code.

The full planted-bug run takes half an hour, so it runs now and then, and a snippet whose code has since
moved on was only found there, as STALE, sessions after the change that moved it.  These checks take a
second and run with every `make test`: each break's text occurs exactly once and its edit compiles, and
each test it targets exists.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_breaks():
    spec = importlib.util.spec_from_file_location("deliberate_breaks", REPO / "tests" / "deliberate_breaks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


breaks = load_breaks()


def test_apply_refuses_text_that_does_not_occur_exactly_once(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\nx = 1\ny = 2\n")
    twice = breaks.Break("b", "m.py", "x = 1\n", "x = 0\n", ("tests/t.py",), "bug")
    absent = breaks.Break("b", "m.py", "z = 3\n", "z = 0\n", ("tests/t.py",), "bug")
    assert breaks.apply(twice, tmp_path) == "old text occurs 2 times in m.py"
    assert breaks.apply(absent, tmp_path) == "old text occurs 0 times in m.py"
    assert breaks.apply(breaks.Break("b", "m.py", "y = 2\n", "y = 0\n", ("tests/t.py",), "bug"), tmp_path) is None
    assert (tmp_path / "m.py").read_text() == "x = 1\nx = 1\ny = 0\n"


@pytest.mark.parametrize("brk", breaks.BREAKS, ids=lambda b: b.name)
def test_every_break_still_applies_to_the_code(brk):
    assert breaks.why_stale(brk) is None, "the code moved on: update this break's snippet"


@pytest.mark.parametrize("brk", breaks.BREAKS, ids=lambda b: b.name)
def test_every_break_targets_tests_that_exist(brk):
    for target in brk.targets:
        path, _, function = target.partition("::")
        assert (REPO / path).is_file(), target
        if function:
            assert re.search(rf"^(async )?def {re.escape(function)}\(", (REPO / path).read_text(), re.M), target
