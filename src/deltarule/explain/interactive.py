"""The interactive worked solution: one self-contained page that steps through a pass.

    render(problem, steps, document, decimals, journal=None) -> str   (the whole page)
    Interactive(page)._repr_html_()                                    (Jupyter: an iframe)

The stage is the network diagram (:func:`deltarule.diagram.network_svg`, one per update);
*next* and *previous* (buttons, → ←, n p and space) walk through the equations of the
worked solution one line at a time, in the order the document (:mod:`.build`) lists them:
forward (every z and a), loss, backward (every dL/da, f'(z), δ), gradients, update, after.
The current line is shown in a side panel with its numbers, and the quantity it computes
is highlighted in the diagram (outline and dashes, not colour alone) and written into it.

Every number on the page is text the document already holds, or the journal's values
formatted by :func:`deltarule.formatting.fmt`: the page only shows and hides; it never
computes. The data travel as JSON in a ``<script type="application/json">`` with ``<``,
``>``, ``&``, U+2028 and U+2029 escaped, and the script shows every text from the file
with ``textContent``. A Content-Security-Policy allows no network access and only the
page's own script (by its hash).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from importlib import resources

from ..formatting import fmt
from .document import Document, Equation, Heading, Math, Note, Paragraph

PHASES = ("forward", "loss", "backward", "gradients", "update", "after")
MAX_JOURNAL_ROWS = 501  # rows of the journal embedded (evenly spaced, first and last kept)
PENDING = "?"           # what a quantity not computed yet shows in the diagram

# the left-hand side of a line of the worked solution -> (kind, layer, unit, input)
_LHS = [
    (re.compile(r"^([za])(\d+)\[(\d+)\]$"), None),
    (re.compile(r"^dL/da(\d+)\[(\d+)\]$"), "dL_da"),
    (re.compile(r"^δ(\d+)\[(\d+)\]$"), "delta"),
    (re.compile(r"^\S+'\(z(\d+)\[(\d+)\]\)$"), "fprime"),
    (re.compile(r"^dW(\d+)\[(\d+),(\d+)\]$"), "dW"),
    (re.compile(r"^db(\d+)\[(\d+)\]$"), "db"),
    (re.compile(r"^W(\d+)_new\[(\d+),(\d+)\]$"), "W_new"),
    (re.compile(r"^b(\d+)_new\[(\d+)\]$"), "b_new"),
    (re.compile(r"^([za]|δ|dL/da|dW|db|W|b)(\d+)(_new|')?$"), "vector"),
]
_PHASE = {"z": "forward", "a": "forward", "loss": "loss", "losses": "loss", "dL_da": "backward",
          "fprime": "backward", "delta": "backward", "dW": "gradients", "db": "gradients",
          "W_new": "update", "b_new": "update", "loss_after": "after"}
_BADGE = {"dL_da": "∂L/∂a", "delta": "δ"}


def parse_lhs(text: str) -> tuple[str, int | None, int | None, int | None]:
    """(kind, layer, unit, input) of a line's left-hand side: ``z1[2]`` -> ('z', 1, 2, None).

    Kinds are the canonical names' stems (``z``, ``a``, ``dL_da``, ``fprime``, ``delta``,
    ``dW``, ``db``, ``W_new``, ``b_new``, ``loss``, ``losses``, ``loss_after``), ``vector``
    for a whole layer (matrix style, and the values after the update), ``other`` else.
    """
    text = text.strip()
    if text in ("L", "L'"):
        return ("loss" if text == "L" else "loss_after"), None, None, None
    m = re.match(r"^L\[(\d+)\]$", text)
    if m:
        return "losses", None, int(m.group(1)), None
    for rx, kind in _LHS:
        m = rx.match(text)
        if not m:
            continue
        if kind is None:
            return m.group(1), int(m.group(2)), int(m.group(3)), None
        if kind == "vector":
            return kind, int(m.group(2)), None, None
        nums = [int(g) for g in m.groups()] + [None]
        return kind, nums[0], nums[1], nums[2]
    return "other", None, None, None


def canonical(kind: str, l: int | None, i: int | None, j: int | None) -> str | None:
    """The canonical name (``dL_da2[1]``, ``W1_new[1,2]``) of a parsed left-hand side."""
    if kind in ("loss", "loss_after"):
        return kind
    if kind in ("vector", "other") or l is None:
        return None
    stem = {"W_new": f"W{l}_new", "b_new": f"b{l}_new"}.get(kind, f"{kind}{l}")
    return f"{stem}[{i},{j}]" if j is not None else f"{stem}[{i}]"


def _text(m: Math | None) -> str:
    return "" if m is None else m.text


# -- what a line does to the diagram -------------------------------------------------------------
def _neuron(kind, l, i, j, result, sizes, lhs) -> tuple[list, list, list]:
    """z and a are written in the neuron; dL/da, f'(z), then δ take z's place (the backward
    pass no longer needs z), so δ stands in the neuron during the gradients."""
    hl = [f"unit:{l}[{i}]", f"name:a{l}[{i}]" if kind == "a" else f"name:z{l}[{i}]"]
    if kind == "z":  # the edges whose weights the sum takes
        hl += [f"edge:W{l}[{i},{k}]" for k in range(1, sizes[l - 1] + 1)]
    if kind == "dL_da" and l < len(sizes) - 1:  # the deltas of the layer above flow back along these
        hl += [f"edge:W{l + 1}[{k},{i}]" for k in range(1, sizes[l + 1] + 1)]
    label = {"z": "z", "a": "a", "dL_da": "∂L/∂a", "delta": "δ"}.get(kind) or lhs.split("(")[0].replace("'", "′")
    return hl, [[f"{'a' if kind == 'a' else 'z'}{l}[{i}]", f"{label} {result}"]], []


def _parameter(kind, l, i, j, result, sizes, lhs) -> tuple[list, list, list]:
    """A gradient is written under its parameter; then the new value (``→ 0.386``) takes the
    gradient's place, under the old value: before and after on the same edge."""
    mark = "∂" if kind in ("dW", "db") else "→"
    if kind in ("dW", "W_new"):
        w = f"W{l}[{i},{j}]"
        return [f"edge:{w}", f"name:{w}", f"name:d{w}", f"unit:{l}[{i}]"], [[f"d{w}", f"{mark} {result}"]], []
    b = f"b{l}[{i}]"
    return [f"unit:{l}[{i}]", f"name:{b}", f"name:d{b}"], [[f"d{b}", f"{mark} {result}"]], []


