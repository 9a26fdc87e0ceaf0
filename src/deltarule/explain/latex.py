"""A LaTeX document (article) that compiles with pdflatex and the base packages only.

Only texlive-latex-base is needed (amsmath, amssymb, geometry; Computer Modern Type 1
fonts, no font generation at compile time).

Text from a problem file is escaped (LaTeX specials, and characters pdflatex cannot set
are replaced), so no file can inject commands.
"""
from __future__ import annotations

from ..formatting import safe_text
from .document import Diagram, Document, Equation, Heading, Math, Note, Paragraph, Table

# (math-mode forms where a text symbol would need the TS1 fonts, which pdflatex would generate)
_SPECIALS = {"\\": r"$\backslash$", "{": r"\{", "}": r"\}", "$": r"$\$$", "&": r"\&", "#": r"\#",
             "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}",
             "<": r"$<$", ">": r"$>$", "|": r"$|$"}
_UNICODE = {"†": r"$\dagger$", "×": r"$\times$", "−": "-", "–": "--", "—": "---", "·": r"$\cdot$",
            "→": r"$\to$", "≈": r"$\approx$", "ŷ": r"$\hat{y}$", "Σ": r"$\Sigma$", "∂": r"$\partial$",
            "⊙": r"$\odot$", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}",
            "σ": r"$\sigma$", "δ": r"$\delta$", "η": r"$\eta$", "α": r"$\alpha$", "θ": r"$\theta$"}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=2cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\allowdisplaybreaks
"""


def escape(s: str) -> str:
    """Text as LaTeX that sets it literally: control characters shown as escapes first."""
    out = []
    for ch in safe_text(s):
        if ch in _SPECIALS:
            out.append(_SPECIALS[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 32:
            out.append(" ")
        elif ord(ch) > 255:
            out.append("?")  # pdflatex with utf8 input cannot set it
        else:
            out.append(ch)
    return "".join(out)


def _inline(parts) -> str:
    return "".join(f"${p.tex}$" if isinstance(p, Math) else escape(p) for p in parts)


def _equation(eq: Equation) -> str:
    sides = eq.sides()
    if not sides:
        return rf"\[ {eq.lhs.tex} \]"
    if sum(len(m.tex) for m in sides) < 110 and not any("bmatrix" in m.tex for m in sides):
        return r"\[ " + " = ".join(m.tex for m in [eq.lhs, *sides]) + r" \]"  # short: one line
    lines = [f"{eq.lhs.tex} &= {sides[0].tex}"] + [f"&= {m.tex}" for m in sides[1:]]
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def _table(t: Table) -> str:
    cols = "r" * len(t.header)
    rows = [" & ".join(_inline((c,)) for c in t.header) + r" \\ \hline"]
    rows += [" & ".join(_inline((c,)) for c in r) + r" \\" for r in t.rows]
    return "\\begin{center}\n\\begin{tabular}{" + cols + "}\n" + "\n".join(rows) + "\n\\end{tabular}\n\\end{center}"


def render(doc: Document) -> str:
    out = [PREAMBLE, r"\begin{document}", r"\section*{" + escape(doc.title) + "}"]
    for blk in doc.blocks:
        if isinstance(blk, Heading):
            cmd = {1: "section", 2: "subsection"}.get(blk.level, "subsubsection")
            out.append(f"\\{cmd}*{{{escape(blk.text)}}}")
        elif isinstance(blk, Paragraph):
            out.append(_inline(blk.parts) + "\n")
        elif isinstance(blk, Equation):
            out.append(_equation(blk))
        elif isinstance(blk, Table):
            out.append(_table(blk))
        elif isinstance(blk, Note):
            label = "Remark." if blk.kind == "remark" else "Note."
            out.append(r"\paragraph{" + label + "} " + _inline(blk.parts) + "\n")
        elif isinstance(blk, Diagram):
            continue
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
