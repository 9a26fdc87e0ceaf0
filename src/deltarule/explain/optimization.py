"""The optimizer's part of a worked solution: its rule, the epoch's rate, the state lines, L2.

The formulas are the optimizer's own (:meth:`deltarule.optimizers.Optimizer.formulas`, the
registry is the one place they are written) and the schedule's (``text()``/``latex()``);
every number is read from the :class:`~deltarule.trace.Step` (the state before and after, the
``_hat`` values, AdamW's decayed weights, λ and the penalty). A line is written as the notes
write it by hand: ``vW1[1,1] = μ·vW1[1,1] + dW1[1,1] = 0.9·0 + 0.0004 = 0.0004``. The names on
the right of a line are read in order: a state the lines before have set has its new value
(``W1_new = W1 - η·vW1`` uses the velocity just computed), any other its value before the step.
This module arranges numbers; it computes none.
"""
from __future__ import annotations

import re

import numpy as np

from ..formatting import is_tiny, sci
from . import notation as N
from .builder import MAX_TERMS, MAX_UNITS, Builder, exact
from .document import Math, Note, Paragraph

# the optimizer setting each Greek letter of the registry's formulas stands for
SYMBOLS = {"momentum": (r"\mu", "μ"), "alpha": (r"\rho", "ρ"), "beta1": (r"\beta_1", "β1"),
           "beta2": (r"\beta_2", "β2"), "eps": (r"\epsilon", "ε"), "weight_decay": (r"\lambda", "λ")}
L2_TEX = r"\frac{\lambda}{2}\sum_l \lVert W^{(l)} \rVert^2"
L2_TEXT = "(λ/2)·Σ_l ‖W_l‖²"
ETA = Math(r"\eta", "η")


# -- the givens: the rule, the schedule, L2 ---------------------------------------------------------
def rule(B: Builder, step) -> None:
    """The optimizer with its settings and its update of a weight W, the schedule, and L2 (once)."""
    if step.plain:
        return
    opt = step.optimizer
    shown = [_setting(k, v) for k, v in opt.settings().items() if k in SYMBOLS and (v or k != "momentum")]
    if getattr(opt, "nesterov", False):
        shown.append("Nesterov")
    parts: list = [f"Optimizer {opt.name} ({opt.origin}"]
    for k, m in enumerate(shown):
        parts += [": " if k == 0 else ", ", m]
    state = ", state starting at 0" if opt.moments else ""
    B.add(Paragraph((*parts, f"). For a weight W with gradient dW{state}, t counting the steps, "
                     "each update runs, element by element:")))
    for tex, text in opt.formulas("W"):
        (lt, rt), (lx, rx) = tex.split(" = ", 1), text.split(" = ", 1)
        B.eq(Math(lt, lx), Math(rt, rx))
    if "weight_decay" in opt.settings():
        B.add(Note(("Biases alike, without the decay (it is applied to weights only).",)))
    elif opt.moments:
        B.add(Note(("Biases alike, with their own state.",)))
    sched = step.lr_schedule
    if sched is not None:
        B.add(Paragraph((f"Learning-rate schedule {sched.name}, once per epoch e (0-based), ", ETA,
                         " the base rate: ", Math(sched.latex(), sched.text()), ".")))
    if step.l2:
        B.add(Paragraph(("L2 regularization, ", _setting("weight_decay", step.l2),
                         ", on the weights only, not the biases: the loss gains ", Math(L2_TEX, L2_TEXT),
                         ", so every dW gains ", Math(r"\lambda W", "λ·W"), " (db is unchanged).")))


def _setting(key: str, value) -> Math:
    """``μ = 0.9`` (the setting's symbol and exact value)."""
    tex, text = SYMBOLS[key]
    return Math(f"{tex} = {_tex_number(exact(value))}", f"{text} = {exact(value)}")


def rate(B: Builder, step) -> None:
    """The schedule's rate for the step's epoch."""
    if step.plain or step.lr_schedule is None:
        return
    base = exact(step.base_learning_rate)
    B.add(Paragraph((f"Epoch {step.epoch} (e = {step.epoch - 1}): the schedule's rate is ",
                     Math(r"\eta_e = " + exact(step.learning_rate), "η_e = " + exact(step.learning_rate)),
                     " (base ", Math(r"\eta = " + base, "η = " + base), ").")))


def penalty(B: Builder, step) -> None:
    """The loss as both its terms: L = L_data + (λ/2)·Σ‖W‖² (weights only, not biases)."""
    if not step.l2:
        return
    L = Math("L", "L")
    B.eq(L, Math(r"L_{\mathrm{data}} + " + L2_TEX, "L_data + " + L2_TEXT),
         Math(f"{B.s(step.data_loss)} + {B.s(step.penalty)}", f"{B.s(step.data_loss)} + {B.s(step.penalty)}"),
         B.result(step.loss, L))
    B.add(Note(("The penalty counts the weights only, not the biases, with ", _setting("weight_decay", step.l2), ".")))


