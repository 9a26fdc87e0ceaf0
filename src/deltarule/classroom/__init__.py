"""The classroom: an exercise per student, round-safe numbers, sheets, keys and a Moodle quiz.

    >>> from deltarule.classroom import load_template, make_set
    >>> t = load_template("seed-002")                  # a template file, or a built-in example
    >>> [ex] = make_set(t, seed=1, students=["ada"])
    >>> ex.id, ex.student, ex.asked[:3], ex.draws > 0
    ('ada', 'ada', ('z1', 'a1', 'dL_da1'), True)

:func:`write_set` writes a set into a folder (see ``deltarule exercises --help``):
``manifest.csv`` (``exercise,student,seed,problem``), ``index.html``, ``quiz.xml``,
``exercises.yaml`` (what is asked, the marks, the decimals: what a marker needs), and per
exercise ``problem.yaml``, ``sheet.html``, ``sheet.tex``, ``key.html``, ``key.tex`` and a
blank ``answers.yaml``.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .generate import Exercise, exercise_seed, folder_name, make_set, read_roster
from .template import Template, load_template, parse_template


def _yaml(doc, header: str = "") -> str:
    import yaml

    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def manifest_csv(exercises) -> str:
    """``exercise,student,seed,problem`` (problem relative to the set's folder)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["exercise", "student", "seed", "problem"])
    for ex in exercises:
        w.writerow([ex.id, ex.student if ex.student is not None else "", ex.seed, f"{ex.id}/problem.yaml"])
    return out.getvalue()


def set_files(exercises, template: Template, seed: int) -> dict[str, str]:
    """Every file of the set, by path relative to its folder (nothing is written)."""
    from .. import solve  # the public worked solution (deltarule.solve), rendered as solve renders it
    from . import quiz, sheets

    files: dict[str, str] = {}
    solutions = []
    for ex in exercises:
        d = ex.problem.decimals
        sol = solve(ex.problem, 1, decimals=d)
        solutions.append(sol)
        files[f"{ex.id}/problem.yaml"] = _yaml(ex.doc)
        files[f"{ex.id}/sheet.html"] = sheets.sheet_html(ex)
        files[f"{ex.id}/sheet.tex"] = sheets.sheet_tex(ex)
        files[f"{ex.id}/key.html"] = sheets.key_html(sol, d)
        files[f"{ex.id}/key.tex"] = sheets.key_tex(sol, d)
        files[f"{ex.id}/answers.yaml"] = _yaml(sheets.blank_answers(ex), (
            f"# Exercise {ex.id}: put your numbers in place of the nulls, rounded to {d} decimals\n"
            "# (one list per row of a matrix), then hand this file in.\n"))
    title = Path(template.source).stem or "exercises"
    files["index.html"] = sheets.index_html(exercises, f"Exercises: {title}")
    files["quiz.xml"] = quiz.quiz_xml(exercises, solutions, title)
    files["manifest.csv"] = manifest_csv(exercises)
    files["exercises.yaml"] = _yaml({
        "template": str(template.source), "seed": seed, "decimals": template.base.decimals,
        "asked": list(template.asked), "marks": dict(template.marks),
        "round_safe": True, "draws": {ex.id: ex.draws for ex in exercises}})
    return files


def write_set(exercises, template: Template, seed: int, outdir: str | Path) -> list[str]:
    """Write the set into ``outdir`` (created if need be), each file atomically; the paths written."""
    from ..io import write_text

    files = set_files(exercises, template, seed)  # everything is built before anything is written
    root = Path(outdir)
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
        written.append(str(path))
    return written


def read_set(folder: str | Path) -> dict:
    """A written set, as a marker needs it: ``asked`` (names), ``marks`` (name -> weight),
    ``decimals``, and ``exercises``: exercise id -> {student (None without a roster), seed, problem
    (the path of its problem.yaml)}, in manifest order. InputError (one line) when unreadable."""
    from ..errors import InputError
    from ..limits import MAX_CSV_BYTES
    from ..loader import read_document
    from ..reader import read_bytes

    root = Path(folder)
    meta = read_document(root / "exercises.yaml")
    if not isinstance(meta, dict) or not isinstance(meta.get("asked"), list):
        raise InputError("not a set written by 'deltarule exercises' (no asked list)", "asked",
                         str(root / "exercises.yaml"))
    path = root / "manifest.csv"
    try:  # regular files only, bounded while reading, like every file deltarule reads
        text = read_bytes(path, MAX_CSV_BYTES, "manifests").decode("utf-8")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read the manifest ({e})", "", str(path)) from None
    if rows and set(rows[0]) != {"exercise", "student", "seed", "problem"}:
        raise InputError("expected the columns exercise,student,seed,problem", "", str(path))
    exercises = {r["exercise"]: {"student": r["student"] or None, "seed": int(r["seed"]),
                                 "problem": root / r["problem"]} for r in rows}
    return {"asked": list(meta["asked"]), "marks": dict(meta.get("marks") or {}),
            "decimals": meta.get("decimals"), "exercises": exercises}


__all__ = ["Exercise", "Template", "exercise_seed", "folder_name", "load_template", "make_set",
           "manifest_csv", "parse_template", "read_roster", "read_set", "set_files", "write_set"]