def _loss(kind, l, i, j, result, sizes, lhs) -> tuple[list, list, list]:
    """The loss is shown beside the (first) output neuron, every output neuron highlighted."""
    L = len(sizes) - 1
    label = {"loss": "L", "losses": f"L[{i}]", "loss_after": "L′"}[kind]
    return [f"unit:{L}[{k}]" for k in range(1, sizes[L] + 1)], [], [[f"{L}[1]", f"{label} = {result}"]]


def _layer(kind, l, i, j, result, sizes, lhs) -> tuple[list, list, list]:
    """A whole layer's line (matrix style, the values after the update): its neurons highlighted."""
    if l is None or not 0 < l < len(sizes):
        return [], [], []
    return [f"unit:{l}[{k}]" for k in range(1, sizes[l] + 1)], [], []


_EFFECTS = {"z": _neuron, "a": _neuron, "dL_da": _neuron, "fprime": _neuron, "delta": _neuron,
            "dW": _parameter, "W_new": _parameter, "db": _parameter, "b_new": _parameter,
            "loss": _loss, "losses": _loss, "loss_after": _loss, "vector": _layer}


def _effects(kind: str, l, i, j, result: str, sizes, lhs: str = "") -> dict:
    """What a line does to the diagram: the highlights (``hl``: ``unit:1[2]``, ``edge:W2[1,2]``,
    ``name:z1[2]``), the texts written into it (``set``: name, text) and the callout beside
    the output (``badge``: unit, text)."""
    f = _EFFECTS.get(kind)
    hl, put, badge = f(kind, l, i, j, result, sizes, lhs) if f else ([], [], [])
    return {"hl": hl, "set": put, "badge": badge}


