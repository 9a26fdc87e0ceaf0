"""Regenerate the golden worked solutions: ``python tests/golden/regen.py``.

Every seed example is rendered as text and Markdown (seeds 002 and 003 also as LaTeX);
read the diff before committing it. The HTML page is not kept here (its MathML comes
from latex2mathml, whose markup may change between versions): tests open it in Chromium.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (file stem, example, options for deltarule.solve)
CASES = [
    ("seed-000-forward", "seed-000-forward", {}),
    ("seed-000-update", "seed-000-update", {"steps": 6}),
    ("seed-000-neuron", "seed-000-neuron", {}),
    ("seed-001", "seed-001", {"style": "matrix"}),
    ("seed-001.neuron", "seed-001", {"decimals": 4}),
    ("seed-002", "seed-002", {"chain": "W1[1,1]"}),
    ("seed-002.matrix", "seed-002", {"style": "matrix"}),
    ("seed-003", "seed-003", {"style": "matrix"}),
    ("seed-003-as-computed", "seed-003-as-computed", {"style": "matrix", "chain": "W1[1,1]"}),
    ("seed-004-example-1", "seed-004-example-1", {"chain": "w"}),
    ("seed-004-example-2", "seed-004-example-2", {}),
    ("seed-004-example-3", "seed-004-example-3", {}),
    ("seed-004-example-3-stochastic", "seed-004-example-3-stochastic", {"steps": 3}),
    ("seed-002-momentum", "seed-002-momentum", {"steps": 2}),
    ("seed-002-adam.matrix", "seed-002-adam", {"steps": 2, "style": "matrix"}),
]
FORMATS = {"text": ".txt", "markdown": ".md"}
LATEX = ("seed-002", "seed-003", "seed-002-momentum")


def renders():
    """{file name: rendered text} for every golden file."""
    import deltarule as dr

    out = {}
    for stem, example, opts in CASES:
        sol = dr.solve(example, **opts)
        for fmt, ext in FORMATS.items():
            out[stem + ext] = sol.render(fmt)
        if stem in LATEX:
            out[stem + ".tex"] = sol.render("latex")
    return out


def main() -> int:
    for name, text in renders().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
