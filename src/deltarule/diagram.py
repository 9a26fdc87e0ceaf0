"""The network diagram as a self-contained SVG string, with values on neurons and edges.

    network_svg(obj, decimals=3, *, example=0, title=None, edge_labels=None) -> str

``obj`` is a :class:`~deltarule.network.Network` (weights on the edges, biases under the
neurons), or a :class:`~deltarule.trace.Trace` or :class:`~deltarule.trace.Step` (also, for
one example, the inputs x and each neuron's z and a inside the neurons, and the gradients
dL/dW under the weights and dL/db under the biases). A problem's pass over its data is the
caller's to take (``problem.network.trace(problem.x, problem.y)``): the diagram only reads
it. ``example`` is the 0-based row of the trace (of the update's batch, for a Step).

Layout. Column c holds layer c (column 0 the inputs); a layer of more than ``MAX_UNITS``
units shows its first ``ELIDED_UNITS`` and a "⋮ N more" marker, and only the edges between
drawn units. The labels of the edges into target unit i sit in their own vertical slot i
(labels of different targets never share an x range); within a slot the labels of
different sources are ``(1 - t) * row_gap`` apart, so the gap between columns is made wide
enough that this is at least one label's height. The weight sits above its edge, its
gradient below it, so the line runs between the two numbers it carries.

The SVG has no scripts, no external references and no fonts to fetch; every text in it is
XML-escaped, so it can be inlined in an HTML page or written to a ``.svg`` file as it is.
It only formats numbers the core computed (``formatting.fmt``); nothing here
computes a model value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence
from xml.sax.saxutils import escape as _xml_escape

from .formatting import fmt, is_tiny, safe_text



def escape(s: str, entities: dict | None = None) -> str:
    """Text as XML character data: control characters (not allowed in XML 1.0 even escaped)
    shown as escapes first, then ``&<>`` (and ``entities``) escaped."""
    return _xml_escape(safe_text(s), entities or {})


RADIUS = 32
ROW_GAP, ROW_GAP_PLAIN = 112, 100  # with / without the gradient line under each bias
MIN_COL_GAP = 200
MARGIN_X = 72
TOP = 124                          # centre of the first row: title, layer headers, unit name above it
MAX_UNITS, ELIDED_UNITS = 8, 5     # a layer of more than 8 units shows its first 5 and "⋮"
MAX_EDGE_LABELS = 64               # edges between two columns beyond which labels are left off
CHAR_W = 6.4                       # mean width of a character of the 11px labels (digits wider, dots narrower)
TITLE_CHARS = 96                   # the visible title is cut here (the <title> keeps all of it)
STYLE = ("<style>.e{stroke:#8c96a8;stroke-width:1.2}.n{fill:#fff;stroke:#1f4e79;stroke-width:2}"
         ".i{fill:#eef3f8;stroke:#1f4e79;stroke-width:2}"
         "text{font-family:sans-serif;font-size:12px;fill:#111}.t{font-size:15px;font-weight:bold}"
         ".v{font-weight:bold}.z{font-size:11px;fill:#555}.h{font-size:12px;fill:#555}"
         ".k{font-size:11px;fill:#333}.m{font-size:18px;fill:#555}"
         ".w,.g,.b{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}"
         ".w{fill:#8a3b12}.b{fill:#2d6a2d}.g{fill:#5b3d9a}</style>")


@dataclass(frozen=True)
class _Values:
    """What one diagram shows: the network and, from a trace, one example's rows and the gradients."""

    net: Any
    x: Any = None          # (d,) inputs of the example
    z: Any = None          # per layer, (units,) of the example
    a: Any = None
    dW: Any = None         # per layer, (units, fan_in), of the traced batch
    db: Any = None
    which: str = ""        # "example 1 of 1", for the legend


