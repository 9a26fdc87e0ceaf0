"""Worked solutions: trace -> document -> text / Markdown / LaTeX / HTML.

    >>> import deltarule as dr
    >>> sol = dr.solve("seed-002")                 # a Problem, a file or an example name
    >>> print(sol.to_text())                        # also to_markdown, to_latex, to_html
    seed-002 two-two-one
    ...

In Jupyter a :class:`Solution` displays itself (``_repr_html_``, ``_repr_markdown_``).
The document is built once from the traces (:mod:`.build`); each renderer lays it out.
Renderers only read the :class:`~deltarule.trace.Step` records they are given:
:func:`deltarule.solve` (in :mod:`deltarule.solution`, above this package) loads the
problem and takes the steps.
"""
from __future__ import annotations

from .build import STYLES, build
from .document import Document

FORMATS = ("text", "markdown", "latex", "html")


class Solution:
    """The worked solution of the first updates of a problem, ready to render.

    ``steps`` are the :class:`~deltarule.trace.Step` records it shows, ``decimals`` the
    rounding of every number shown (computations keep full precision), ``style``
    ``"neuron"`` (one equation per neuron) or ``"matrix"``, ``chain`` a parameter name
    whose fully expanded chain rule is added. Build one with :func:`deltarule.solve`.
    ``problem`` is read for its network, data, name, description, learning rate and
    method only (any object with those attributes).
    """

    def __init__(self, problem, steps, decimals: int, style: str = "neuron", chain: str | None = None):
        self.problem, self.steps, self.decimals, self.style, self.chain = problem, list(steps), decimals, style, chain
        self.document: Document = build(problem, self.steps, decimals, style, chain)

    def render(self, fmt: str = "text") -> str:
        """The solution as ``text``, ``markdown``, ``latex`` (a whole document) or ``html`` (a page)."""
        if fmt == "text":
            from . import text
            return text.render(self.document)
        if fmt == "markdown":
            from . import markdown
            return markdown.render(self.document)
        if fmt == "latex":
            from . import latex
            return latex.render(self.document)
        if fmt == "html":
            from . import html
            return html.render(self.document)
        from ..errors import InputError
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", "format")

    def to_text(self) -> str:
        """Plain text for a terminal or a file (Unicode symbols, aligned equations)."""
        return self.render("text")

    def to_markdown(self) -> str:
        """Markdown with ``$...$`` mathematics (what Jupyter shows)."""
        return self.render("markdown")

    def to_latex(self) -> str:
        """A LaTeX article that compiles with pdflatex and the base packages."""
        return self.render("latex")

    def to_html(self) -> str:
        """A self-contained HTML page (MathML, the network diagram as inline SVG)."""
        return self.render("html")

    def interactive(self, journal=None):
        """The page that steps through this solution one line at a time (see
        :mod:`deltarule.explain.interactive`); in Jupyter it displays inline, without a
        server. ``journal``: a training journal (already computed) for a slider over the
        epochs; :meth:`deltarule.solution.Solution.interactive` trains one on request."""
        from . import interactive

        page = interactive.render(self.problem, self.steps, self.document, self.decimals, journal)
        return interactive.Interactive(page)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"Solution({self.problem.name!r}, {len(self.steps)} update(s), style={self.style!r})"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        from . import html
        return html.fragment(self.document)


def render(problem, steps, fmt: str, decimals: int, options: dict | None = None) -> str:
    """The solution of ``steps`` in format ``fmt`` (``options``: style, chain)."""
    options = options or {}
    sol = Solution(problem, steps, decimals, options.get("style") or "neuron", options.get("chain"))
    return sol.render(fmt)


__all__ = ["FORMATS", "STYLES", "Solution", "render"]