def _lines(doc: Document, count: int, sizes_of) -> tuple[list[dict], list[dict]]:
    """Every equation of the updates, in the document's order, and per update its notes."""
    lines, updates = [], []
    u, section, example = -2, "", -1  # the first level-2 heading is the problem's, then one per update
    for blk in doc.blocks:
        if isinstance(blk, Heading) and blk.level <= 2:
            u += 1
            if 0 <= u < count:
                updates.append({"heading": blk.text, "notes": [], "pending": []})
                section, example = blk.text, -1
            continue
        if not 0 <= u < count:
            continue
        if isinstance(blk, Heading):
            section = blk.text
            example += blk.text.startswith("Example ") or blk.text == "Forward pass"
        elif isinstance(blk, (Note, Paragraph)):
            updates[u]["notes"].append("".join(_text(p) if isinstance(p, Math) else p for p in blk.parts))
        elif isinstance(blk, Equation):
            lines.append(_line(blk, u, section, max(example, 0), sizes_of(u)))
    return lines, updates


def _line(eq: Equation, u: int, section: str, example: int, sizes) -> dict:
    kind, l, i, j = parse_lhs(eq.lhs.text)
    sides = [m.text for m in eq.sides()]
    result = sides[-1] if eq.result is not None else ""
    if section.startswith("The fully expanded chain"):
        kind = "chain"
    phase = _vector_phase(eq.lhs.text) if kind == "vector" else _PHASE.get(kind, kind)
    if phase == "other" and section == "Update":  # an optimizer's lines: t, vW1[1,1], mW1_hat[1,1], ...
        phase = "update"
    line = {"u": u, "phase": phase,
            "name": canonical(kind, l, i, j), "example": example, "section": section,
            "lhs": eq.lhs.text, "sides": sides, "result": result,
            "text": " = ".join([eq.lhs.text, *sides])}
    effects = _effects(kind, l, i, j, result, sizes, eq.lhs.text) if result and kind != "chain" else \
        {"hl": [], "set": [], "badge": []}
    line = {**line, **effects}
    return line


def _vector_phase(text: str) -> str:
    """The stage of a whole layer's line (matrix style; the values after the update)."""
    m = _LHS[-1][0].match(text.strip())
    if m.group(3) == "'":
        return "after"
    if m.group(3) == "_new":
        return "update"
    return {"z": "forward", "a": "forward", "δ": "backward", "dL/da": "backward"}.get(m.group(1), "gradients")


def _pending(lines: list[dict], updates: list[dict]) -> None:
    """Per update and example, what its diagram shows before its lines: ``?`` for every z, a
    and gradient that one of them computes (the drawn values are that example's own)."""
    seen: set = set()
    for ln in lines:
        for name, text in ln["set"]:
            key = (ln["u"], ln["example"], name)
            if key not in seen:  # the first text a name gets: z before δ
                seen.add(key)
                updates[ln["u"]]["pending"].append([ln["example"], name, text.split(" ")[0] + " " + PENDING])


# -- the journal ----------------------------------------------------------------------------------
def _journal(journal, decimals: int, sizes) -> dict | None:
    """The epochs, their losses and every parameter's value, formatted; the loss curve's points."""
    if journal is None or len(journal) == 0:
        return None
    cols = list(journal.columns)
    params = [k for k, c in enumerate(cols) if re.match(r"^(w|b|[Wb]\d+\[.*)$", c)]
    rows = journal.rows
    keep = _every(len(rows))
    loss = [float(rows[k, 1]) for k in keep]
    diagram_names = [_diagram_name(cols[k], sizes) for k in params]
    return {"epochs": [int(rows[k, 0]) for k in keep], "loss": [fmt(v, decimals) for v in loss],
            "names": [cols[k] for k in params], "diagram": diagram_names,
            "values": [[fmt(float(rows[r, k]), decimals) for k in params] for r in keep],
            "curve": _curve(loss), "total": len(rows)}


def _every(n: int) -> list[int]:
    """The rows embedded: all, or MAX_JOURNAL_ROWS evenly spaced ones with the first and last."""
    if n <= MAX_JOURNAL_ROWS:
        return list(range(n))
    return sorted({round(k * (n - 1) / (MAX_JOURNAL_ROWS - 1)) for k in range(MAX_JOURNAL_ROWS)})


