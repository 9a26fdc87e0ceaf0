"""`solve --format json` reproduces the golden outputs in shared/contract/ (PyTorch float64)."""
import json
from pathlib import Path

import numpy as np
import pytest

from deltarule.cli import main

CONTRACT = Path(__file__).resolve().parents[1] / "contract"
if not CONTRACT.is_dir():  # the repository's own copy, else shared/ beside the checkout
    CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract"

CASES = ["seed-002", "seed-004-example-3"]


def _assert_close(got, want, where=""):
    if isinstance(want, dict):
        assert set(got) >= set(want), f"{where}: missing {set(want) - set(got)}"
        for k in want:
            _assert_close(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list) and want and isinstance(want[0], (dict, list)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, f"{where}[{i}]")
    else:
        np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-9, atol=1e-15,
                                   err_msg=where)


@pytest.mark.parametrize("case", CASES)
def test_solve_json_matches_golden(case, capsys):
    assert main(["solve", str(CONTRACT / f"{case}.yaml"), "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    want = json.loads((CONTRACT / f"{case}.solve.json").read_text())
    _assert_close(got, want)


def test_builtin_examples_match_contract_problems(capsys):
    # the built-in seed-002 and seed-004-example-3 are the contract's problems
    for case in CASES:
        main(["solve", case, "--format", "json"])
        builtin = json.loads(capsys.readouterr().out)
        want = json.loads((CONTRACT / f"{case}.solve.json").read_text())
        _assert_close(builtin, want)
