"""gradcheck's result (:class:`deltarule.gradcheck.GradCheck`) as a table: plain text for
pipes, a rich table for terminals, HTML for Jupyter. Reads the rows only.

Gradients are shown to 10 significant digits and relative errors in scientific form: they
span many orders of magnitude, so a fixed number of decimals would show most as 0.
"""
from __future__ import annotations

import html as _html

COLUMNS = ("parameter", "analytic", "numeric", "rel. error", "verdict")


def rows(result) -> list[tuple[str, str, str, str, str]]:
    """(parameter, analytic, numeric, relative error, verdict) as text, one per parameter."""
    return [(r.name, f"{r.analytic:.10g}", f"{r.numeric:.10g}", f"{r.relative_error:.2e}",
             "ok" if r.agree else "DISAGREE") for r in result.rows]


def text(result) -> str:
    """The table as plain text, then the summary and the tolerance."""
    table = [COLUMNS, *rows(result)]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    return "\n".join([*lines, "", result.summary(), result.tolerance])


def rich(result):
    """A rich table for a terminal, verdicts coloured."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=result.summary(), caption=result.tolerance, caption_justify="left")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("parameter", "verdict") else "right")
    for r in rows(result):
        table.add_row(*(Text(c) for c in r[:4]), Text(r[4], style="green" if r[4] == "ok" else "red"))
    return table


def html(result) -> str:
    """An HTML fragment: the summary, the table, the tolerance."""
    body = "".join("<tr>" + "".join(f"<td>{_html.escape(c)}</td>" for c in r) + "</tr>" for r in rows(result))
    head = "".join(f"<th>{h}</th>" for h in COLUMNS)
    return (f"<p><b>{_html.escape(result.summary())}</b></p><table><tr>{head}</tr>{body}</table>"
            f"<p><i>{_html.escape(result.tolerance)}</i></p>")
