"""A set of exercises: one per student (or N numbered ones), each round-safe, each reproducible.

Exercise k's numbers come from a random generator seeded by a stable hash (SHA-256) of the
set's seed and the student id (or the exercise number), so the same student with the same
seed always gets the same exercise, whoever else is on the roster and in whatever order.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..limits import MAX_CSV_BYTES
from ..reader import read_bytes
from . import roundsafe
from .template import Template

MAX_EXERCISES = 10_000
MAX_ID = 64
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Exercise:
    """One concrete exercise: folder ``id``, its student (None without a roster), the seed of its
    draws, the problem (document and parsed), what is asked, the true values of the asked names
    (``Step.values()`` shapes), its marks, and how many candidates were drawn to find it."""

    id: str
    student: str | None
    seed: int
    doc: dict
    problem: object
    asked: tuple
    values: dict
    marks: dict
    draws: int


def exercise_seed(seed: int, key: str) -> int:
    """A 63-bit seed from (set seed, student id or exercise number), stable across runs and
    machines (SHA-256, never Python's salted hash())."""
    digest = hashlib.sha256(f"deltarule-exercise\x00{seed}\x00{key}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def folder_name(student: str, taken: set) -> str:
    """A safe folder name for a student id: letters, digits, '.', '_' and '-' only, no leading dot
    (``../x`` -> ``_x``), at most 64 characters, made unique with -2, -3, ... (case-insensitively)."""
    name = _SAFE.sub("_", student).lstrip(".")[:MAX_ID] or "student"
    unique, k = name, 2
    while unique.lower() in taken:
        unique, k = f"{name}-{k}", k + 1
    taken.add(unique.lower())
    return unique


def read_roster(path: str | Path) -> list[str]:
    """The ``student`` column of a CSV roster (UTF-8, a header row); ids are trimmed, none empty,
    none twice."""
    path = str(path)
    try:  # a roster is a file a lecturer names: regular files only, bounded while reading
        text = read_bytes(path, MAX_CSV_BYTES, "rosters").decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text (byte {e.start})", "", path) from None
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        fields = csv.DictReader(io.StringIO(text, newline="")).fieldnames or []
    except csv.Error as e:
        raise InputError(f"not a CSV file ({e})", "", path) from None
    if "student" not in [f.strip() for f in fields]:
        raise InputError(f"no 'student' column (the header has: {', '.join(map(repr, fields)) or 'nothing'})",
                         "student", path)
    column = next(f for f in fields if f.strip() == "student")
    students, seen = [], set()
    for i, row in enumerate(rows, start=2):
        sid = (row.get(column) or "").strip()
        if not sid:
            raise InputError(f"row {i}: the student id is empty", "student", path)
        if sid in seen:
            raise InputError(f"row {i}: {sid[:40]!r} is listed twice", "student", path)
        seen.add(sid)
        students.append(sid)
    if not students:
        raise InputError("the roster lists no students", "student", path)
    if len(students) > MAX_EXERCISES:
        raise InputError(f"{len(students):,} students; at most {MAX_EXERCISES:,} in one set", "student", path)
    return students


def make_one(template: Template, seed: int, key: str, ident: str, student: str | None,
             max_draws: int = roundsafe.MAX_DRAWS) -> Exercise:
    """The round-safe exercise for ``key`` (student id or exercise number) under ``seed``."""
    s = exercise_seed(seed, key)
    rng = np.random.default_rng(s)
    name = f"{template.base.name or Path(template.source).stem} — exercise {ident}"
    _, doc, problem, draws = roundsafe.search(template, rng, name, max_draws)
    doc["description"] = f"Exercise {ident}, drawn from {Path(template.source).name} (seed {seed})."
    if isinstance(doc.get("data"), dict) and "file" in doc["data"]:  # the problem file travels alone
        doc["data"] = {"inputs": problem.x.tolist(), "targets": problem.y.tolist()}
    problem = _with_description(problem, doc["description"])
    values = roundsafe.truth_values(problem)
    asked_values = {n: np.asarray(values[n]) for n in template.asked}
    return Exercise(ident, student, s, doc, problem, template.asked, asked_values, dict(template.marks), draws)


def _with_description(problem, text: str):
    from dataclasses import replace

    return replace(problem, description=text)


def make_set(template: Template, seed: int, count: int | None = None, students: list[str] | None = None,
             max_draws: int = roundsafe.MAX_DRAWS, progress=None) -> list[Exercise]:
    """One exercise per student of the roster, or ``count`` numbered ones (001, 002, ...);
    ``progress(done, total)`` is called after each one."""
    if students is None:
        if count is None or not 1 <= count <= MAX_EXERCISES:
            raise InputError(f"expected between 1 and {MAX_EXERCISES:,} exercises, got {count}", "--count")
        width = max(3, len(str(count)))
        jobs = [(f"#{k}", f"{k:0{width}d}", None) for k in range(1, count + 1)]
    else:
        taken: set = set()
        jobs = [(sid, folder_name(sid, taken), sid) for sid in students]
    out = []
    for key, ident, student in jobs:
        out.append(make_one(template, seed, key, ident, student, max_draws))
        if progress is not None:
            progress(len(out), len(jobs))
    return out
