"""One self-contained HTML page: MathML (latex2mathml), an inline SVG diagram, print styles.

No scripts, no external resources (a Content-Security-Policy forbids both), and every text
from a file is escaped (control characters shown as escapes first, by
:func:`deltarule.formatting.safe_text`). The MathML is rebuilt before it is used: only
MathML elements may appear in it (otherwise the formula is shown as escaped LaTeX source)
and only MathML's presentation attributes are kept (no ``href``, ``xlink:*``, ``on*``,
``style`` or anything else).
"""
from __future__ import annotations

from html import escape as _escape
from html.parser import HTMLParser

from ..formatting import safe_text

from .document import Diagram, Document, Equation, Heading, Math, Note, Paragraph, Table

CSS = """
.deltarule{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#111;
  max-width:60rem;margin:0 auto;padding:1rem 1.25rem}
.deltarule h1{font-size:1.6rem;border-bottom:2px solid #1f4e79;padding-bottom:.2rem}
.deltarule h2{font-size:1.3rem;margin-top:2rem;color:#1f4e79;border-bottom:1px solid #c9d6e3}
.deltarule h3{font-size:1.05rem;margin-top:1.2rem}
.deltarule .eq{overflow-x:auto;overflow-y:hidden;margin:.35rem 0 .35rem 1rem;padding:.1rem 0}
.deltarule .eq table{border-collapse:collapse}
.deltarule .eq td{padding:.12rem .3rem;vertical-align:middle}
.deltarule .eq td.l{text-align:right}
.deltarule math{font-size:1.08em}
.deltarule table.data{border-collapse:collapse;margin:.5rem 1rem}
.deltarule table.data th,.deltarule table.data td{border:1px solid #c9d6e3;padding:.2rem .6rem;text-align:right}
.deltarule table.data th{background:#eef3f8}
.deltarule aside{border-left:4px solid #c58b00;background:#fff8e6;padding:.4rem .8rem;margin:.6rem 0}
.deltarule aside.remark{border-color:#1f4e79;background:#eef3f8}
.deltarule figure{margin:1rem 0;overflow-x:auto}
.deltarule code{white-space:pre-wrap}
@media print{.deltarule{max-width:none;padding:0;font-size:10.5pt}
  .deltarule h2{break-before:auto;break-after:avoid}.deltarule h3{break-after:avoid}
  .deltarule .eq,.deltarule figure,.deltarule aside,.deltarule table{break-inside:avoid}
  .deltarule .eq{overflow:visible}a{color:inherit}}
"""

_MATHML_TAGS = {"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
                "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
                "mstyle", "mpadded", "mphantom", "menclose", "mfenced", "semantics", "annotation"}
# MathML's presentation attributes: nothing here can name a URL, run a script or style the page.
_MATHML_ATTRS = {"xmlns", "display", "displaystyle", "mathvariant", "mathsize", "mathcolor", "mathbackground",
                 "scriptlevel", "scriptminsize", "scriptsizemultiplier", "stretchy", "fence", "separator",
                 "separators", "open", "close", "lspace", "rspace", "accent", "accentunder", "columnalign",
                 "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame", "framespacing",
                 "equalrows", "equalcolumns", "align", "linethickness", "numalign", "denomalign", "bevelled",
                 "movablelimits", "largeop", "symmetric", "minsize", "maxsize", "form", "width", "height",
                 "depth", "voffset", "notation", "encoding", "dir", "class"}


def escape(s: str, quote: bool = True) -> str:
    """Text from anywhere as HTML text: control characters shown as escapes, then ``<>&"'`` as entities."""
    return _escape(safe_text(s), quote=quote)


