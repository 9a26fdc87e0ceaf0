"""Generate src/deltarule/examples/moons.csv once (no download, no scikit-learn).

Two interleaving half circles ("moons") with Gaussian noise, the classic two-input data
set that no straight line separates:

    class 0: (cos t, sin t),            t in [0, pi]
    class 1: (1 - cos t, 1/2 - sin t),  t in [0, pi]

plus N(0, noise^2) on each coordinate, shifted so both inputs are centred near 0.
Run: python benchmarks/make_moons.py   (the same seed gives the same file, bit for bit)
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

N_PER_CLASS, NOISE, SEED = 60, 0.15, 5
OUT = Path(__file__).resolve().parents[1] / "src" / "deltarule" / "examples" / "moons.csv"


def moons(n_per_class: int = N_PER_CLASS, noise: float = NOISE, seed: int = SEED):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, np.pi, n_per_class)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    x = np.vstack([upper, lower]) + rng.normal(0.0, noise, size=(2 * n_per_class, 2))
    x -= np.array([0.5, 0.25])  # centre the picture on the origin
    label = np.repeat([0, 1], n_per_class)
    order = rng.permutation(len(x))  # mixed classes: every mini-batch sees both
    return x[order], label[order]


def main(out: Path = OUT) -> None:
    x, label = moons()
    lines = ["x1,x2,label"] + [f"{a:.4f},{b:.4f},{c}" for (a, b), c in zip(x, label)]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(x)} examples)", file=sys.stderr)


if __name__ == "__main__":
    main()
