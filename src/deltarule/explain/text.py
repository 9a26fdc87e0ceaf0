"""Plain text (and rich, on a terminal) rendering of a worked solution, 80 columns."""
from __future__ import annotations

import textwrap

from ..formatting import safe_text
from .document import Diagram, Document, Equation, Heading, Math, Note, Paragraph, Table

WIDTH = 80


def _inline(parts) -> str:
    return "".join(p.text if isinstance(p, Math) else p for p in parts)


def _equation(eq: Equation) -> list[str]:
    lhs = eq.lhs.text
    sides = [m.text for m in eq.sides()]
    one = "  " + " = ".join([lhs, *sides])
    if len(one) <= WIDTH:
        return [one]
    pad = " " * (2 + len(lhs))
    lines = ["  " + lhs + " = " + sides[0]]
    lines += [pad + " = " + s for s in sides[1:]]
    out = []
    for line in lines:  # still too long (a big matrix): wrap at spaces, indented
        out += textwrap.wrap(line, WIDTH, subsequent_indent=pad + "     ", break_long_words=False,
                             break_on_hyphens=False, drop_whitespace=True) or [line]
    return out


def _table(t: Table) -> list[str]:
    cells = [[_inline((c,)) for c in t.header]] + [[_inline((c,)) for c in r] for r in t.rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(cells[0]))]
    lines = ["  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return lines


def lines(doc: Document) -> list[tuple[str, str]]:
    """(kind, line) pairs; kind is the style a terminal gives the line."""
    out: list[tuple[str, str]] = [("title", doc.title), ("title", "=" * min(WIDTH, max(3, len(doc.title))))]
    for blk in doc.blocks:
        if isinstance(blk, Heading):
            under = {1: "=", 2: "-"}.get(blk.level)
            out.append(("", ""))
            out.append(("h%d" % blk.level, blk.text if under else blk.text + ":"))
            if under:
                out.append(("h%d" % blk.level, under * min(WIDTH, len(blk.text))))
        elif isinstance(blk, Paragraph):
            out += [("p", s) for s in textwrap.wrap(_inline(blk.parts), WIDTH, break_long_words=False)]
        elif isinstance(blk, Equation):
            out += [("eq", s) for s in _equation(blk)]
        elif isinstance(blk, Table):
            out += [("table", s) for s in _table(blk)]
        elif isinstance(blk, Note):
            label = "Remark: " if blk.kind == "remark" else "Note: "
            out += [("note", s) for s in textwrap.wrap(label + _inline(blk.parts), WIDTH, subsequent_indent="  ",
                                                       break_long_words=False)]
        elif isinstance(blk, Diagram):
            continue
    return out


def _safe(line: str) -> str:
    """No terminal control sequences from a file's text (an ESC in a problem's name is shown
    as ``\x1b``; a newline in it as ``\n``, so one line stays one line)."""
    return safe_text(line)


def render(doc: Document) -> str:
    return "\n".join(_safe(line) for _, line in lines(doc)).rstrip() + "\n"


STYLES = {"title": "bold", "h2": "bold cyan", "h3": "bold", "eq": "", "note": "italic", "table": "", "p": ""}


def print_rich(doc: Document, file=None) -> None:
    """Print with rich: styled on a terminal, plain in a pipe or when NO_COLOR is set."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False, soft_wrap=True, emoji=False, markup=False)
    for kind, line in lines(doc):
        console.print(Text(_safe(line), style=STYLES.get(kind, "")))
