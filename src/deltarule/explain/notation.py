"""Symbols (LaTeX and text) for every named quantity, and the substitution templates.

Layers are 1-based, units and inputs 1-based, as in the canonical names: ``z1[2]`` is
z^{(1)}_2. Templates only *arrange* numbers already formatted; they compute nothing.
"""
from __future__ import annotations

from .document import Math, join


def x(j: int) -> Math:
    return Math(f"x_{{{j}}}", f"x[{j}]")


def a(l: int, i: int) -> Math:
    return x(i) if l == 0 else Math(f"a^{{({l})}}_{{{i}}}", f"a{l}[{i}]")


def z(l: int, i: int) -> Math:
    return Math(f"z^{{({l})}}_{{{i}}}", f"z{l}[{i}]")


def W(l: int, i: int, j: int, new: bool = False) -> Math:
    if new:
        return Math(f"W^{{({l})\\,\\mathrm{{new}}}}_{{{i},{j}}}", f"W{l}_new[{i},{j}]")
    return Math(f"W^{{({l})}}_{{{i},{j}}}", f"W{l}[{i},{j}]")


def b(l: int, i: int, new: bool = False) -> Math:
    if new:
        return Math(f"b^{{({l})\\,\\mathrm{{new}}}}_{{{i}}}", f"b{l}_new[{i}]")
    return Math(f"b^{{({l})}}_{{{i}}}", f"b{l}[{i}]")


def dL_da(l: int, i: int) -> Math:
    return Math(rf"\frac{{\partial L}}{{\partial a^{{({l})}}_{{{i}}}}}", f"dL/da{l}[{i}]")


def delta(l: int, i: int) -> Math:
    return Math(f"\\delta^{{({l})}}_{{{i}}}", f"δ{l}[{i}]")


def dW(l: int, i: int, j: int) -> Math:
    return Math(rf"\frac{{\partial L}}{{\partial W^{{({l})}}_{{{i},{j}}}}}", f"dW{l}[{i},{j}]")


def db(l: int, i: int) -> Math:
    return Math(rf"\frac{{\partial L}}{{\partial b^{{({l})}}_{{{i}}}}}", f"db{l}[{i}]")


def yhat(k: int) -> Math:
    return Math(f"\\hat{{y}}_{{{k}}}", f"ŷ[{k}]")


def y(k: int) -> Math:
    return Math(f"y_{{{k}}}", f"y[{k}]")


# -- whole vectors and matrices (matrix style) -------------------------------------------------
def vec(name: str, l: int) -> Math:
    """``z``, ``a``, ``delta``, ``W``, ``b`` of layer l (a0 is x)."""
    if name == "a" and l == 0:
        return Math("x", "x")
    tex = {"delta": "\\delta", "W": "W", "b": "b", "z": "z", "a": "a"}[name]
    text = {"delta": "δ"}.get(name, name)
    return Math(f"{tex}^{{({l})}}", f"{text}{l}")


def vec_new(name: str, l: int) -> Math:
    return Math(f"{name}^{{({l})\\,\\mathrm{{new}}}}", f"{name}{l}_new")


def grad_vec(name: str, l: int) -> Math:
    """dL/da^{(l)}, dL/dW^{(l)}, dL/db^{(l)}."""
    text = {"a": f"dL/da{l}", "W": f"dW{l}", "b": f"db{l}"}[name]
    return Math(rf"\frac{{\partial L}}{{\partial {name}^{{({l})}}}}", text)


# -- functions ------------------------------------------------------------------------------------
def act_symbol(act) -> Math:
    """The activation's symbol, read off its own formulas (``\\sigma`` / ``σ``)."""
    return Math(act.latex.split("(")[0], (act.text or act.name).split("(")[0])


def prime(act, arg: Math) -> Math:
    s = act_symbol(act)
    return Math(f"{s.tex}'", f"{s.text}'") + "(" + arg + ")"


def rhs(formula: str) -> str:
    """The right-hand side of ``L = ...`` or ``f'(z) = ...``."""
    return formula.split(" = ", 1)[1] if " = " in formula else formula


# -- numbers arranged into the object's formulas ----------------------------------------------
def derivative_substituted(act_name: str, a_s: str) -> Math | None:
    """f'(z) with the numbers in, for the activations whose derivative is written via a."""
    if act_name == "sigmoid":  # 0 < a < 1: no parentheses needed around a
        return Math(f"{a_s}(1 - {a_s})", f"{a_s}(1 - {a_s})")
    if act_name == "tanh":
        return Math(f"1 - ({a_s})^2", f"1 - ({a_s})^2")
    return None


def _frac(p: int, q: int) -> Math:
    return Math(f"\\frac{{{p}}}{{{q}}}", f"{p}/{q}")


def loss_substituted(loss_name: str, yh: list[str], ys: list[str]) -> Math | None:
    """The per-example loss with ŷ and y put in (yh, ys already formatted)."""
    K = len(yh)
    if loss_name in ("sse", "half_sse", "mse", "half_mse"):
        terms = [f"({p} - {t})^2" for p, t in zip(yh, ys)]
        body = join(terms, " + ")
        if loss_name == "sse":
            return body
        wrapped = body if K == 1 else Math(r"\left[", "[") + body + Math(r"\right]", "]")
        pre = {"half_sse": _frac(1, 2), "mse": _frac(1, K),
               "half_mse": _frac(1, 2) + Math(r" \cdot ", " · ") + _frac(1, K)}[loss_name]
        return pre + wrapped
    if loss_name == "bce":
        terms = [Math(f"{t} \\ln {p} + (1 - {t}) \\ln(1 - {p})", f"{t} ln {p} + (1 - {t}) ln(1 - {p})")
                 for p, t in zip(yh, ys)]
        return Math(r"-\left[", "-[") + join(terms, " + ") + Math(r"\right]", "]")
    if loss_name == "cross_entropy":
        terms = [Math(f"{t} \\ln {p}", f"{t} ln {p}") for p, t in zip(yh, ys)]
        return Math(r"-\left[", "-[") + join(terms, " + ") + Math(r"\right]", "]")
    return None


def grad_substituted(loss_name: str, p: str, t: str, K: int, n: int) -> Math | None:
    """dL/dŷ_k with the numbers in; n > 1 adds the batch mean's 1/n."""
    body = {
        "sse": Math(f"2({p} - {t})", f"2({p} - {t})"),
        "half_sse": Math(f"{p} - {t}", f"{p} - {t}"),
        "mse": _frac(2, K) + f"({p} - {t})",
        "half_mse": _frac(1, K) + f"({p} - {t})",
        "bce": Math(f"\\frac{{{p} - {t}}}{{{p}(1 - {p})}}", f"({p} - {t})/({p}(1 - {p}))"),
        "cross_entropy": Math(f"-\\frac{{{t}}}{{{p}}}", f"-{t}/{p}"),
    }.get(loss_name)
    if body is None:
        return None
    if n > 1:
        inner = body if loss_name in ("sse", "mse", "half_mse") else Math(r"\left(", "(") + body + Math(r"\right)", ")")
        return _frac(1, n) + Math(r" \cdot ", " · ") + inner
    return body


def fused_substituted(p: str, t: str, n: int) -> Math:
    body = Math(f"{p} - {t}", f"{p} - {t}")
    return _frac(1, n) + Math(r" \cdot (", " · (") + body + ")" if n > 1 else body
