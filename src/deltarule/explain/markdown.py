"""Markdown with ``$…$`` / ``$$…$$`` math (GitHub, Jupyter, most static-site tools).

Text from a problem file is escaped: Markdown punctuation gets a backslash and ``<``, ``>``,
``&`` become entities, so a name cannot inject HTML into a notebook or a page.
"""
from __future__ import annotations

import re

from ..formatting import safe_text
from .document import Diagram, Document, Equation, Heading, Math, Note, Paragraph, Table

_SPECIAL = re.compile(r"([\\`*_\[\]|$~])")


def escape(s: str) -> str:
    """Text as Markdown that shows it literally (and is safe where HTML is allowed), on one
    line: control characters (a newline too) are shown as escapes, not obeyed."""
    s = safe_text(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _SPECIAL.sub(r"\\\1", s)
    return "\\" + s if s[:1] in ("#", "-", "+", "=") else s


def _inline(parts) -> str:
    return "".join(f"${p.tex}$" if isinstance(p, Math) else escape(p) for p in parts)


def _equation(eq: Equation) -> str:
    return "$$\n" + " = ".join(m.tex for m in [eq.lhs, *eq.sides()]) + "\n$$"


def _table(t: Table) -> list[str]:
    def row(cells):
        return "| " + " | ".join(_inline((c,)) for c in cells) + " |"
    return [row(t.header), "|" + "|".join("---:" for _ in t.header) + "|"] + [row(r) for r in t.rows]


def render(doc: Document) -> str:
    out = ["# " + escape(doc.title), ""]
    for blk in doc.blocks:
        if isinstance(blk, Heading):
            out += ["#" * min(6, blk.level) + " " + escape(blk.text), ""]
        elif isinstance(blk, Paragraph):
            out += [_inline(blk.parts), ""]
        elif isinstance(blk, Equation):
            out += [_equation(blk), ""]
        elif isinstance(blk, Table):
            out += _table(blk) + [""]
        elif isinstance(blk, Note):
            label = "Remark." if blk.kind == "remark" else "Note."
            out += [f"> **{label}** " + _inline(blk.parts), ""]
        elif isinstance(blk, Diagram):
            continue
    return "\n".join(out).rstrip() + "\n"
