"""The Builder: the worked solution's number toolkit (rounding, tiny values, vectors and
matrices as Math) and the list of blocks it collects; :mod:`.build` and :mod:`.optimization`
write the document with it. It formats numbers it is given and computes none.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..formatting import fmt, is_tiny, sci
from . import notation as N
from .document import Equation, Math, Note, as_math

# Beyond these a worked solution stops being readable: the first ones are written out,
# the rest are "alike" (and every number is in `solve --format json`).
MAX_EXAMPLES, MAX_UNITS, MAX_TERMS, MAX_CELLS, MAX_ROWS = 8, 8, 8, 64, 12
CDOT = Math(r" \cdot ", " · ")
HADAMARD = Math(r" \odot ", " ⊙ ")


@dataclass
class Builder:
    decimals: int
    style: str = "neuron"
    blocks: list = field(default_factory=list)
    tiny: dict = field(default_factory=dict)  # text name -> (tex value, text value)

    # -- numbers -------------------------------------------------------------------------------
    def s(self, v) -> str:
        return fmt(v, self.decimals)

    def num(self, v) -> Math:
        s = self.s(v)
        return Math(s, s)

    def opnd(self, v) -> str:
        """An operand in a product: negative numbers in parentheses."""
        s = self.s(v)
        return f"({s})" if s.startswith("-") else s

    def result(self, v, name: Math) -> Math:
        """A computed result; a tiny one is marked † and listed in the update's note."""
        s = self.s(v)
        if is_tiny(v, self.decimals):
            self.tiny[name.text] = (name.tex, sci(float(v)))
            return Math(s + r"^{\dagger}", s + "†")
        return Math(s, s)

    def vector(self, v, name: Math | None = None, column: bool = True) -> Math:
        v = np.asarray(v)
        if v.size > MAX_CELLS:
            return Math(rf"\text{{(a vector of {v.size})}}", f"(a vector of {v.size})")
        if name is not None:
            for i, e in enumerate(v, start=1):
                if is_tiny(e, self.decimals):
                    self.tiny[f"{name.text}[{i}]"] = (f"{name.tex}_{{{i}}}", sci(float(e)))
        items = [self.s(e) for e in v]
        sep_tex, sep_text = (r" \\ ", "; ") if column else (" & ", ", ")
        mark = self._mark(v, name)
        return Math(r"\begin{bmatrix} " + sep_tex.join(items) + r" \end{bmatrix}" + mark.tex,
                    "[" + sep_text.join(items) + "]" + mark.text)

    def _mark(self, values, name: Math | None) -> Math:
        """† after a named result that holds a tiny value (listed in the update's note)."""
        tiny = name is not None and any(is_tiny(e, self.decimals) for e in np.ravel(values))
        return Math(r"^{\dagger}", "†") if tiny else Math("", "")

    def matrix(self, m, name: Math | None = None) -> Math:
        m = np.asarray(m)
        if m.size > MAX_CELLS:
            return Math(rf"\text{{(a {m.shape[0]} by {m.shape[1]} matrix)}}", f"(a {m.shape[0]} x {m.shape[1]} matrix)")
        if name is not None:
            for (i, j), e in np.ndenumerate(m):
                if is_tiny(e, self.decimals):
                    self.tiny[f"{name.text}[{i + 1},{j + 1}]"] = (f"{name.tex}_{{{i + 1},{j + 1}}}", sci(float(e)))
        rows = [[self.s(e) for e in r] for r in m]
        tex = r"\begin{bmatrix} " + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{bmatrix}"
        mark = self._mark(m, name)
        return Math(tex + mark.tex, "[" + "; ".join(", ".join(r) for r in rows) + "]" + mark.text)

    # -- blocks --------------------------------------------------------------------------------
    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    def eq(self, lhs, symbolic=None, substituted=None, result=None) -> None:
        m = [None if v is None else as_math(v) for v in (lhs, symbolic, substituted, result)]
        if m[2] is not None:
            m[2] = N.unsigned_zero(m[2])
        self.blocks.append(Equation(*m))

    def flush_tiny(self) -> None:
        if not self.tiny:
            return
        parts: list = ["Not zero, though shown as " + self.s(0.0) + " (marked †): "]
        for k, (name, (tex, (s_tex, s_text))) in enumerate(sorted(self.tiny.items())):
            if k:
                parts.append("; ")
            parts.append(Math(f"{tex} = {s_tex}", f"{name} = {s_text}"))
        parts.append(". Full precision is kept for every later step.")
        self.add(Note(tuple(parts)))
        self.tiny = {}


def exact(v: float) -> str:
    """The learning rate as given: shortest exact form (0.5, 2, 1e+300), else 6 digits."""
    r = repr(float(v))
    if "e" in r:  # 1e+300 stays 1e+300 (stripping zeros would make it 1e+3)
        return r
    return r.rstrip("0").rstrip(".") if float(v) == round(float(v), 12) else f"{v:g}"
