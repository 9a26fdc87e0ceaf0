"""Question sheets (HTML, LaTeX), keys and blank answers files for one exercise.

A sheet is the question only: the network, its numbers, what to compute and the
conventions (loss, reduction, learning rate, decimals) — never a computed value. The key
is the worked solution that ``deltarule solve`` writes, with a line saying that the
exercise is round-safe. Numbers given on a sheet are shown exactly as drawn.
"""
from __future__ import annotations

import re
from html import escape

import numpy as np

from ..formatting import fmt

CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45;color:#111;
  max-width:50rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;border-bottom:2px solid #1f4e79}h2{font-size:1.15rem;color:#1f4e79;margin-top:1.4rem}
table{border-collapse:collapse;margin:.4rem 0 .4rem 1rem}td,th{padding:.15rem .55rem;text-align:right}
table.m td{border:none}table.m{border-left:2px solid #111;border-right:2px solid #111}
table.grid td,table.grid th{border:1px solid #9ab;text-align:left}td.blank{min-width:12rem}
.sheet{break-after:page;page-break-after:always}.note{color:#444}
@media print{body{max-width:none;padding:0;font-size:11pt}}"""

MEANING = {
    "z": "the pre-activations z = W a + b of layer {l}",
    "a": "the activations a = f(z) of layer {l}",
    "fprime": "the local slopes f′(z) of layer {l}",
    "dL_da": "∂L/∂a, the loss's derivative by the activations of layer {l}",
    "delta": "δ = ∂L/∂z, the deltas of layer {l}",
    "dW": "∂L/∂W, the gradient of layer {l}'s weights",
    "db": "∂L/∂b, the gradient of layer {l}'s biases",
    "W_new": "the weights of layer {l} after the update",
    "b_new": "the biases of layer {l} after the update",
    "loss": "the loss before the update",
    "loss_after": "the loss after the update (same examples)",
    "losses": "each example's loss before the update",
    "t": "the optimizer's step count t after the update",
}
_STATE = {"v": "the velocity", "m": "the first moment", "s": "the second moment"}
for _m, _what in _STATE.items():
    for _p, _of in (("W", "weights"), ("b", "biases")):
        MEANING[f"{_m}{_p}"] = f"{_what} of layer {{l}}'s {_of} after the update"
        MEANING[f"{_m}{_p}_hat"] = f"{_what} of layer {{l}}'s {_of}, bias-corrected"
TEX = {"z": "z^{{({l})}}", "a": "a^{{({l})}}", "fprime": "f'(z^{{({l})}})",
       "dL_da": r"\partial L / \partial a^{{({l})}}", "delta": r"\delta^{{({l})}}",
       "dW": r"\partial L / \partial W^{{({l})}}", "db": r"\partial L / \partial b^{{({l})}}",
       "W_new": "{{W^{{({l})}}}}'", "b_new": "{{b^{{({l})}}}}'", "loss": "L", "loss_after": "L'",
       "losses": "L_i", "t": "t"}
TEX.update({f"{m}{p}{hat}": (r"\hat " if hat else "") + f"{m}_{{{{{p}^{{{{({{l}})}}}}}}}}"
            for m in "vms" for p in "Wb" for hat in ("", "_hat")})
_SPLIT = re.compile(r"^(?:(z|a|fprime|dL_da|delta|dW|db|[vms][Wb])(\d+)(_hat)?|([Wb])(\d+)_new"
                    r"|(loss|loss_after|losses|t))$")


def split(name: str) -> tuple[str, int]:
    """``dW2`` -> ('dW', 2); ``W1_new`` -> ('W_new', 1); ``mW1_hat`` -> ('mW_hat', 1); ``loss`` -> ('loss', 0)."""
    m = _SPLIT.match(name)
    if m.group(1):
        return m.group(1) + (m.group(3) or ""), int(m.group(2))
    if m.group(4):
        return f"{m.group(4)}_new", int(m.group(5))
    return m.group(6), 0


def meaning(name: str) -> str:
    kind, l = split(name)
    return MEANING[kind].format(l=l)


def tex_label(name: str) -> str:
    kind, l = split(name)
    return TEX[kind].format(l=l)


def given(v: float) -> str:
    """A given number exactly as drawn (no padding, no float noise): 0.15, -1, 0.5."""
    return format(float(v), ".12g")


def entries(name: str, value) -> list[tuple[str, float]]:
    """(label, value) of each entry: ``dW1[1,2]`` (1-based, as answers files index them)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return [(name, float(arr))]
    return [(f"{name}[{','.join(str(i + 1) for i in idx)}]", float(v)) for idx, v in np.ndenumerate(arr)]


def shape_text(value) -> str:
    shape = np.shape(value)
    if not shape:
        return "a number"
    if len(shape) == 1:
        return f"{shape[0]} number{'s' if shape[0] != 1 else ''}"
    return f"{shape[0]} × {shape[1]}"


def blank(value):
    """Nulls in the shape of ``value`` (a number -> None, a vector -> [None, ...], ...)."""
    arr = np.asarray(value)
    return None if arr.ndim == 0 else np.full(arr.shape, None, dtype=object).tolist()


# -- the question, as text pieces shared by the renderers --------------------------------------------
def conventions(problem) -> list[tuple[str, str]]:
    """(plain text, TeX-able text) paragraphs stating the network and every convention."""
    net = problem.network
    step_examples = problem.steps(1)[0].examples
    acts = ", ".join(f"layer {l}: {lay.activation.name}" for l, lay in enumerate(net.layers, 1))
    out = [((f"Network {'-'.join(map(str, net.sizes))} ({acts}). In every layer z = W a + b and a = f(z); "
            "W has one row per neuron; a0 = x is the input, the last layer's a is the output ŷ."), "")]
    seen = []
    for lay in net.layers:
        f = lay.activation
        if f.name not in seen:
            seen.append(f.name)
            out.append((f"Activation {f.name}: {f.text}, with {f.text_derivative}.",
                        rf"Activation {f.name}: \({f.latex}\), with \({f.latex_derivative}\)."))
    loss = net.loss
    n = len(step_examples)
    red = ("the mean of the examples' losses" if net.reduction == "mean" else "the sum of the examples' losses")
    out.append((f"Loss {loss.name} ({loss.description}): {loss.text}; over a batch, {red}.",
                rf"Loss {loss.name} ({loss.description}): \({loss.latex}\); over a batch, {red}."))
    which = ", ".join(str(i + 1) for i in step_examples)
    opt = problem.optimization.optimizer
    if opt is None or not opt.moments:
        out.append(((f"One update of gradient descent, θ ← θ − η ∂L/∂θ, with learning rate η = "
                    f"{given(problem.learning_rate)}, on example{'s' if n > 1 else ''} {which}."), ""))
    else:
        text, tex = _optimizer_text(opt, problem.learning_rate)
        on = f" On example{'s' if n > 1 else ''} {which}."
        out.append((text + on, tex + on))
    d = problem.decimals
    out.append(((f"Give every answer to {d} decimals. Round every number you compute to {d} decimals "
                f"(halves away from zero, e.g. {fmt(0.5 * 10 ** -d, d)} for {0.5 * 10 ** -d:.{d + 1}f}) and "
                f"compute each next number from the rounded ones, as the notes do: the numbers of this "
                f"exercise are chosen so that this gives exactly the key's answers."), ""))
    return out


_SYMBOLS = {"momentum": ("μ", r"\mu"), "alpha": ("ρ", r"\rho"), "beta1": ("β1", r"\beta_1"),
            "beta2": ("β2", r"\beta_2"), "eps": ("ε", r"\epsilon"), "weight_decay": ("λ", r"\lambda")}


def _setting(key: str, value, tex: bool) -> str:
    """``momentum μ = 0.9`` (in TeX ``momentum \\(\\mu = 0.9\\)``), ``nesterov = true``."""
    if key not in _SYMBOLS:
        return f"{key} = {str(value).lower()}"
    symbol = _SYMBOLS[key][1 if tex else 0]
    return f"{key} \\({symbol} = {given(value)}\\)" if tex else f"{key} {symbol} = {given(value)}"


def _optimizer_text(opt, lr: float) -> tuple[str, str]:
    """The optimizer's first update in words, plain and with TeX mathematics in \\( \\): its settings
    and its own formulas (Optimizer.formulas)."""
    rules = opt.formulas("W")
    tail = f"; the biases b likewise{' without the decay' if opt.name == 'adamw' else ''}."
    out = []
    for tex in (False, True):
        settings = ", ".join(_setting(k, v, tex) for k, v in opt.settings().items() if k != "name")
        rate = f"\\(\\eta = {given(lr)}\\)" if tex else f"η = {given(lr)}"
        lines = "; ".join(f"\\({latex}\\)" if tex else text for latex, text in rules)
        out.append(f"One update with the {opt.name} optimizer ({settings}), learning rate {rate}, its state "
                   f"starting at zero (t = 1): for the weights W of each layer {lines}{tail}")
    return out[0], out[1]


def givens(problem) -> list[tuple[str, str, np.ndarray]]:
    """(text name, TeX name, array) of every given parameter."""
    out = []
    for l, lay in enumerate(problem.network.layers, start=1):
        out.append((f"W{l}", f"W^{{({l})}}", np.asarray(lay.W)))
        out.append((f"b{l}", f"b^{{({l})}}", np.asarray(lay.b)))
    return out


def data_rows(problem) -> tuple[list[str], list[list[str]]]:
    x, y = problem.x, problem.y
    header = ["example"] + [f"x{j + 1}" for j in range(x.shape[1])] + [f"y{k + 1}" for k in range(y.shape[1])]
    return header, [[str(i + 1)] + [given(v) for v in x[i]] + [given(v) for v in y[i]] for i in range(len(x))]


# -- HTML ---------------------------------------------------------------------------------------------
def _matrix_html(arr: np.ndarray) -> str:
    rows = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    body = "".join("<tr>" + "".join(f"<td>{given(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f'<table class="m">{body}</table>'


def sheet_body(exercise, cloze=None) -> str:
    """The sheet as an HTML fragment; ``cloze(name, value)`` fills the answer cells (the quiz)."""
    p, ex = exercise.problem, exercise
    who = f" — {escape(clean_text(ex.student))}" if ex.student not in (None, ex.id) else ""
    parts = [f'<h1>Exercise {escape(ex.id)}{who}</h1>', "<h2>The problem</h2>"]
    for text, tex in conventions(p):
        parts.append(f"<p>{escape(tex if cloze and tex else text, quote=False)}</p>")
    parts.append("<h2>Given</h2>")
    for name, tex, arr in givens(p):
        label = rf"\({tex}\)" if cloze else name
        parts.append(f"<p>{escape(label)} =</p>{_matrix_html(arr)}")
    header, rows = data_rows(p)
    parts.append('<table class="grid"><tr>' + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
                 + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>")
    parts.append("<h2>Compute</h2>")
    if cloze is None:
        parts.append('<table class="grid"><tr><th>name</th><th>what</th><th>size</th><th>your answer</th></tr>')
        for name in ex.asked:
            parts.append(f"<tr><td><code>{name}</code></td><td>{escape(meaning(name))}</td>"
                         f"<td>{shape_text(ex.values[name])}</td><td class=\"blank\"></td></tr>")
        parts.append("</table><p class=\"note\">Hand in the answers file <code>answers.yaml</code> with "
                     "your numbers in place of the nulls (one list per row).</p>")
    else:
        parts.append('<table class="grid"><tr><th>entry</th><th>what</th><th>answer</th></tr>')
        for name in ex.asked:
            for label, v in entries(name, ex.values[name]):
                parts.append(f"<tr><td><code>{label}</code></td><td>{escape(meaning(name))}</td>"
                             f"<td>{cloze(name, label, v)}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def page(title: str, body: str) -> str:
    """A self-contained, printable HTML page."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def sheet_html(exercise) -> str:
    return page(f"Exercise {exercise.id}", sheet_body(exercise))


def index_html(exercises, title: str) -> str:
    """Every sheet in one printable page, one sheet per printed page."""
    body = "\n".join(f'<section class="sheet">{sheet_body(e)}</section>' for e in exercises)
    return page(title, body)


# -- LaTeX ---------------------------------------------------------------------------------------------
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
                "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}"}
_UNICODE_TEX = {"ŷ": r"$\hat{y}$", "θ": r"$\theta$", "η": r"$\eta$", "∂": r"$\partial$", "δ": r"$\delta$",
                "←": r"$\leftarrow$", "−": "-", "′": "'", "×": r"$\times$", "—": "---"}


def clean_text(text) -> str:
    """Text without control characters (a hostile student id stays one harmless line)."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def tex_escape(text: str) -> str:
    """Plain text for LaTeX: specials escaped, a few symbols as math, Latin-1 letters kept (inputenc
    knows them), any other non-ASCII character shown as '?'."""
    out = []
    for ch in clean_text(text):
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch in _UNICODE_TEX:
            out.append(_UNICODE_TEX[ch])
        else:
            out.append(ch if ord(ch) < 128 or (ord(ch) < 256 and ch.isalpha()) else "?")
    return "".join(out)


def _matrix_tex(arr: np.ndarray) -> str:
    rows = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(given(v) for v in r) for r in rows) + r" \end{bmatrix}"


def _para_tex(text: str, tex: str) -> str:
    if not tex:
        return tex_escape(text)
    pieces = re.split(r"(\\\(.*?\\\))", tex)  # keep the mathematics, escape the words
    return "".join(f"${p[2:-2]}$" if p.startswith(r"\(") else tex_escape(p) for p in pieces)


def sheet_tex(exercise) -> str:
    """The sheet as a LaTeX article (amsmath only)."""
    p, ex = exercise.problem, exercise
    who = f" --- {tex_escape(ex.student)}" if ex.student not in (None, ex.id) else ""
    lines = [r"\documentclass[11pt]{article}", r"\usepackage[utf8]{inputenc}", r"\usepackage{amsmath,amssymb}",
             r"\usepackage[margin=2cm]{geometry}", r"\setlength{\parindent}{0pt}", r"\setlength{\parskip}{0.5em}",
             r"\begin{document}", rf"\section*{{Exercise {tex_escape(ex.id)}{who}}}", r"\subsection*{The problem}"]
    lines += [_para_tex(text, tex) + "\n" for text, tex in conventions(p)]
    lines.append(r"\subsection*{Given}")
    lines += [rf"\[ {tex} = {_matrix_tex(arr)} \]" for _, tex, arr in givens(p)]
    header, rows = data_rows(p)
    lines.append(r"\begin{tabular}{" + "r" * len(header) + "}")
    lines.append(" & ".join(header) + r" \\ \hline")
    lines += [" & ".join(r) + r" \\" for r in rows]
    lines.append(r"\end{tabular}")
    lines.append(r"\subsection*{Compute}")
    lines.append(r"\begin{tabular}{lllp{5cm}}")
    lines.append(r"name & what & size & your answer \\ \hline")
    for name in ex.asked:
        lines.append(rf"\texttt{{{tex_escape(name)}}} & ${tex_label(name)}$ & {tex_escape(shape_text(ex.values[name]))} "
                     r"& \\[1.5em]")
    lines.append(r"\end{tabular}")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


# -- keys and blank answers ------------------------------------------------------------------------------
def roundsafe_note(decimals: int) -> str:
    return (f"Round-safe at {decimals} decimals: every asked value is at least 0.1 of a unit in the "
            f"{_ordinal(decimals)} decimal away from a rounding boundary, none shows as zero unless allowed, "
            f"and rounding every number of the working to {decimals} decimals, each computed from the "
            f"rounded numbers before it, gives the same answers as full precision.")


def _ordinal(d: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(d, f"{d}th")


def key_html(solution, decimals: int) -> str:
    page_ = solution.to_html()
    note = f'<aside class="remark"><strong>Round-safe.</strong> {escape(roundsafe_note(decimals))}</aside>'
    at = page_.find("</h1>")
    return page_[:at + 5] + "\n" + note + page_[at + 5:] if at >= 0 else page_.replace("<body>", "<body>" + note, 1)


def key_tex(solution, decimals: int) -> str:
    tex = solution.to_latex()
    note = r"\paragraph{Round-safe.} " + tex_escape(roundsafe_note(decimals)) + "\n"
    m = re.search(r"\\section\*\{.*\}\n", tex)
    at = m.end() if m else tex.find(r"\begin{document}") + len(r"\begin{document}\n")
    return tex[:at] + note + tex[at:]


def blank_answers(exercise) -> dict:
    """The answers file to hand out: student, exercise, decimals, every asked name as nulls."""
    return {"student": exercise.student,  # None without a roster: the student writes their name
            "exercise": exercise.id, "decimals": exercise.problem.decimals,
            "answers": {name: blank(exercise.values[name]) for name in exercise.asked}}
