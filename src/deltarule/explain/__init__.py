"""Worked solutions: trace -> document -> text / Markdown / LaTeX / HTML.

Placeholder until the renderers exist: a plain summary of each update.
"""
from __future__ import annotations

import numpy as np


def render(problem, steps, fmt: str, decimals: int, options: dict | None = None) -> str:
    if fmt != "text":
        from ..errors import InputError

        raise InputError(f"format {fmt!r} is not available yet", "--format")
    lines = [f"{problem.name}  (loss {problem.network.loss.name}, reduction {problem.network.reduction})"]
    for k, step in enumerate(steps, start=1):
        lines.append(f"update {k}: examples {', '.join(str(i + 1) for i in step.examples)}")
        for name, value in step.values().items():
            lines.append(f"  {name} = {np.array2string(np.asarray(value), precision=decimals)}")
    return "\n".join(lines) + "\n"
