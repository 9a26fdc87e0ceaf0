"""`import deltarule` is light (issue 13 item 5): the checker, the problem reader (YAML), the worked
solutions and the training driver load on first use; the API names and submodules still resolve."""
from __future__ import annotations

import subprocess
import sys

import pytest

LAZY = ("deltarule.check", "deltarule.problem", "deltarule.solution", "deltarule.explain", "deltarule.training",
        "deltarule.fast", "deltarule.checkpoint", "yaml", "pandas", "matplotlib", "torch", "numba")


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_loads_numpy_and_the_core_only():
    loaded = run("import sys, deltarule; print(' '.join(sorted(sys.modules)))").split()
    assert "deltarule.network" in loaded and "deltarule.torch_bridge" in loaded
    assert [m for m in LAZY if m in loaded] == []


def test_every_exported_name_resolves_and_check_stays_the_function():
    code = """
import deltarule as dr
import deltarule.check.marking, deltarule.gradcheck  # the modules named as the functions
names = [n for n in dr.__all__ if getattr(dr, n) is None]
print(len(dr.__all__), names, callable(dr.check), dr.check.__module__, dr.gradcheck.__module__,
      dr.training.generic.__name__, dr.metrics.accuracy.__name__)
from deltarule import check, gradcheck
print(check is dr.check, gradcheck is dr.gradcheck)
"""
    first, second = run(code).splitlines()
    assert first == "29 [] True deltarule.check deltarule.gradcheck generic accuracy"
    assert second == "True True"


def test_an_unknown_name_is_an_attribute_error():
    import deltarule as dr

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        dr.nothing_here  # noqa: B018
    assert dr.load_problem("seed-002").network.sizes == (2, 2, 1)