def _diagram_name(col: str, sizes) -> str:
    """The diagram's name of a journal column (``w`` and ``b`` of a single neuron are W1[1,1], b1[1])."""
    if tuple(sizes) == (1, 1):
        return {"w": "W1[1,1]", "b": "b1[1]"}.get(col, col)
    return col


CURVE_W, CURVE_H, CURVE_PAD = 520, 200, 36


def _curve(loss: list[float]) -> dict:
    """Pixel positions of the loss curve (a picture's scale, not a model value)."""
    lo, hi = min(loss), max(loss)
    span = hi - lo if hi > lo else 1.0
    n = max(len(loss) - 1, 1)
    xs = [CURVE_PAD + (CURVE_W - 2 * CURVE_PAD) * k / n for k in range(len(loss))]
    ys = [CURVE_H - CURVE_PAD - (CURVE_H - 2 * CURVE_PAD) * (v - lo) / span for v in loss]
    return {"points": [[round(x, 1), round(y, 1)] for x, y in zip(xs, ys)], "lo": lo, "hi": hi}


# -- the page ---------------------------------------------------------------------------------------
def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def script_json(data) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>``, ``&``, U+2028 or U+2029 left raw."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


def page_data(problem, steps, doc: Document, decimals: int, journal=None) -> dict:
    """Everything the page shows, as plain data (see the module docstring)."""
    sizes = [tuple(s.before.sizes) for s in steps]
    lines, updates = _lines(doc, len(steps), lambda u: sizes[u])
    _pending(lines, updates)
    return {"title": doc.title, "decimals": decimals, "phases": list(PHASES), "lines": lines,
            "updates": updates, "journal": _journal(journal, decimals, sizes[0])}


def figures(steps, title: str, decimals: int) -> list[dict]:
    """One diagram per update and example shown (a batch's examples each have their own x):
    ``{"update": k, "example": e, "svg": ...}`` (the SVG escapes every text it holds)."""
    from ..diagram import network_svg
    from .build import MAX_EXAMPLES

    out = []
    for k, step in enumerate(steps):
        n = min(len(step.examples), MAX_EXAMPLES)
        for e in range(n):
            which = f" · example {step.examples[e] + 1}" if n > 1 else ""
            svg = network_svg(step, decimals, example=e, title=f"{title} · update {k + 1}{which}")
            out.append({"update": k, "example": e, "svg": svg})
    return out


def _figures(steps, doc: Document, decimals: int) -> str:
    return "\n".join(f'<figure class="update" data-update="{f["update"]}" data-example="{f["example"]}"'
                     f'{" hidden" if f["update"] or f["example"] else ""}>{f["svg"]}</figure>'
                     for f in figures(steps, doc.title, decimals))


def _worked(data: dict) -> str:
    """Every line, as an ordered list (what prints, and what a reader without scripts sees)."""
    items = []
    for k, ln in enumerate(data["lines"]):
        head = ""
        if k == 0 or data["lines"][k - 1]["u"] != ln["u"]:
            head = f'<li class="upd" aria-hidden="true">{escape(data["updates"][ln["u"]]["heading"])}</li>'
        items.append(f'{head}<li id="line-{k}" value="{k + 1}" data-phase="{ln["phase"]}"><code>{escape(ln["text"])}</code></li>')
    return "\n".join(items)


