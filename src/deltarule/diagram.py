"""The network diagram as a self-contained SVG string, with values on neurons and edges.

    network_svg(obj, decimals=3, *, example=0, title=None, edge_labels=None) -> str

``obj`` is a :class:`~deltarule.network.Network` (weights on the edges, biases under the
neurons), a :class:`~deltarule.trace.Trace` or :class:`~deltarule.trace.Step` (also the
inputs and activations of one example inside the neurons), or a
:class:`~deltarule.problem.Problem` (its network and first example). The SVG has no
scripts, no external references and no fonts to fetch; every text in it is XML-escaped,
so it can be inlined in an HTML page or written to a ``.svg`` file as it is. It only
formats numbers the core computed (``explain.rounding.fmt``).
"""
from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from .explain.rounding import fmt

RADIUS = 24
COL_GAP = 190
ROW_GAP = 86
MARGIN_X = 60
MARGIN_TOP = 72
MARGIN_BOTTOM = 40
MAX_EDGE_LABELS = 64  # beyond this the picture is a hairball; weights are left off


def _parts(obj: Any, example: int):
    """(network, inputs of the example or None, activations per layer or None)."""
    from .network import Network
    from .trace import Step, Trace

    if hasattr(obj, "network") and not isinstance(obj, (Trace, Step)):  # a Problem
        if getattr(obj, "x", None) is None:
            return obj.network, None, None
        obj = obj.network.trace(obj.x, obj.y)  # the core's forward pass over the data
    if isinstance(obj, Step):
        obj = obj.trace
    if isinstance(obj, Trace):
        return obj.network, obj.x[example], [lt.a[example] for lt in obj.layers]
    if isinstance(obj, Network):
        return obj, None, None
    raise TypeError(f"network_svg: expected a Network, Trace, Step or Problem, got {type(obj).__name__}")


def _positions(sizes: tuple[int, ...]) -> tuple[list[list[tuple[float, float]]], float, float]:
    tallest = max(sizes)
    height = MARGIN_TOP + (tallest - 1) * ROW_GAP + RADIUS + MARGIN_BOTTOM + 24
    width = 2 * MARGIN_X + (len(sizes) - 1) * COL_GAP
    pos = []
    for c, n in enumerate(sizes):
        top = MARGIN_TOP + (tallest - n) * ROW_GAP / 2
        pos.append([(MARGIN_X + c * COL_GAP, top + r * ROW_GAP) for r in range(n)])
    return pos, width, height


def _text(x: float, y: float, s: str, cls: str, anchor: str = "middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">'
            f"{escape(s)}</text>")


def network_svg(obj: Any, decimals: int = 3, *, example: int = 0, title: str | None = None,
                edge_labels: bool | None = None) -> str:
    """The diagram of ``obj`` as an ``<svg>`` element (a string). See the module docstring."""
    net, x, acts = _parts(obj, example)
    sizes = net.sizes
    pos, width, height = _positions(sizes)
    n_edges = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if edge_labels is None:
        edge_labels = n_edges <= MAX_EDGE_LABELS
    label = title if title is not None else f"network {'-'.join(map(str, sizes))}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="deltarule-network" role="img" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
           f'aria-label="{escape(label, {chr(34): "&quot;"})}">',
           f"<title>{escape(label)}</title>",
           "<style>.e{stroke:#7a869a;stroke-width:1.3}.n{fill:#fff;stroke:#1f4e79;stroke-width:2}"
           ".i{fill:#eef3f8;stroke:#1f4e79;stroke-width:2}"
           "text{font-family:sans-serif;font-size:12px;fill:#111}.v{font-weight:bold}"
           ".w{font-size:11px;fill:#8a3b12;paint-order:stroke;stroke:#fff;stroke-width:3px}"
           ".h{font-size:12px;fill:#555}.b{font-size:11px;fill:#2d6a2d}</style>"]
    for l, layer in enumerate(net.layers, start=1):  # edges first, under the neurons
        n_to = layer.units
        for i, (x1, y1) in enumerate(pos[l]):
            for j, (x0, y0) in enumerate(pos[l - 1]):
                out.append(f'<line class="e" x1="{x0 + RADIUS:.1f}" y1="{y0:.1f}" '
                           f'x2="{x1 - RADIUS:.1f}" y2="{y1:.1f}"/>')
                if edge_labels:
                    t = 0.3 + 0.4 * (i / (n_to - 1) if n_to > 1 else 0.5)  # spread labels apart
                    lx, ly = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t - 3
                    out.append(_text(lx, ly, fmt(layer.W[i, j], decimals), "w"))
    for c, column in enumerate(pos):
        for r, (cx, cy) in enumerate(column):
            cls = "i" if c == 0 else "n"
            out.append(f'<circle class="{cls}" cx="{cx:.1f}" cy="{cy:.1f}" r="{RADIUS}"/>')
            name = f"x{r + 1}" if c == 0 else f"a{c}[{r + 1}]"
            out.append(_text(cx, cy - RADIUS - 6, name, "h"))
            value = x[r] if c == 0 and x is not None else (acts[c - 1][r] if c and acts is not None else None)
            if value is not None:
                out.append(_text(cx, cy + 4, fmt(value, decimals), "v"))
            if c:
                out.append(_text(cx, cy + RADIUS + 14, "b " + fmt(net.layers[c - 1].b[r], decimals), "b"))
    for c in range(1, len(sizes)):
        act = net.layers[c - 1].activation.name
        out.append(_text(pos[c][0][0], 18, f"layer {c}: {act}", "h"))
    out.append(_text(pos[0][0][0], 18, "inputs", "h"))
    out.append("</svg>")
    return "\n".join(out)
