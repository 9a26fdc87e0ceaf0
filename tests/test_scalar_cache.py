"""The compiled engine's disk cache: loops compiled by different processes, loaded into one.

Each network's kernels get their own compiled loop, all from one template, cached under one name
(``_make_run.<locals>.run``, told apart by the kernels' stamp). A function such a loop *called*
(rather than inlined) was named by its template's name and numba's per-process counter, so the
same name could belong to two loops compiled in two processes; a process that loaded both then
ran the second network with the first one's kernels. W1 (sigmoid, sse) then W2 (XOR, sigmoid,
half_sse) ended at W2[1,1] = -5.3145 instead of -5.0559.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr

SRC = Path(__file__).resolve().parents[1] / "src"
SCRIPT = """
import json, sys
import numpy as np, deltarule as dr
nets = {
    "W1": dr.Network((dr.Layer([[-2.0]], [1.0], "sigmoid"),), "sse", "mean"),
    "W2": dr.Network((dr.Layer([[0.3, -0.27], [-0.89, 0.03]], [0.67, -0.45], "sigmoid"),
                      dr.Layer([[-0.99, -0.25]], [0.1], "sigmoid")), "half_sse", "mean"),
}
data = {"W1": ([[3.5], [0.35], [3.2], [-2.0], [1.5], [-0.5]], [[0.5], [0.5], [0.5], [0.5], [0.1], [0.3]]),
        "W2": ([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]])}
out = {}
for name in sys.argv[1:]:
    x, y = data[name]
    r = dr.train(nets[name], x, y, 0.5, dr.Schedule("stochastic", epochs=3000), engine="scalar")
    out[name] = r.network.parameters().tolist()
print(json.dumps(out))
"""


def trained(names: list[str], cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(SRC)}
    r = subprocess.run([sys.executable, "-c", SCRIPT, *names], env=env, capture_output=True, text=True,
                       timeout=600, check=True)
    return json.loads(r.stdout)


@pytest.mark.slow
def test_loops_cached_by_different_processes_keep_their_own_kernels(tmp_path):
    trained(["W1"], tmp_path)  # each loop compiled and cached by a process of its own
    trained(["W2"], tmp_path)
    both = trained(["W1", "W2"], tmp_path)  # then both loaded into one
    ref = trained(["W2"], tmp_path / "fresh")
    assert both["W2"] == ref["W2"]
    assert both["W1"] == trained(["W1"], tmp_path / "fresh")["W1"]
    # and what the generic loop computes, to the last bits the engines share
    nets = {"W2": dr.Network((dr.Layer([[0.3, -0.27], [-0.89, 0.03]], [0.67, -0.45], "sigmoid"),
                              dr.Layer([[-0.99, -0.25]], [0.1], "sigmoid")), "half_sse", "mean")}
    g = dr.train(nets["W2"], [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]], 0.5,
                 dr.Schedule("stochastic", epochs=3000), engine="generic")
    assert np.allclose(both["W2"], g.network.parameters(), rtol=1e-9, atol=1e-12)
