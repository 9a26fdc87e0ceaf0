"""The format-neutral worked solution: a title and a list of typed blocks.

Every piece of mathematics is a :class:`Math` holding the same expression twice, as LaTeX
(for Markdown, LaTeX and MathML) and as plain text (for the terminal). The numbers in it
were formatted by :mod:`deltarule.formatting` from values the core computed; renderers only lay the
blocks out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Union


@dataclass(frozen=True)
class Math:
    """One expression: ``tex`` (LaTeX, math mode) and ``text`` (plain, Unicode)."""

    tex: str
    text: str

    def __add__(self, other: "Math | str") -> "Math":
        o = as_math(other)
        return Math(self.tex + o.tex, self.text + o.text)

    def __radd__(self, other: "Math | str") -> "Math":
        return as_math(other) + self


def as_math(x: "Math | str") -> Math:
    """Plain strings stand for the same characters in both notations."""
    return x if isinstance(x, Math) else Math(x, x)


def join(items: Iterable["Math | str"], sep: "Math | str") -> Math:
    out: Math | None = None
    for it in items:
        out = as_math(it) if out is None else out + sep + it
    return out if out is not None else Math("", "")


Inline = Union[str, Math]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Equation:
    """``lhs = symbolic = substituted = result``; any of the last three may be None."""

    lhs: Math
    symbolic: Math | None = None
    substituted: Math | None = None
    result: Math | None = None

    def sides(self) -> list[Math]:
        return [m for m in (self.symbolic, self.substituted, self.result) if m is not None]


@dataclass(frozen=True)
class Table:
    header: tuple[Inline, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Note:
    """A note (rounding, conventions) or a remark (about the problem or its source)."""

    parts: tuple[Inline, ...]
    kind: str = "note"


@dataclass(frozen=True)
class Diagram:
    """The network diagram of one example of an update (drawn by ``deltarule.diagram``)."""

    source: Any
    example: int = 0
    decimals: int = 3


Block = Union[Heading, Paragraph, Equation, Table, Note, Diagram]


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple[Block, ...]
