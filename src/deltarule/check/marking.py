"""Marking a class: many submissions against one problem, or against an exercises folder.

Each submission is an answers file. Against one PROBLEM every submission is checked on it
(any ``problem:`` in a submission is ignored); against a folder written by ``deltarule
exercises`` a submission's ``exercise:`` (else its ``student:``) finds its problem through the
folder's manifest, wherever the file now lies. A mark per asked name: 1 right (the true value),
``follow_through`` (default 1) right by follow-through, 0 wrong or not answered; weighted by the
set's ``marks:``. An unreadable submission is a :class:`Mark` with its one-line error, never an
exception: it never stops the others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from .answers import blank, document


@dataclass(frozen=True)
class Mark:
    """One submission's marks: ``scores`` (asked name -> 0..1), ``total`` and ``out_of`` weighted;
    ``report`` (None and ``error`` set when the submission could not be read)."""

    file: str
    student: str
    exercise: str
    scores: dict = field(default_factory=dict)
    total: float = 0.0
    out_of: float = 0.0
    report: Any = None
    error: str = ""
    problem: Any = None

    @property
    def readable(self) -> bool:
        """False when the submission could not be marked (``error`` says why)."""
        return self.report is not None

    @property
    def all_right(self) -> bool:
        """Readable, nothing wrong, every asked name answered."""
        return self.readable and self.report.ok and all(n in self.report_names for n in self.scores)

    @property
    def report_names(self) -> set:
        """The names the submission claimed."""
        return {v.name for v in self.report.verdicts} if self.report is not None else set()


@dataclass(frozen=True)
class Target:
    """What submissions are marked against: one ``problem``, or a ``folder`` set (``read_set``)."""

    problem: Any = None
    folder: dict | None = None
    name: str = ""

    @property
    def asked(self) -> list[str]:
        """The asked names: the set's, or every name of one update of the problem."""
        if self.folder is not None:
            return list(self.folder["asked"])
        return list(blank(self.problem.steps(1)[0]))

    @property
    def marks(self) -> dict:
        """name -> weight (1 where the set gives none)."""
        return dict(self.folder["marks"]) if self.folder is not None else {}


def target(ref: str) -> Target:
    """A problem file or built-in example name, or a folder written by ``deltarule exercises``."""
    from ..problem import load_problem

    if Path(ref).is_dir():
        from ..classroom import read_set

        return Target(folder=read_set(ref), name=str(ref))
    return Target(problem=load_problem(ref), name=str(ref))


def _problem_of(tgt: Target, doc: dict, file: str):
    """The problem a submission is marked against (the folder's manifest decides in a set)."""
    if tgt.folder is None:
        return tgt.problem
    from ..problem import load_problem

    exercises = tgt.folder["exercises"]
    ex, student = str(doc.get("exercise", "")), str(doc.get("student", ""))
    hit = exercises.get(ex) or exercises.get(_numbered(ex, exercises))
    hit = hit or next((e for e in exercises.values() if student and e["student"] == student), None)
    if hit is None:
        raise InputError(f"no exercise {ex or '(none)'} or student {student or '(none)'} in the set's manifest",
                         "exercise", file)
    return load_problem(hit["problem"])


def _numbered(ex: str, exercises: dict) -> str | None:
    """The id '007' for an exercise written as the number 7 (YAML reads an unquoted 007 as 7)."""
    if not ex.isdigit():
        return None
    return next((k for k in exercises if k.isdigit() and int(k) == int(ex)), None)


def mark(tgt: Target, submission: str | Path, follow_through: float = 1.0) -> Mark:
    """One submission marked against ``tgt``; an unreadable one gives a Mark with ``error``."""
    from . import check

    file = str(submission)
    student, exercise = Path(file).stem, ""
    asked, weights = tgt.asked, tgt.marks
    out_of = float(sum(weights.get(n, 1) for n in asked))
    try:
        doc = document(submission)[0]
        student, exercise = str(doc.get("student", student)), str(doc.get("exercise", ""))
        problem = _problem_of(tgt, doc, file)
        report = check(problem, {k: v for k, v in doc.items() if k != "problem"})
    except InputError as e:
        return Mark(file, student, exercise, {n: 0.0 for n in asked}, 0.0, out_of, error=e.in_file(file).line())
    verdicts = {v.name: v for v in report.verdicts}
    scores = {n: _score(verdicts.get(n), follow_through) for n in asked}
    total = float(sum(weights.get(n, 1) * s for n, s in scores.items()))
    return Mark(file, student, exercise, scores, total, out_of, report, problem=problem)


def _score(verdict, follow_through: float) -> float:
    """1 for the true value, ``follow_through`` for right by follow-through, 0 wrong or missing."""
    if verdict is None or not verdict.right:
        return 0.0
    return 1.0 if verdict.kind == "true" else float(follow_through)