def penalty_after(B: Builder, step) -> None:
    """Under L2, what L' holds: the data's loss after the update plus the new weights' penalty."""
    if not step.l2 or step.after_trace is None:
        return
    B.add(Note(("L' includes the new weights' penalty: ", B.num(step.after_trace.loss), " + ",
                B.num(step.penalty_after), ".")))


def data_loss_name(step, default: Math) -> Math:
    """L_data for the loss line of a step with L2 (the data's loss), else ``default``."""
    return Math(r"L_{\mathrm{data}}", "L_data") if step.l2 else default


def with_l2(B: Builder, step, l: int, idx, sym, sub):
    """A gradient line's formula and substitution with ``+ λ W`` when L2 is on (idx: (i, j), or None
    for the whole matrix); unchanged otherwise."""
    if not step.l2:
        return sym, sub
    W = step.before.layers[l - 1].W
    lam = exact(step.l2)
    if idx is None:
        sym = sym + Math(r" + \lambda ", " + λ·") + N.vec("W", l)
        return sym, (None if sub is None else sub + f" + {lam}" + B.matrix(W))
    sym = sym + Math(r" + \lambda ", " + λ·") + N.W(l, *idx)
    return sym, (None if sub is None else sub + f" + {lam}·" + B.opnd(W[idx[0] - 1, idx[1] - 1]))


# -- the update: the optimizer's lines ---------------------------------------------------------------
def parameters(B: Builder, step) -> None:
    """Every trainable parameter's update lines (after the frozen notes, which build writes)."""
    t = step.state["t"]
    B.eq(Math("t", "t"), None, None, Math(str(t), str(t)))
    for l, old in enumerate(step.before.layers, start=1):
        for kind, trained, units in (("W", old.train_weights, old.units), ("b", old.train_biases, old.units)):
            if not trained:
                continue
            if B.style == "matrix":
                _lines(B, step, l, kind, None)
                continue
            for i in range(1, min(units, MAX_UNITS) + 1):
                for j in (range(1, min(old.fan_in, MAX_TERMS) + 1) if kind == "W" else (None,)):
                    _lines(B, step, l, kind, (i, j))


def _lines(B: Builder, step, l: int, kind: str, idx) -> None:
    """The optimizer's formulas for parameter ``kind`` of layer l, element idx (or all of it),
    each with its numbers substituted and its result."""
    p = f"{kind}{l}"
    tokens = _tokens(step.optimizer, p)
    env = _before(step, l, kind)
    after = _after(step, l, kind)
    for tex, text in step.optimizer.formulas(p):
        lhs_tex, rhs_tex = tex.split(" = ", 1)
        lhs_text, rhs_text = text.split(" = ", 1)
        key = tokens[1][lhs_text]
        sym = Math(_fill(rhs_tex, tokens[0], lambda k: _symbol(k, l, kind, idx).tex),
                   _fill(rhs_text, tokens[1], lambda k: _symbol(k, l, kind, idx).text))
        sub = Math(_times(_fill(rhs_tex, tokens[0], lambda k: _value(B, step, env, k, idx).tex)),
                   _fill(rhs_text, tokens[1], lambda k: _value(B, step, env, k, idx).text))
        env[key] = after[key]
        name = _symbol(key, l, kind, idx)
        value = after[key] if idx is None else after[key][tuple(i - 1 for i in idx if i is not None)]
        B.eq(name, sym, sub, _shown(B, value, name, idx))


def _tokens(opt, p: str) -> tuple[dict, dict]:
    """The names in the registry's formulas for parameter p -> canonical keys, as LaTeX and as text:
    ``v_{W_{1}}`` / ``vW1`` -> ``vW1``, ``\\eta`` / ``η`` -> ``eta``, ``^t`` -> ``t``, ..."""
    sub = f"{p[0]}_{{{p[1:]}}}"   # how optimizers.formulas writes W1 in LaTeX
    tex, text = {rf"{sub}^{{new}}": f"{p}_new", rf"d{sub}": f"d{p}", sub: p, r"\eta": "eta", "^t": "t"}, \
        {f"{p}_new": f"{p}_new", f"d{p}": f"d{p}", p: p, "η": "eta", "^t": "t"}
    for k in opt.moments:
        tex[rf"{k}_{{{sub}}}"], text[f"{k}{p}"] = f"{k}{p}", f"{k}{p}"
    for k in opt.hats:
        tex[rf"\hat {k}_{{{sub}}}"], text[f"{k}{p}_hat"] = f"{k}{p}_hat", f"{k}{p}_hat"
    for setting, (t_sym, x_sym) in SYMBOLS.items():
        tex[t_sym], text[x_sym] = setting, setting
    return tex, text


