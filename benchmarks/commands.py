"""Whole commands from the shell, start-up included, as a user meets them (issue 13 item 5).

* W1: ``deltarule train seed-000-update --epochs 1000000 --quiet`` (6 million updates) with
  the default journal and with ``--journal-loss batch``;
* W3: 1,000 epochs of digits (64-32-10, batches of 32 in order, eta 0.5) in float64 and float32,
  ``deltarule train`` on a problem file against ``digits_numpy.py`` (the plain numpy loop as a
  script: the same data file, the same batches);
* ``python -c "import deltarule"`` and ``python -c "import numpy"``, best of 5.

Each command runs twice, the commands of a group taking turns, and the run with the least CPU
time is kept.

Every figure is the child's CPU time (user + system, ``RUSAGE_CHILDREN``), the steady measure on
a shared machine; wall time is kept beside it.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
W1_EPOCHS, W1_QUICK_EPOCHS = 1_000_000, 100_000  # x 6 examples: 6 million updates
W3_EPOCHS, W3_QUICK_EPOCHS = 1_000, 50

W3_PROBLEM = """\
name: W3 as a command (digits 64-32-10, {dtype})
layers:
  - {{units: 32, inputs: 64, init: xavier, activation: sigmoid}}
  - {{units: 10, init: xavier, activation: softmax}}
loss: cross_entropy
reduction: mean
dtype: {dtype}
seed: 0
data: {{file: digits.npz, one_hot: true}}
learning_rate: 0.5
training: {{method: minibatch, batch_size: 32, epochs: {epochs}, shuffle: false}}
"""


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str], cwd: str | None = None) -> dict:
    """One child process: its CPU seconds (user + system), wall seconds and exit status."""
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    out = dict(cpu_s=_children_cpu() - c0, wall_s=time.perf_counter() - t0, rc=proc.returncode,
               command=" ".join(os.path.basename(c) if c == sys.executable else c for c in cmd))
    if proc.returncode:
        out["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1][:160]
    return out


def best(cmds: dict, repeats: int, cwd: str | None = None) -> dict:
    """Each command ``repeats`` times, taking turns (so a burst of load hits them alike); the run
    with the least CPU time of each."""
    runs: dict = {key: [] for key in cmds}
    for _ in range(repeats):
        for key, cmd in cmds.items():
            runs[key].append(timed(cmd, cwd=cwd))
    return {key: dict(min(rs, key=lambda r: (r["rc"] != 0, r["cpu_s"])), runs=len(rs)) for key, rs in runs.items()}


def import_times(repeats: int = 5) -> dict:
    """Best CPU seconds of ``python -c 'import X'`` for deltarule and numpy."""
    best = {}
    for module in ("deltarule", "numpy"):
        best[module] = min(timed([sys.executable, "-c", f"import {module}"])["cpu_s"] for _ in range(repeats))
    return best


def w1_commands(quick: bool, repeats: int) -> dict:
    """W1 from the shell: 6 million updates (quick: 600,000), default and batch journals."""
    epochs = W1_QUICK_EPOCHS if quick else W1_EPOCHS
    base = [sys.executable, "-m", "deltarule", "train", "seed-000-update", "--quiet", "--epochs"]
    cmds = dict(epoch=base + [str(epochs)], batch=base + [str(epochs), "--journal-loss", "batch"], start=base + ["1"])
    out = best(cmds, repeats)  # "start": one epoch, so start-up (imports, numba cache, problem) alone
    return dict(start=out.pop("start"), runs={key: dict(r, updates=6 * epochs) for key, r in out.items()})


def w3_commands(quick: bool, repeats: int) -> dict:
    """W3 from the shell, float64 and float32: deltarule (default and batch journal) and numpy."""
    from deltarule import examples

    epochs = W3_QUICK_EPOCHS if quick else W3_EPOCHS
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(os.path.dirname(examples.__file__), "digits.npz"), tmp)
        for dtype in ("float64", "float32"):
            problem = os.path.join(tmp, f"w3-{dtype}.yaml")
            with open(problem, "w") as fh:
                fh.write(W3_PROBLEM.format(dtype=dtype, epochs=epochs))
            base = [sys.executable, "-m", "deltarule", "train", problem, "--quiet"]
            cmds = dict(epoch=base, batch=base + ["--journal-loss", "batch"], start=base + ["--epochs", "1"],
                        numpy=[sys.executable, os.path.join(HERE, "digits_numpy.py"), "digits.npz", dtype,
                               str(epochs)])
            out[dtype] = dict(best(cmds, repeats, cwd=tmp), samples=1797 * epochs)
            for key in ("epoch", "batch", "numpy", "start"):
                out[dtype][key]["command"] = (out[dtype][key]["command"].replace(tmp + os.sep, "")
                                              .replace(HERE, "benchmarks"))
    return out


def measure(quick: bool, repeats: int = 2) -> dict:
    """Every whole-command figure of the targets (each command the best of ``repeats`` runs)."""
    return dict(w1=w1_commands(quick, repeats), w3=w3_commands(quick, repeats), imports=import_times(),
                repeats=repeats)


def lines(m: dict) -> list[str]:
    """The whole commands as text, after the tables."""
    rows = [f"\nwhole commands (CPU seconds of the child process, start-up included, best of {m['repeats']} runs "
            f"taking turns; wall beside):"]
    for journal, r in m["w1"]["runs"].items():
        rows.append(f"  {r['command']}: {r['cpu_s']:.2f} s CPU ({r['wall_s']:.2f} s wall), "
                    f"{r['updates'] / r['cpu_s']:,.0f} updates/s" + (f" ERROR {r['error']}" if r["rc"] else ""))
    r = m["w1"]["start"]
    rows.append(f"  start-up alone: {r['command']}: {r['cpu_s']:.2f} s CPU ({r['wall_s']:.2f} s wall)"
                + (f" ERROR {r['error']}" if r["rc"] else ""))
    for dtype, d in m["w3"].items():
        for key in ("epoch", "batch", "numpy", "start"):
            r = d[key]
            rows.append(f"  W3 {dtype} {key:5}: {r['command']}: {r['cpu_s']:.2f} s CPU ({r['wall_s']:.2f} s wall)"
                        + (f" ERROR {r['error']}" if r["rc"] else ""))
    rows.append("  import (best of 5, CPU s): " + ", ".join(f"{k} {v:.3f}" for k, v in m["imports"].items()))
    return rows
