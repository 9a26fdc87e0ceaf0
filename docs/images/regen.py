"""Regenerate the reference pictures in docs/images/ from the command line, one per kind.

Run from the repository root:  python docs/images/regen.py
Each picture is made by exactly the command printed beside it (the README quotes them).
Pixels differ across machines (fonts), so tests check sizes, never pixels.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from deltarule.cli import main

HERE = Path(__file__).resolve().parent
COMMANDS = [
    "plot seed-000-neuron --kind surface -o {}/surface-seed-000.png",
    "plot seed-000-neuron --kind journal --columns w,b,loss -o {}/journal-seed-000.png",
    "plot seed-000-neuron --kind journal --learning-rates 0.3,0.9,3 --epochs 30 -o {}/journal-rates-seed-000.png",
    "compare seed-000-neuron --methods batch,minibatch,stochastic --plot {}/compare-seed-000.png",
    "plot seed-002 --kind diagram -o {}/diagram-seed-002.svg",
    "plot moons --kind boundary -o {}/boundary-moons.png",
    "plot xor --kind boundary -o {}/boundary-xor.png",
]


def regen(out: Path = HERE) -> int:
    worst = 0
    for template in COMMANDS:
        argv = shlex.split(template.format(out))
        print("deltarule " + template.format("docs/images"), file=sys.stderr)
        worst = max(worst, main(argv))
    return worst


if __name__ == "__main__":
    sys.exit(regen())