def _fill(formula: str, tokens: dict, show) -> str:
    """``formula`` with every token replaced by ``show(key)`` (longest tokens first, left to right)."""
    pattern = re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))
    return pattern.sub(lambda m: show(tokens[m.group(0)]), formula)


# two operands side by side in LaTeX (β_1 m, η\, \frac..., (1 - β_1)\, dW) get a visible product
# once they are numbers: 0.9 \cdot 0.0015, not "0.9 0.0015"
_JUXTAPOSED = re.compile(r"(?<=[\d)}])(?:\s*\\,\s*|\s+)(?=[\d(]|\\frac|\\sqrt|\\begin)")


_DOUBLE_PARENS = re.compile(r"\(\((-[^()]*)\)\)")   # (dW)^2 of a negative dW: ((-0.03))^2 -> (-0.03)^2


def _times(tex: str) -> str:
    return _DOUBLE_PARENS.sub(r"(\1)", _JUXTAPOSED.sub(r" \\cdot ", tex))


def _tex_number(s: str) -> str:
    r"""``1e-08`` -> ``1 \times 10^{-8}`` (a setting's exact form, in LaTeX)."""
    if "e" not in s:
        return s
    mantissa, exponent = s.split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def _before(step, l: int, kind: str) -> dict:
    """The values a line reads before any line has set them: P, dP (with λW), the state before."""
    p = f"{kind}{l}"
    old = step.before.layers[l - 1]
    dW, db = step.gradients()[l - 1]
    env = {p: old.W if kind == "W" else old.b, f"d{p}": dW if kind == "W" else db}
    env.update({f"{k}{p}": step.state_before[f"{k}{p}"] for k in step.optimizer.moments})
    return env


def _after(step, l: int, kind: str) -> dict:
    """What each line sets: the state after, the hats, P_new, and (AdamW) the decayed W."""
    p = f"{kind}{l}"
    new = step.after.layers[l - 1]
    out = {f"{p}_new": new.W if kind == "W" else new.b}
    out.update({f"{k}{p}": step.state[f"{k}{p}"] for k in step.optimizer.moments})
    out.update({f"{k}{p}_hat": step.hats[f"{k}{p}_hat"] for k in step.optimizer.hats})
    if step.decayed is not None and kind == "W":
        out[p] = step.decayed[l - 1]
    return out


def _symbol(key: str, l: int, kind: str, idx) -> Math:
    """The notation of ``key`` (``vW1``, ``W1_new``, ``dW1``, ``mb2_hat``, ``eta``, ...) for element idx."""
    if key == "eta":
        return Math(r"\eta", "η")
    if key == "t":
        return Math("^t", "^t")
    if key in SYMBOLS:
        return Math(*SYMBOLS[key])
    p = f"{kind}{l}"
    if idx is None:
        base = N.vec(kind, l)
        new, grad, at = N.vec_new(kind, l), N.grad_vec(kind, l), ""
    else:
        base = N.W(l, *idx) if kind == "W" else N.b(l, idx[0])
        new = N.W(l, *idx, True) if kind == "W" else N.b(l, idx[0], True)
        grad = N.dW(l, *idx) if kind == "W" else N.db(l, idx[0])
        at = "[" + ",".join(str(i) for i in idx if i is not None) + "]"
    if key == p:
        return base
    if key == f"{p}_new":
        return new
    if key == f"d{p}":
        return grad
    moment, hat = key[0], key.endswith("_hat")
    # braced (and the hat's subscript on an empty atom: TeX unpacks a group holding one accent),
    # as a tiny value's note writes the name with a subscript of its own
    tex = (r"\hat{%s}{}" % moment if hat else moment) + f"_{{{base.tex}}}"
    return Math("{" + tex + "}", f"{moment}{p}{'_hat' if hat else ''}{at}")


def _value(B: Builder, step, env: dict, key: str, idx) -> Math:
    """The number (or matrix) ``key`` stands for at this line: a setting, η, t or a current value."""
    if key == "eta":
        s = exact(step.learning_rate)
        return Math(s, s)
    if key == "t":
        t = str(step.state["t"])
        return Math(f"^{{{t}}}", f"^{t}")
    if key in SYMBOLS:
        s = exact(step.optimizer.settings()[key])
        return Math(_tex_number(s), s)
    v = env[key]
    if idx is None:
        return B.matrix(v) if np.ndim(v) == 2 else B.vector(v)
    x = float(v[tuple(i - 1 for i in idx if i is not None)])
    if is_tiny(x, B.decimals):  # Adam's s is often ~1e-10: written out, so the line can be checked by hand
        tex, text = sci(x)
        return Math(f"({tex})", f"({text})")
    s = B.opnd(x)
    return Math(s, s)


def _shown(B: Builder, value, name: Math, idx) -> Math:
    if idx is None:
        return B.matrix(value, name) if np.ndim(value) == 2 else B.vector(value, name)
    return B.result(value, name)
