"""The checker's report (:class:`deltarule.check.Report`) as a table: plain text for pipes,
a rich table for terminals, Markdown and HTML (Jupyter, ``check --format markdown|html``).

Reads the verdicts only; numbers are shown by the one rounding function
(:func:`deltarule.formatting.fmt`), the expected value at the claim's decimals.
"""
from __future__ import annotations

import html as _html
import textwrap
from typing import Any

from ..formatting import fmt, safe_text

COLUMNS = ("name", "claimed", "expected", "verdict", "note")
WIDTH = 100  # columns of the plain-text report


def numbers(x: Any, d: int) -> str:
    """A number, vector or matrix at ``d`` decimals, nested as lists."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(numbers(e, d) for e in x) + "]"
    return fmt(x, d)


def claimed(x: Any, d: int) -> str:
    """A claimed number as written (at least ``d`` decimals, more if it has them)."""
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(claimed(e, d) for e in x) + "]"
    if x is None:  # a blank left unfilled: not judged
        return "null"
    s = fmt(x, d)
    return s if float(s) == float(x) else repr(float(x))


def verdict_word(v) -> str:
    """'right', 'right (follow-through)' or 'WRONG'."""
    if not v.right:
        return "WRONG"
    return "right" if v.basis == "true value" else "right (follow-through)"


def rows(report) -> list[tuple[str, str, str, str, str]]:
    """(name, claimed, expected, verdict, note) per claim, as the tables show them (text from
    the files made safe: no control characters)."""
    return [(safe_text(v.name), claimed(v.claimed, v.decimals), numbers(v.expected, v.decimals), verdict_word(v),
             safe_text(v.note)) for v in report.verdicts]


def _summary(report) -> str:
    return safe_text(report.summary())


def text(report, width: int = WIDTH) -> str:
    """Plain text for pipes and files, at most ``width`` columns: per claim its name, verdict and
    the claimed numbers, then the note indented below (which says what it should be: the true
    value is shown once); the summary and the tolerance at the end."""
    table = rows(report)
    name_w = max(len(r[0]) for r in table)
    verdict_w = max(len(r[3]) for r in table)
    note_indent = " " * (name_w + 2)
    lines = []
    for name, claim, _, verdict, note in table:
        head = f"{name.ljust(name_w)}  {verdict.ljust(verdict_w)}  "
        lines += _wrap(claim, width, head, " " * len(head))
        lines += _wrap(note, width, note_indent, note_indent + "  ") if note else []
    return "\n".join([*lines, "", *_wrap(_summary(report), width), *_wrap(report.tolerance, width)])


def _wrap(line: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """``line`` in lines of at most ``width`` columns (breaking at spaces, never inside a number)."""
    if len(first) + len(line) <= width:
        return [first + line]
    return textwrap.wrap(line, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)


def rich(report):
    """A rich table for a terminal: verdicts coloured, the summary as title, the tolerance below;
    the true value only in the note (once)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(_summary(report)), caption=report.tolerance, caption_justify="left")
    for col in ("name", "claimed", "verdict", "note"):  # the note says what it should be: no expected column
        table.add_column(col, overflow="fold")
    for name, claim, _, verdict, note in rows(report):  # Text, not str: brackets are not rich markup
        style = "red" if verdict == "WRONG" else ("yellow" if "follow" in verdict else "green")
        table.add_row(Text(name), Text(claim), Text(verdict, style=style), Text(note))
    return table


def markdown(report) -> str:
    """A Markdown table with the summary in bold above and the tolerance in italics below."""
    esc = lambda s: s.replace("|", "\\|")
    lines = [f"**{_summary(report)}**", "", "| " + " | ".join(COLUMNS) + " |", "|---|---|---|---|---|"]
    lines += [f"| `{esc(r[0])}` | " + " | ".join(esc(c) for c in r[1:]) + " |" for r in rows(report)]
    return "\n".join([*lines, "", f"*{report.tolerance}*"])


def html(report) -> str:
    """An HTML fragment (a table; verdicts coloured) for Jupyter and web pages."""
    colours = {"WRONG": "#c00", "right": "#080"}
    body = "".join(
        "<tr>" + "".join(f"<td>{_html.escape(c)}</td>" if i != 3 else
                         f"<td style='color:{colours.get(c, '#a60')}'>{_html.escape(c)}</td>"
                         for i, c in enumerate(r)) + "</tr>" for r in rows(report))
    head = "".join(f"<th>{h}</th>" for h in COLUMNS)
    return (f"<div><p><b>{_html.escape(_summary(report))}</b></p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table><p><i>{_html.escape(report.tolerance)}</i></p></div>")


def page(report) -> str:
    """A self-contained HTML page of the report (``check --format html``)."""
    title = _html.escape(_summary(report))
    style = ("body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:0.2em 0.5em;text-align:left;vertical-align:top}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{style}</style></head>\n<body>\n{html(report)}\n</body></html>\n")


RENDERERS = {"text": text, "markdown": markdown, "html": page}


# -- a class: the gradebook and each student's feedback --------------------------------------------------------
def _number(x: float) -> str:
    """A mark: a whole number as one ('1', '0'), else two decimals by the one rounding function."""
    return str(int(x)) if float(x).is_integer() else fmt(x, 2)


def gradebook(marks: list, asked: list[str]) -> str:
    """CSV: ``student,exercise,<asked names>,total,out_of,percent``, one row per submission
    (``unreadable`` in ``total`` for a submission that could not be read)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "exercise", *asked, "total", "out_of", "percent"])
    for m in marks:
        if not m.readable:
            writer.writerow([safe_text(m.student), safe_text(m.exercise), *[""] * len(asked), "unreadable",
                             _number(m.out_of), ""])
            continue
        percent = fmt(100.0 * m.total / m.out_of, 1) if m.out_of else ""
        writer.writerow([safe_text(m.student), safe_text(m.exercise), *(_number(m.scores[n]) for n in asked),
                         _number(m.total), _number(m.out_of), percent])
    return out.getvalue()


def feedback_markdown(mark, key: str = "") -> str:
    """One student's page in Markdown: marks, the report (their numbers, verdicts, notes), the key."""
    head = f"# {safe_text(mark.student)}" + (f", exercise {safe_text(mark.exercise)}" if mark.exercise else "")
    score = f"**{_number(mark.total)} of {_number(mark.out_of)}**"
    return "\n\n".join(p for p in (head, score, markdown(mark.report), "## The worked solution\n\n" + key if key
                                   else "") if p) + "\n"


def feedback_html(mark, key: str = "") -> str:
    """One student's page in HTML: marks, the report, and the worked solution (an HTML fragment)."""
    who = _html.escape(safe_text(mark.student)) + (f", exercise {_html.escape(safe_text(mark.exercise))}"
                                                   if mark.exercise else "")
    body = (f"<h1>{who}</h1><p><b>{_number(mark.total)} of {_number(mark.out_of)}</b></p>{html(mark.report)}"
            + (f"<h2>The worked solution</h2>{key}" if key else ""))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{who}</title></head>\n"
            f"<body>\n{body}\n</body></html>\n")