def _epochs(problem, steps, data: dict, decimals: int) -> str:
    j = data["journal"]
    if j is None:
        return ""
    from ..diagram import network_svg

    pts = " ".join(f"{x},{y}" for x, y in j["curve"]["points"])
    n = len(j["epochs"])
    rows = "".join(f'<tr><th scope="row">{escape(nm)}</th><td data-param="{k}">{escape(v)}</td></tr>'
                   for k, (nm, v) in enumerate(zip(j["names"], j["values"][-1])))
    svg = network_svg(steps[0].before, decimals, title=f"{data['title']} · parameters at the chosen epoch")
    lo, hi = fmt(j["curve"]["lo"], decimals), fmt(j["curve"]["hi"], decimals)
    sample = "" if n == j["total"] else \
        f'\n<p class="help">{n} of the journal\'s {j["total"]} rows, evenly spaced (the first and the last among them).</p>'
    return f"""<section id="training" aria-labelledby="training-h">
<h2 id="training-h">Training, epoch by epoch</h2>
<p><label for="epoch">Epoch</label> <input type="range" id="epoch" min="0" max="{n - 1}" value="{n - 1}" step="1">
<output id="epoch-out" for="epoch"></output></p>{sample}
<div class="train">
<svg class="curve" viewBox="0 0 {CURVE_W} {CURVE_H}" width="{CURVE_W}" height="{CURVE_H}" role="img"
 aria-label="the loss after each epoch, from {escape(hi)} at most to {escape(lo)} at least">
<rect width="100%" height="100%" fill="#fff"/>
<line x1="{CURVE_PAD}" y1="{CURVE_H - CURVE_PAD}" x2="{CURVE_W - CURVE_PAD}" y2="{CURVE_H - CURVE_PAD}" class="axis"/>
<line x1="{CURVE_PAD}" y1="{CURVE_PAD}" x2="{CURVE_PAD}" y2="{CURVE_H - CURVE_PAD}" class="axis"/>
<text x="{CURVE_PAD - 4}" y="{CURVE_PAD + 4}" text-anchor="end">{escape(hi)}</text>
<text x="{CURVE_PAD - 4}" y="{CURVE_H - CURVE_PAD + 4}" text-anchor="end">{escape(lo)}</text>
<text x="{CURVE_W / 2}" y="{CURVE_H - 8}" text-anchor="middle">epoch {j["epochs"][0]} to {j["epochs"][-1]}</text>
<polyline points="{pts}" class="loss"/>
<circle id="epoch-dot" r="6" cx="0" cy="0" class="dot"/>
</svg>
<table class="params"><thead><tr><th scope="col">parameter</th><th scope="col">value</th></tr></thead>
<tbody>{rows}</tbody></table>
</div>
<figure class="epoch-net">{svg}</figure>
</section>"""


def _field(label: str, path: list, value) -> str:
    return (f'<label><span>{escape(label)}</span><input type="text" inputmode="decimal" size="7" '
            f'data-path="{escape(json.dumps(path), quote=True)}" value="{escape(repr(value) if isinstance(value, float) else str(value), quote=True)}"></label>')


def _choice(label: str, path: list, value: str, options) -> str:
    opts = "".join(f'<option{" selected" if o == value else ""}>{escape(o)}</option>' for o in options)
    return (f'<label><span>{escape(label)}</span><select data-path="{escape(json.dumps(path), quote=True)}">'
            f'{opts}</select></label>')


def _editor(live: dict) -> str:
    """Live mode: a field for every weight, bias, input, target, the learning rate, each
    layer's activation and the loss (the page sends the edited problem; the server solves it)."""
    doc = live["problem"]
    parts = []
    for l, lay in enumerate(doc["layers"], start=1):
        cells = [_choice(f"layer {l} activation", ["layers", l - 1, "activation"], lay["activation"], live["activations"])]
        cells += [_field(f"W{l}[{i + 1},{j + 1}]", ["layers", l - 1, "weights", i, j], v)
                  for i, row in enumerate(lay["weights"]) for j, v in enumerate(row)]
        cells += [_field(f"b{l}[{i + 1}]", ["layers", l - 1, "biases", i], v) for i, v in enumerate(lay["biases"])]
        parts.append(f'<fieldset><legend>Layer {l}</legend>{"".join(cells)}</fieldset>')
    data = doc["data"]
    cells = [_field(f"x{e + 1}[{j + 1}]", ["data", "inputs", e, j], v) for e, row in enumerate(data["inputs"]) for j, v in enumerate(row)]
    cells += [_field(f"y{e + 1}[{k + 1}]", ["data", "targets", e, k], v) for e, row in enumerate(data["targets"]) for k, v in enumerate(row)]
    parts.append(f'<fieldset><legend>Data (example e: x<sub>e</sub>, y<sub>e</sub>)</legend>{"".join(cells)}</fieldset>')
    parts.append('<fieldset><legend>Loss and learning rate</legend>'
                 + _choice("loss", ["loss"], doc["loss"], live["losses"])
                 + _field("learning rate η", ["learning_rate"], doc["learning_rate"]) + "</fieldset>")
    return f"""<section id="live-edit" aria-labelledby="live-h">
<h2 id="live-h">Change the numbers</h2>
<form id="editor" novalidate>{"".join(parts)}
<div class="controls"><button type="submit" id="apply">Apply the change (Enter)</button>
<button type="reset" id="reset">Back to the file's numbers</button>
<button type="button" id="download">Save the edited problem (JSON)</button></div>
<p id="edit-status" role="status" aria-live="polite"></p>
</form>
</section>"""