class _MathMLFilter(HTMLParser):
    """Rebuilds MathML from its parts: allowed elements, allowed attributes, escaped text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.clean = True

    def _start(self, tag: str, attrs, empty: bool) -> None:
        if tag not in _MATHML_TAGS:
            self.clean = False
            return
        kept = "".join(f' {k}="{_escape(v or "")}"' for k, v in attrs if k in _MATHML_ATTRS)
        self.out.append(f"<{tag}{kept}{' /' if empty else ''}>")

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, True)

    def handle_endtag(self, tag):
        self.clean = self.clean and tag in _MATHML_TAGS
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(_escape(data, quote=False))

    def _refuse(self, *_):
        self.clean = False

    handle_comment = handle_decl = handle_pi = unknown_decl = _refuse


def sanitize_mathml(markup: str) -> str | None:
    """``markup`` rebuilt with MathML elements and presentation attributes only (every other
    attribute dropped), or None when it holds an element that is not MathML, a comment or
    a declaration."""
    f = _MathMLFilter()
    f.feed(markup)
    f.close()
    return "".join(f.out) if f.clean and f.out else None


def mathml(tex: str, display: bool = False) -> str:
    """The formula as MathML, or as escaped LaTeX source if the conversion is not clean."""
    from latex2mathml.converter import convert

    try:
        out = sanitize_mathml(convert(tex, display="block" if display else "inline"))
    except Exception:  # latex2mathml raises various errors on input it cannot read
        out = None
    return out if out is not None else f"<code>{escape(tex)}</code>"


def _inline(parts) -> str:
    return "".join(mathml(p.tex) if isinstance(p, Math) else escape(p) for p in parts)


def _equation(eq: Equation) -> str:
    sides = eq.sides()
    if sum(len(m.tex) for m in sides) < 150 and not any("bmatrix" in m.tex for m in sides):
        cells = "".join(f"<td>=</td><td>{mathml(m.tex)}</td>" for m in sides)
        return f'<div class="eq"><table><tr><td class="l">{mathml(eq.lhs.tex)}</td>{cells}</tr></table></div>'
    rows = []
    for k, m in enumerate(sides or [None]):
        lhs = mathml(eq.lhs.tex) if k == 0 else ""
        rhs = "" if m is None else mathml(m.tex)
        rows.append(f'<tr><td class="l">{lhs}</td><td>{"=" if m is not None else ""}</td><td>{rhs}</td></tr>')
    return '<div class="eq"><table>' + "".join(rows) + "</table></div>"


def _table(t: Table) -> str:
    head = "".join(f"<th>{_inline((c,))}</th>" for c in t.header)
    body = "".join("<tr>" + "".join(f"<td>{_inline((c,))}</td>" for c in r) + "</tr>" for r in t.rows)
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def body(doc: Document) -> str:
    from ..diagram import network_svg

    out = [f"<h1>{escape(doc.title)}</h1>"]
    for blk in doc.blocks:
        if isinstance(blk, Heading):
            h = min(6, blk.level)
            out.append(f"<h{h}>{escape(blk.text)}</h{h}>")
        elif isinstance(blk, Paragraph):
            out.append(f"<p>{_inline(blk.parts)}</p>")
        elif isinstance(blk, Equation):
            out.append(_equation(blk))
        elif isinstance(blk, Table):
            out.append(_table(blk))
        elif isinstance(blk, Note):
            label = "Remark." if blk.kind == "remark" else "Note."
            out.append(f'<aside class="{blk.kind}"><strong>{label}</strong> {_inline(blk.parts)}</aside>')
        elif isinstance(blk, Diagram):
            svg = network_svg(blk.source, blk.decimals, example=blk.example, title="the network")
            out.append(f"<figure>{svg}<figcaption>The network before the first update: inputs, z and a in "
                       f"the neurons, weights and their gradients on the edges, biases and theirs below."
                       f"</figcaption></figure>")
    return "\n".join(out)


def fragment(doc: Document) -> str:
    """For Jupyter: the solution in a div with its own styles."""
    return f'<div class="deltarule"><style>{CSS}</style>\n{body(doc)}\n</div>'


def render(doc: Document) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"deltarule\">\n"
            f"<title>{escape(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<main class=\"deltarule\">\n{body(doc)}\n</main>\n</body>\n</html>\n")
