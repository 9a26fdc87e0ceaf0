"""The set as a Moodle XML question bank: one Embedded Answers (cloze) question per exercise.

Followed (Moodle's own documentation and code):

* Moodle XML format (docs.moodle.org/en/Moodle_XML_format): ``<quiz>`` of ``<question type="...">``
  with ``<name><text>``, ``<questiontext format="html"><text>``, ``<generalfeedback>``,
  ``<defaultgrade>``, ``<penalty>``, ``<hidden>``, ``<idnumber>``; a ``type="category"`` question
  first sets the category (``$course$/...``).
* Embedded Answers (Cloze) question type (docs.moodle.org/en/Embedded_Answers_(Cloze)_question_type):
  a subquestion is ``{WEIGHT:NUMERICAL:=VALUE:TOLERANCE#FEEDBACK}``, the weight a whole number;
  in answer and feedback text the characters ``} # ~ / " \\`` are escaped with a backslash.
  Moodle's parser (question/type/multianswer/questiontype.php, ANSWER_START_REGEX
  ``\\{([0-9]*):(TYPE):``) takes a brace for a subquestion only when digits, a colon and a type
  follow, so the TeX braces of the question text (``W^{(1)}``) are left alone; we check that none
  of them looks like one.
* MathJax filter: TeX between ``\\(`` and ``\\)`` in the question text.

The tolerance of every answer is the checker's: half a unit at the shown decimals.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape
from math import isclose

from ..formatting import fmt
from . import sheets

CLOZE_SPECIAL = '\\}#~/"'   # escaped with a backslash in cloze answer and feedback text
# what Moodle takes as the start of a subquestion (ANSWER_START_REGEX, types abbreviated)
SUBQUESTION = re.compile(r"\{([0-9]*):(NUMERICAL|NM|MULTICHOICE\w*|MC\w*|SHORTANSWER\w*|SA\w*|MW\w*|"
                         r"MULTIRESPONSE\w*|MR\w*):")


def escape_cloze(text: str) -> str:
    """Text inside a cloze subquestion: ``} # ~ / " \\`` each preceded by a backslash."""
    return "".join("\\" + ch if ch in CLOZE_SPECIAL else ch for ch in text)


def tolerance(decimals: int) -> str:
    """Half a unit at ``decimals`` places, as text: 3 -> 0.0005."""
    return f"{0.5 * 10.0 ** -decimals:.{decimals + 1}f}"


def _weights(marks: dict) -> dict:
    """Whole-number cloze weights in the proportions of ``marks`` (Moodle's weight is [0-9]*)."""
    for scale in (1, 2, 4, 5, 10, 20, 100):
        if all(isclose(m * scale, round(m * scale)) for m in marks.values()):
            return {k: max(1, round(m * scale)) for k, m in marks.items()}
    return {k: max(1, round(m * 100)) for k, m in marks.items()}


def subquestion(weight: int, value: float, decimals: int, label: str) -> str:
    """``{w:NUMERICAL:=0.593:0.0005#label}`` for one asked number."""
    return (f"{{{weight}:NUMERICAL:={fmt(value, decimals)}:{tolerance(decimals)}"
            f"#{escape_cloze(label)}}}")


def question_text(exercise) -> str:
    """The sheet (TeX in \\( \\)) with a NUMERICAL blank per asked number."""
    d = exercise.problem.decimals
    weights = _weights(exercise.marks)

    def cloze(name: str, label: str, value: float) -> str:
        return subquestion(weights[name], value, d, f"{label} = {fmt(value, d)}")
    body = sheets.sheet_body(exercise, cloze)
    blanks = sum(len(sheets.entries(n, exercise.values[n])) for n in exercise.asked)
    if len(SUBQUESTION.findall(body)) != blanks:  # a TeX brace Moodle would misread: never ship it
        raise AssertionError(f"exercise {exercise.id}: the question text has text Moodle would take for a subquestion")
    return body


def feedback(exercise, solution) -> str:
    """The general feedback: the worked solution (plain text, every number) and the round-safe note."""
    d = exercise.problem.decimals
    return (f"<p><strong>Key.</strong> {escape(sheets.roundsafe_note(d))}</p>"
            f"<pre>{escape(solution.to_text())}</pre>")


def _text(parent: ET.Element, tag: str, text: str, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    ET.SubElement(el, "text").text = text
    return el


def question(exercise, solution) -> ET.Element:
    q = ET.Element("question", {"type": "cloze"})
    who = f" ({sheets.clean_text(exercise.student)})" if exercise.student is not None else ""
    _text(q, "name", f"Exercise {exercise.id}{who}")
    _text(q, "questiontext", question_text(exercise), format="html")
    _text(q, "generalfeedback", feedback(exercise, solution), format="html")
    ET.SubElement(q, "penalty").text = "0.3333333"
    ET.SubElement(q, "hidden").text = "0"
    ET.SubElement(q, "idnumber").text = exercise.id
    return q


def quiz_xml(exercises, solutions, category: str) -> str:
    """The question bank: a category, then one cloze question per exercise."""
    root = ET.Element("quiz")
    cat = ET.SubElement(root, "question", {"type": "category"})
    _text(cat, "category", f"$course$/deltarule/{sheets.clean_text(category)}")
    for ex, sol in zip(exercises, solutions):
        root.append(question(ex, sol))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
