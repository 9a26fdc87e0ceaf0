"""Issue 13 item 5's and issue 15 item 8's targets as measured ratios, and the README's speed table.

Every figure comes from the one run that prints it: ``rates`` maps (row, workload) to a
throughput (updates/s or samples/s, CPU time unless the row says otherwise), filled by run.py
from the workload children, the matmul bound, the 2-thread W4 runs and the whole commands.
"default journal" is ``deltarule-epoch`` (what ``train`` does unless told), "batch journal"
the ``deltarule`` row (``journal_loss="batch"``).
"""
from __future__ import annotations

DEFAULT, BATCH = "deltarule-epoch", "deltarule"

# (target, (row, workload) measured, (row, workload) it is divided by, needed ratio, the batch-journal row
# shown beside the default one or None)
TARGETS = [
    ("W1 vs inline pure-Python floats", (DEFAULT, "W1"), ("python", "W1"), 3.0, (BATCH, "W1")),
    ("W1 vs JAX's jitted lax.scan", (DEFAULT, "W1"), ("jax", "W1"), 1.0, (BATCH, "W1")),
    ("W1 vs PyTorch eager", (DEFAULT, "W1"), ("torch", "W1"), 100.0, (BATCH, "W1")),
    ("W2 vs inline pure-Python floats", (DEFAULT, "W2"), ("python", "W2"), 3.0, (BATCH, "W2")),
    ("W2 vs JAX's jitted lax.scan", (DEFAULT, "W2"), ("jax", "W2"), 1.0, (BATCH, "W2")),
    ("W2 vs PyTorch eager", (DEFAULT, "W2"), ("torch", "W2"), 100.0, (BATCH, "W2")),
    ("W1 as `deltarule train` (6 M updates, start-up included) vs PyTorch's in-process rate",
     ("command-epoch", "W1"), ("torch", "W1"), 100.0, ("command-batch", "W1")),
    ("W3 float64 vs the numpy loop, default journal", (DEFAULT, "W3-64"), ("numpy", "W3-64"), 0.85, None),
    ("W3 float64 vs the numpy loop, batch journal", (BATCH, "W3-64"), ("numpy", "W3-64"), 1.0, None),
    ("W3 float32 vs the numpy loop, default journal", (DEFAULT, "W3-32"), ("numpy", "W3-32"), 0.85, None),
    ("W3 float32 vs the numpy loop, batch journal", (BATCH, "W3-32"), ("numpy", "W3-32"), 1.0, None),
    ("W3 float64 as commands (1,000 epochs, start-up included) vs the numpy script, default journal",
     ("command-epoch", "W3-64"), ("command-numpy", "W3-64"), 0.75, None),
    ("W3 float64 as commands vs the numpy script, batch journal",
     ("command-batch", "W3-64"), ("command-numpy", "W3-64"), 0.9, None),
    ("W3 float32 as commands (1,000 epochs, start-up included) vs the numpy script, default journal",
     ("command-epoch", "W3-32"), ("command-numpy", "W3-32"), 0.75, None),
    ("W3 float32 as commands vs the numpy script, batch journal",
     ("command-batch", "W3-32"), ("command-numpy", "W3-32"), 0.9, None),
    ("W4 vs the single-thread matrix-product bound, batch journal", (BATCH, "W4"), ("matmul", "W4"), 0.9, None),
    ("W4 vs the numpy loop, default journal", (DEFAULT, "W4"), ("numpy", "W4"), 0.6, None),
    ("W4 on 2 threads vs PyTorch on 2 threads (wall clock, batch journal)", ("deltarule@2", "W4"),
     ("torch@2", "W4"), 1.1, None),
    ("W3-adam vs the plain numpy Adam loop", (DEFAULT, "W3-adam"), ("numpy", "W3-adam"), 1.0, (BATCH, "W3-adam")),
    ("W3-adam vs PyTorch (torch.optim.Adam, one thread)", (DEFAULT, "W3-adam"), ("torch", "W3-adam"), 3.0,
     (BATCH, "W3-adam")),
    ("W1-momentum vs PyTorch (SGD momentum 0.9)", (DEFAULT, "W1-momentum"), ("torch", "W1-momentum"), 100.0,
     (BATCH, "W1-momentum")),
]
IMPORT_LIMIT_S = 0.16


def times(ratio: float) -> str:
    if ratio < 0.1:
        return f"{ratio:.2g}×"
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:,.0f}×"


