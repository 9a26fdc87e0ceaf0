"""How cost grows (issue 13 item 6): hidden width x batch size x data size, one thread, CPU time.

    python benchmarks/sweep.py                       # the grid below, about 3-5 minutes on 2 cores
    python benchmarks/sweep.py --quick               # a smoke test (widths 16, 256; sizes 1k, 10k)
    python benchmarks/sweep.py --out sweep.md        # also write the table as Markdown

The network is W3's shape with the hidden width varied: 64 inputs, H sigmoid units, 10 softmax
outputs, cross-entropy (mean), float64, plain mini-batch SGD (eta 0.01) over batches in order, on
synthetic data (uniform inputs, random labels: speed does not depend on the values). Each cell
trains on at least ``--samples`` samples (whole epochs: 100 epochs of 1k, 10 of 10k, 1 of 100k),
so every cell does the same arithmetic per sample whatever n is; what changes with n is the work
per epoch (the default journal's whole-data pass, the per-epoch bookkeeping) and where the data
sits in the caches.

Rows: ``deltarule`` (journal_loss="batch", no row 0), ``deltarule-epoch`` (the default journal),
``numpy`` (the hand-written loop of workloads.run_numpy), ``torch`` (eager, torch.optim.SGD).
Each library runs the whole grid in its own child process on one BLAS/PyTorch thread; the
throughput is samples per CPU second of the training call alone (data made outside the timing).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

WIDTHS, BATCHES, SIZES = (16, 64, 256, 1024), (32, 256), (1_000, 10_000, 100_000)
QUICK = dict(widths=(16, 256), batches=(32, 256), sizes=(1_000, 10_000), samples=20_000)
LIBS = ("deltarule", "deltarule-epoch", "numpy", "torch")
INPUTS, CLASSES, LR = 64, 10, 0.01  # at 0.1 width 1024 is chaotic: rounding grows to 1e-2 in 40 epochs


def cell(width: int, n: int, batch: int, samples: int):
    """(x, y, labels, Ws, bs, spec) of one cell, the same in every child (seeded by the cell)."""
    import numpy as np

    rng = np.random.default_rng([width, n, batch])
    x = rng.random((n, INPUTS))
    labels = rng.integers(0, CLASSES, n)
    y = np.eye(CLASSES)[labels]
    sizes = (INPUTS, width, CLASSES)
    Ws = [rng.normal(0, 1 / math.sqrt(f), (u, f)) for f, u in zip(sizes, sizes[1:])]
    bs = [np.zeros(u) for u in sizes[1:]]
    spec = dict(sizes=sizes, acts=("sigmoid", "softmax"), loss="cross_entropy", lr=LR, batch=batch,
                epochs=max(1, -(-samples // n)), dtype="float64", optimizer=None)
    return x, y, labels, Ws, bs, spec


def fingerprint(params) -> float:
    """The parameters projected on a fixed random direction (any one parameter's change shows)."""
    import numpy as np

    p = np.asarray(params, dtype=np.float64)
    return float(p @ np.random.default_rng(0).standard_normal(p.size) / np.sqrt(p.size))


def child(lib: str, grid: dict) -> list[dict]:
    """Runs in the child: one library over the whole grid, one thread."""
    from threadpoolctl import threadpool_limits

    import workloads as wl

    threadpool_limits(1)
    fn = wl.LIBRARIES[lib]
    kwargs = {"threads": 1} if lib == "torch" else {}
    fn("sweep", *cell(16, 256, 32, 512), **kwargs)  # imports and first-call costs outside the grid
    out = []
    for width in grid["widths"]:
        for batch in grid["batches"]:
            for n in grid["sizes"]:
                x, y, labels, Ws, bs, spec = cell(width, n, batch, grid["samples"])
                params, wall, _ = fn("sweep", x, y, labels, Ws, bs, spec, **kwargs)
                out.append(dict(lib=lib, width=width, batch=batch, n=n, samples=spec["epochs"] * n,
                                epochs=spec["epochs"], cpu_s=wl.CPU["seconds"], wall_s=wall,
                                fingerprint=fingerprint(params)))
    return out


def spawn(lib: str, grid: dict) -> list[dict]:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", lib, json.dumps(grid)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        print(f"{lib}: failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}", file=sys.stderr)
        return []
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: list[dict], libs: list[str]) -> list[str]:
    """One row per cell: each library's samples/s, then deltarule's ratios to numpy and PyTorch."""
    by = {(r["lib"], r["width"], r["batch"], r["n"]): r for r in results}
    cells = sorted({(r["width"], r["batch"], r["n"]) for r in results})
    head = ["width", "batch", "n"] + [f"{lib} samples/s" for lib in libs]
    ratios = [(a, b) for a in ("deltarule", "deltarule-epoch") for b in ("numpy", "torch") if {a, b} <= set(libs)]
    head += [f"{a} / {b}" for a, b in ratios] + ["params agree"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for w, b, n in cells:
        rs = {lib: by.get((lib, w, b, n)) for lib in libs}
        row = [str(w), str(b), f"{n:,}"]
        row += [f"{r['samples'] / r['cpu_s']:,.0f}" if r else "—" for r in rs.values()]
        for a, c in ratios:
            ra, rc = rs[a], rs[c]
            row.append(f"{(ra['samples'] / ra['cpu_s']) / (rc['samples'] / rc['cpu_s']):.2f}" if ra and rc else "—")
        prints = [r["fingerprint"] for r in rs.values() if r]
        row.append(f"{max(prints) - min(prints):.0e}" if prints else "—")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smaller grid (a smoke test)")
    ap.add_argument("--libs", default=",".join(LIBS), help="comma-separated, of " + ", ".join(LIBS))
    ap.add_argument("--samples", type=int, default=100_000, help="samples trained per cell (at least)")
    ap.add_argument("--out", help="also write the table (Markdown) to this file")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], json.loads(args.child[1]))))
        return 0
    grid = dict(QUICK) if args.quick else dict(widths=WIDTHS, batches=BATCHES, sizes=SIZES, samples=args.samples)
    libs = args.libs.split(",")
    t0, load = time.perf_counter(), os.getloadavg()[0]
    results = [r for lib in libs for r in spawn(lib, grid)]
    about = (f"sweep: widths {list(grid['widths'])} x batches {list(grid['batches'])} x sizes "
             f"{list(grid['sizes'])}, >= {grid['samples']:,} samples per cell, one thread, float64, CPU time; "
             f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
             f"{time.perf_counter() - t0:.0f} s wall; 'params agree': the spread across the libraries of the "
             f"final parameters projected on one random unit-variance direction (scaled by 1/sqrt(count))")
    lines = [about, ""] + table(results, libs)
    print("\n".join(lines))
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
