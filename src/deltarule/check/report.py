"""The checker's result as data: one :class:`Verdict` per claimed name, and the :class:`Report`.

Presentation (the terminal table, plain text, Markdown, HTML) lives in
:mod:`deltarule.explain.check_report`; a Report only delegates its Jupyter and rich hooks there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..formatting import fmt
from .answers import half_unit


def shown(x: Any, d: int) -> str:
    """Numbers at ``d`` decimals by the one rounding function, nested as lists."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(shown(e, d) for e in x) + "]"
    return fmt(x, d)


@dataclass(frozen=True)
class Verdict:
    """One claimed name: right or wrong, what it should be, and why (``basis``: what made it right)."""

    name: str
    status: str
    claimed: Any
    expected: Any
    note: str
    basis: str
    decimals: int

    @property
    def right(self) -> bool:
        """True when the claim is right (the true value, or by follow-through)."""
        return self.status == "right"

    @property
    def kind(self) -> str | None:
        """``"true"`` (matches the true value), ``"follow_through"`` (follows from the student's own
        earlier numbers) or None (wrong): the JSON verdict's ``basis``."""
        if not self.right:
            return None
        return "follow_through" if self.basis.startswith("follow-through") else "true"

    def to_json(self) -> dict:
        """The contract's verdict object: name, status, claimed, expected, note, basis."""
        return {"name": self.name, "status": self.status, "claimed": self.claimed,
                "expected": self.expected, "note": self.note, "basis": self.kind}


@dataclass(frozen=True)
class Report:
    """Verdicts on every claimed name, the counts, and ``ok``; displays itself in Jupyter and rich."""

    verdicts: tuple[Verdict, ...]
    problem: str = ""
    answers: str = ""
    student: str = ""   # the answers file's student: and exercise: (a class's submissions)
    exercise: str = ""

    @property
    def right(self) -> int:
        """How many claimed names are right."""
        return sum(v.right for v in self.verdicts)

    @property
    def wrong(self) -> int:
        """How many claimed names are wrong."""
        return len(self.verdicts) - self.right

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (``deltarule check`` exits 0)."""
        return self.wrong == 0

    @property
    def tolerance(self) -> str:
        """The tolerance used, in words."""
        ds = sorted({v.decimals for v in self.verdicts})
        bands = ", ".join(f"±{shown(half_unit(d), d + 1)} at {d} decimals" for d in ds)
        return (f"right within {bands} (half a unit in the last decimal, ties right) of the true value, "
                f"or of what follows from your own earlier numbers, widened by their rounding")

    def __getitem__(self, name: str) -> Verdict:
        for v in self.verdicts:
            if v.name == name:
                return v
        raise KeyError(name)

    def to_json(self) -> dict:
        """The contract's JSON object."""
        return {"verdicts": [v.to_json() for v in self.verdicts], "right": self.right, "wrong": self.wrong}

    def summary(self) -> str:
        """``N right, M wrong (ANSWERS against PROBLEM)``."""
        head = f"{self.right} right, {self.wrong} wrong"
        return f"{head} ({self.answers or 'answers'} against {self.problem})" if self.problem else head

    def __rich__(self):
        from ..explain import check_report

        return check_report.rich(self)

    def _repr_markdown_(self) -> str:
        from ..explain import check_report

        return check_report.markdown(self)

    def _repr_html_(self) -> str:
        from ..explain import check_report

        return check_report.html(self)

    def __repr__(self) -> str:
        return f"Report({self.summary()})"