def evaluate(rates: dict, imports: dict | None) -> list[tuple[str, str, str, str]]:
    """(target, measured, needed, verdict) per target; "not measured" where a row is missing."""
    rows = []
    for label, num, den, need, alt in TARGETS:
        if num not in rates or den not in rates:
            missing = ", ".join(f"{r} on {w}" for r, w in (num, den) if (r, w) not in rates)
            rows.append((label, f"not measured ({missing})", f"≥ {need:g}×", "—"))
            continue
        ratio = rates[num] / rates[den]
        measured = times(ratio)
        if alt in rates:
            measured += f" (batch journal {times(rates[alt] / rates[den])})"
        rows.append((label, measured, f"≥ {need:g}×", "met" if ratio >= need else "NOT met"))
    if imports:
        s = imports["deltarule"]
        rows.append(("`import deltarule`, CPU of `python -c 'import deltarule'`",
                     f"{s:.3f} s (numpy alone {imports['numpy']:.3f} s)", f"≤ {IMPORT_LIMIT_S} s",
                     "met" if s <= IMPORT_LIMIT_S else "NOT met"))
    return rows


def target_lines(rates: dict, imports: dict | None, quick: bool = False) -> list[str]:
    rows = evaluate(rates, imports)
    met = sum(r[3] == "met" for r in rows)
    measured = [r for r in rows if r[3] != "—"]
    lines = [f"\ntargets (issue 13 item 5, issue 15 item 8): {met} of {len(rows)} met"
             + (f", {len(rows) - len(measured)} not measured in this run (--only, --libs, --no-commands)"
                if len(measured) < len(rows) else "")
             + (" (--quick: smaller runs than the targets name, a smoke test)" if quick else ""),
             "| target | measured | needed | |", "|---|---:|---:|---|"]
    return lines + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in measured]


# the README's columns: (row, heading); the speed table's rows: (workload, what)
COLUMNS = [(DEFAULT, "deltarule"), (BATCH, "deltarule, batch journal"), ("numpy", "plain numpy loop"),
           ("python", "Python floats (inline)"), ("torch", "PyTorch eager"), ("sklearn", "scikit-learn"),
           ("micrograd", "micrograd"), ("jax", "JAX scan")]
ROWS = [("W1", "W1: seed 000's neuron, per-example SGD (updates/s)"),
        ("W2", "W2: 2-2-1 on XOR, per-example SGD (updates/s)"),
        ("W1-momentum", "W1 with momentum 0.9 (updates/s)"),
        ("W3-64", "W3: digits 64-32-10, batches of 32, float64 (samples/s)"),
        ("W3-32", "W3: the same in float32 (samples/s)"),
        ("W3-adam", "W3 with Adam, η = 0.001, float64 (samples/s)"),
        ("W4", "W4: 60,000×784, 784-256-10, batches of 128, float32 (samples/s)")]


def human(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.1f} M"
    if v >= 1e4:
        return f"{v / 1e3:.0f} k"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.0f}"


def readme_table(rates: dict, machine: list[str], imports: dict | None, quick: bool = False) -> list[str]:
    """The top-level README's speed table from this run: every cell a measured rate, and beside each
    other library how many times faster deltarule with its default journal was ("—": not run)."""
    cols = [(lib, head) for lib, head in COLUMNS if any((lib, w) in rates for w, _ in ROWS)]
    rows = [(w, what) for w, what in ROWS if any((lib, w) in rates for lib, _ in cols)]
    out = ["One run of `python benchmarks/run.py` on " + machine[0].removeprefix("machine: ") + "; "
           + machine[1].split(";")[0] + ", throughput from CPU time; " + machine[2] + ".",
           "In brackets: how many times faster deltarule (default journal) was.", "",
           "| | " + " | ".join(h for _, h in cols) + " |", "|---|" + "---:|" * len(cols)]
    for w, what in rows:
        ref = rates.get((DEFAULT, w))
        cells = []
        for lib, _ in cols:
            v = rates.get((lib, w))
            if v is None:
                cells.append("—")
            elif lib == DEFAULT or ref is None:
                cells.append(human(v))
            else:
                cells.append(f"{human(v)} ({times(ref / v)})")
        out.append(f"| {what} | " + " | ".join(cells) + " |")
    return out + target_lines(rates, imports, quick)