def _parts(obj: Any, example: int) -> _Values:
    from .network import Network
    from .trace import Step, Trace

    examples = None
    if isinstance(obj, Step):
        obj, examples = obj.trace, obj.examples
    if isinstance(obj, Network):
        return _Values(obj)
    if not isinstance(obj, Trace):
        raise TypeError(f"network_svg: expected a Network, Trace or Step, got {type(obj).__name__} "
                        "(for a problem: its network, or network.trace(x, y))")
    n = len(obj.x)
    if not 0 <= example < n:
        raise ValueError(f"network_svg: example {example} is not a row of this trace ({n} examples)")
    if examples is None:
        which = f"example {example + 1} of {n}"
    else:
        which = f"example {examples[example] + 1}" + (f" (number {example + 1} of the update's batch of {n})"
                                                       if n > 1 else "")
    ls = obj.layers
    return _Values(obj.network, obj.x[example], [t.z[example] for t in ls], [t.a[example] for t in ls],
                   [t.dW for t in ls], [t.db for t in ls], which)


def _shown(n: int) -> int:
    """Units drawn of a layer of ``n`` (the rest are elided)."""
    return n if n <= MAX_UNITS else ELIDED_UNITS


def _num(v: float, decimals: int) -> str:
    """The rounding policy's text, with † where a value that is not zero shows as zero."""
    return fmt(v, decimals) + ("†" if is_tiny(v, decimals) else "")


def _text(x: float, y: float, s: str, cls: str, anchor: str = "middle", name: str = "") -> str:
    """``name`` (a canonical name, ``z1[2]``) becomes ``data-name``, for pages that highlight it."""
    data = f' data-name="{name}"' if name else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}"{data}>'
            f"{escape(s)}</text>")


def _gap(n_from: int, n_to: int, slot: float, label_h: float, row_gap: float) -> tuple[float, list[float]]:
    """(column gap, x offset from the source column of the label slot of each target unit).

    The first slot clears the source neuron (``near``), the last clears the target neuron,
    and is far enough from it that labels of neighbouring sources are ``label_h`` apart:
    (1 - d/gap) * row_gap >= label_h.
    """
    near = RADIUS + slot / 2 + 6
    span = near + (n_to - 1) * slot
    shrink = label_h / row_gap if n_from > 1 else 0.0
    gap = max(MIN_COL_GAP, span + near, span / (1 - shrink))
    end = gap - max(near, shrink * gap)
    if n_to == 1:
        return gap, [(near + end) / 2]
    return gap, [near + i * (end - near) / (n_to - 1) for i in range(n_to)]


def _edge_texts(v: _Values, l: int, i: int, j: int, decimals: int) -> list[tuple[str, str]]:
    """The labels of edge W_l[i, j] (0-based l, i, j): the weight, and its gradient if traced."""
    out = [(_num(v.net.layers[l].W[i, j], decimals), "w")]
    if v.dW is not None:
        out.append(("∂ " + _num(v.dW[l][i, j], decimals), "g"))
    return out


@dataclass(frozen=True)
class _Layout:
    cols: list[float]                    # x of each column
    rows: list[list[float]]              # y of each drawn unit, per column
    more: list[tuple[float, int] | None]  # (y, units not drawn) of the elision marker, per column
    slots: list[list[float]]             # per gap, x offset of each target's label slot
    bottom: float                        # lowest y used by the network