def render(problem, steps, doc: Document, decimals: int, journal=None, live: dict | None = None) -> str:
    """The interactive page of ``steps`` (their worked solution ``doc``), with the epoch
    slider over ``journal`` if given. ``live`` (``deltarule serve``): ``problem`` (the
    problem as a document), ``activations``, ``losses`` (the choices), ``endpoint`` (where
    the edited problem is sent) add the editor."""
    data = page_data(problem, steps, doc, decimals, journal)
    if live:
        data["live"] = {"problem": live["problem"], "endpoint": live["endpoint"]}
    script = _asset("interactive.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           f"script-src 'sha256-{digest}'" + ("; connect-src 'self'" if live else ""))
    title = escape(doc.title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="deltarule">
<title>{title} · step by step</title>
<style>{_asset("interactive.css")}</style>
</head>
<body>
<a class="skip" href="#worked">Skip to the whole worked solution</a>
<header><h1>{title}</h1>
<p class="help">Step through the worked solution one line at a time: <kbd>→</kbd> <kbd>n</kbd> or
<kbd>space</kbd> for the next line, <kbd>←</kbd> or <kbd>p</kbd> for the previous one.
The quantity of the current line is outlined with a thick dashed line in the diagram; numbers
not computed yet show as {PENDING}; in the update, → marks a parameter's new value, under its old one.</p></header>
<main>
<div class="stage" id="stage">{_figures(steps, doc, decimals)}</div>
<aside class="panel" aria-labelledby="panel-h">
<h2 id="panel-h" class="where" data-testid="where">Before the first update</h2>
<ol class="phases" aria-label="the stages of a pass">{"".join(f'<li data-phase="{p}">{p}</li>' for p in PHASES)}</ol>
<div id="eq" class="eq" data-name="" data-example=""><p id="eq-lhs" class="lhs"></p><ol id="eq-sides" class="sides"></ol></div>
<p id="note" class="note" hidden></p>
<div class="controls" role="group" aria-label="step through the solution">
<button type="button" id="first" aria-label="back to the start (Home)">« Start</button>
<button type="button" id="prev" aria-label="previous line (left arrow or p)" aria-keyshortcuts="ArrowLeft p">← Previous</button>
<button type="button" id="next" aria-label="next line (right arrow, n or space)" aria-keyshortcuts="ArrowRight n Space">Next →</button>
<button type="button" id="next-update" aria-label="the next update">Next update »</button>
</div>
<p id="count" class="count"></p>
<p id="live" class="sr-only" aria-live="polite" aria-atomic="true"></p>
</aside>
</main>
{_editor(live) if live else ""}{_epochs(problem, steps, data, decimals)}
<section id="worked" aria-labelledby="worked-h">
<h2 id="worked-h">Every line of the worked solution</h2>
<ol class="worked" id="worked-list">{_worked(data)}</ol>
</section>
<script type="application/json" id="deltarule-data">{script_json(data)}</script>
<script>{script}</script>
</body>
</html>
"""


class Interactive:
    """The interactive page; in Jupyter it displays inline (an iframe of the page, no server)."""

    def __init__(self, page: str, height: int = 760):
        self.page, self.height = page, height

    def _repr_html_(self) -> str:
        # srcdoc holds the whole page, escaped as an attribute; the sandbox lets its own
        # script run but gives it no access to the notebook (no same origin).
        return (f'<iframe srcdoc="{escape(self.page, quote=True)}" sandbox="allow-scripts" '
                f'style="width:100%;height:{self.height}px;border:1px solid #c9d6e3" '
                f'title="interactive worked solution"></iframe>')

    def save(self, path: str) -> None:
        """Write the page to ``path`` atomically."""
        from ..io import write_text

        write_text(path, self.page)

    def __str__(self) -> str:
        return self.page
