"""The example notebooks run top to bottom against the installed package.

``examples/notebooks/build.py`` writes the notebooks (without outputs) from Python source;
here every notebook is executed with nbclient in a fresh python3 kernel of this very
interpreter (a kernelspec written to a temporary JUPYTER_PATH, so the kernel is found on
any machine where ipykernel is installed, whatever ``python`` on PATH is). A cell that
raises fails the test; so does any warning a cell prints. The notebooks check the seed's
numbers themselves (``assert`` cells), so a change in the library that breaks what they
teach fails here.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conftest import require_module

pytestmark = pytest.mark.slow  # child processes: `pytest -m 'not slow'` leaves them out

nbformat = require_module("nbformat")
nbclient = require_module("nbclient")
require_module("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "examples" / "notebooks"
NAMES = ["gradient-descent.ipynb", "worked-solution.ipynb", "checking-your-work.ipynb"]


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A JUPYTER_PATH whose python3 kernel is this interpreter (first on the search path)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (deltarule tests)", "language": "python",
    }))
    return str(root)


def test_the_notebooks_are_what_build_py_writes():
    # committed notebooks are generated, never hand-edited: regenerate and compare byte for byte
    build = _build_module()
    assert sorted(build.NOTEBOOKS) == sorted(NAMES)
    for name, cells in build.NOTEBOOKS.items():
        assert (NOTEBOOKS / name).read_text(encoding="utf-8") == build.text(cells), \
            f"{name} is out of date: run python examples/notebooks/build.py"


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs_and_opens_with_what_it_teaches(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "**What this notebook teaches.**" in first.source
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, kernel_path, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", kernel_path)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.chdir(tmp_path)  # nothing a notebook might write lands in the repository
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=180, startup_timeout=120,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell raises
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    for c in code:
        for out in c.outputs:
            assert out.output_type != "error", c.source
            if out.output_type == "stream" and out.name == "stderr":
                assert "Warning" not in out.text, f"{name}: a cell warned:\n{c.source}\n{out.text}"
    rich = [out for c in code for out in c.outputs if out.output_type in ("execute_result", "display_data")]
    if name == "gradient-descent.ipynb":
        assert sum("image/png" in out.data for out in rich) == 2  # the journal and the surface
    else:  # the solutions and reports display themselves as HTML
        assert sum("text/html" in out.data for out in rich) >= 3