def _layout(v: _Values, decimals: int, labels: bool) -> _Layout:
    sizes = v.net.sizes
    shown = [_shown(n) for n in sizes]
    rows_n = [s + (s < n) for s, n in zip(shown, sizes)]
    row_gap = ROW_GAP if v.dW is not None else ROW_GAP_PLAIN
    label_h = 31 if v.dW is not None else 16
    cols, slots = [0.0], []
    for l in range(len(sizes) - 1):
        texts = [t for i in range(shown[l + 1]) for j in range(shown[l]) for t, _ in _edge_texts(v, l, i, j, decimals)]
        slot = max(map(len, texts)) * CHAR_W + 10 if labels else 0.0
        gap, offsets = _gap(shown[l], shown[l + 1], slot, label_h, row_gap)
        cols.append(cols[-1] + gap)
        slots.append(offsets)
    tallest = max(rows_n)
    rows, more = [], []
    for s, n, r in zip(shown, sizes, rows_n):
        top = TOP + (tallest - r) * row_gap / 2
        rows.append([top + k * row_gap for k in range(s)])
        more.append((top + s * row_gap, n - s) if s < n else None)
    return _Layout(cols, rows, more, slots, TOP + (tallest - 1) * row_gap + RADIUS + 30)


def _edges(v: _Values, g: _Layout, decimals: int, labels: bool) -> list[str]:
    """Every drawn edge as a line, then their labels (on top, so halos hide the other lines)."""
    lines, texts = [], []
    for l in range(len(g.cols) - 1):
        xa, xb = g.cols[l], g.cols[l + 1]
        for i, yb in enumerate(g.rows[l + 1]):
            d = g.slots[l][i]
            for j, ya in enumerate(g.rows[l]):
                w = f"W{l + 1}[{i + 1},{j + 1}]"
                lines.append(f'<line class="e" x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                             f'data-edge="{w}"/>')
                if labels:
                    ey = ya + (yb - ya) * d / (xb - xa)  # where the edge crosses the slot
                    for (s, cls), dy, nm in zip(_edge_texts(v, l, i, j, decimals), (-3, 11), (w, "d" + w)):
                        texts.append(_text(xa + d, ey + dy, s, cls, name=nm))
    return lines + texts


def _neuron(v: _Values, c: int, r: int, cx: float, cy: float, decimals: int) -> list[str]:
    """Circle, name above, x or (z, a) inside, bias and its gradient below."""
    unit = f"{c}[{r + 1}]"  # data-unit and data-name: what a page highlights (layer 0 the inputs)
    out = [f'<circle class="{"i" if c == 0 else "n"}" cx="{cx:.1f}" cy="{cy:.1f}" r="{RADIUS}" data-unit="{unit}"/>',
           _text(cx, cy - RADIUS - 6, f"x{r + 1}" if c == 0 else f"unit {r + 1}", "h")]
    if c == 0:
        if v.x is not None:
            out.append(_text(cx, cy + 4, _num(v.x[r], decimals), "v", name=f"x[{r + 1}]"))
        return out
    if v.z is not None:
        out += [_text(cx, cy - 3, "z " + _num(v.z[c - 1][r], decimals), "z", name="z" + unit),
                _text(cx, cy + 12, "a " + _num(v.a[c - 1][r], decimals), "v", name="a" + unit)]
    out.append(_text(cx, cy + RADIUS + 13, "b " + _num(v.net.layers[c - 1].b[r], decimals), "b", name="b" + unit))
    if v.db is not None:
        out.append(_text(cx, cy + RADIUS + 26, "∂ " + _num(v.db[c - 1][r], decimals), "g", name="db" + unit))
    return out


def _header(net: Any, c: int) -> list[str]:
    """The column's heading: what it is, then (if any) its size when elided and frozen parameters."""
    n = net.sizes[c]
    if c == 0:
        return ["inputs"] + ([f"{n} in all"] if n > MAX_UNITS else [])
    lay = net.layers[c - 1]
    more = [f"{n} units"] if n > MAX_UNITS else []
    frozen = [p for p, on in (("W", lay.train_weights), ("b", lay.train_biases)) if not on]
    if frozen:
        more.append(" and ".join(frozen) + " frozen")
    return [f"layer {c} · {lay.activation.name}"] + ([" · ".join(more)] if more else [])


def _legend(v: _Values, decimals: int, labels: bool, tiny: bool, elided: bool) -> list[list[tuple[str, str]]]:
    """The legend, one list of (text, class) runs per line."""
    lines = []
    if v.z is not None:
        lines.append([("z", "z"), (" weighted input and ", "k"), ("a", "v"),
                      (f" activation of each neuron, x the inputs: {v.which}", "k")])
    if labels:
        grad = [(",  ", "k"), ("∂", "g"), (" its gradient ∂L/∂W below it", "k")] if v.dW is not None else []
        lines.append([("w", "w"), (" weight on each edge (W[i, j] from input j to unit i)", "k"), *grad])
    lines.append([("b", "b"), (" bias under each neuron", "k")]
                 + ([(",  ", "k"), ("∂", "g"), (" its gradient ∂L/∂b", "k")] if v.db is not None else []))
    if v.dW is not None:
        net = v.net
        lines.append([(f"L: the {net.loss.name} loss, {net.reduction} over the traced batch; "
                       f"numbers rounded to {decimals} decimals", "k")])
    if tiny:
        lines.append([("†", "g"), (f" not zero, but rounds to {fmt(0.0, decimals)}", "k")])
    if elided:
        lines.append([("⋮", "h"), (f" more units, not drawn: a layer of more than {MAX_UNITS} shows its first "
                                   f"{ELIDED_UNITS} and the edges between those", "k")])
    return lines


def _runs(x: float, y: float, runs: Sequence[tuple[str, str]]) -> str:
    spans = "".join(f'<tspan class="{cls}">{escape(s)}</tspan>' for s, cls in runs)
    return f'<text x="{x:.1f}" y="{y:.1f}" class="k">{spans}</text>'


def network_svg(obj: Any, decimals: int = 3, *, example: int = 0, title: str | None = None,
                edge_labels: bool | None = None) -> str:
    """The diagram of ``obj`` as an ``<svg>`` element (a string). See the module docstring."""
    v = _parts(obj, example)
    sizes = v.net.sizes
    if edge_labels is None:
        edge_labels = max(_shown(a) * _shown(b) for a, b in zip(sizes, sizes[1:])) <= MAX_EDGE_LABELS
    label = title if title is not None else f"network {'-'.join(map(str, sizes))}"
    shown_title = label if len(label) <= TITLE_CHARS else label[:TITLE_CHARS - 1] + "…"
    g = _layout(v, decimals, edge_labels)
    body = _edges(v, g, decimals, edge_labels)
    for c, (cx, column) in enumerate(zip(g.cols, g.rows)):
        body += [_text(cx, TOP - RADIUS - 44 + 14 * k, h, "h") for k, h in enumerate(_header(v.net, c))]
        for r, cy in enumerate(column):
            body += _neuron(v, c, r, cx, cy, decimals)
        if g.more[c] is not None:
            my, hidden = g.more[c]
            body += [_text(cx, my - 4, "⋮", "m"), _text(cx, my + 14, f"{hidden} more", "h")]
    legend = _legend(v, decimals, edge_labels, "†" in "".join(body), any(g.more))
    left, right = (max(MARGIN_X, 12 + 3.6 * max(map(len, _header(v.net, c)))) for c in (0, len(sizes) - 1))  # 12px text
    net_w = g.cols[-1] + left + right
    width = max(net_w, 32 + max(sum(len(s) for s, _ in line) for line in legend) * CHAR_W,
                32 + len(shown_title) * 9.6)
    shift = left + (width - net_w) / 2  # centre the network under a wider title or legend
    height = g.bottom + 24 + 18 * len(legend) + 4
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="deltarule-network" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{escape(label, {chr(34): "&quot;"})}">',
        f"<title>{escape(label)}</title>", STYLE,
        '<rect width="100%" height="100%" fill="#fff"/>',
        _text(16, 26, shown_title, "t", "start"),
        f'<g transform="translate({shift:.1f} 0)">', *body, "</g>",
        *(_runs(16, g.bottom + 24 + 18 * k, line) for k, line in enumerate(legend)),
        "</svg>"])
