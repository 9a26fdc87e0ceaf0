"""Symbols (LaTeX and text) for every named quantity, and the substitution templates.

Layers are 1-based, units and inputs 1-based, as in the canonical names: ``z1[2]`` is
z^{(1)}_2. Templates only *arrange* numbers already formatted; they compute nothing.
"""
from __future__ import annotations

import re

from .document import Math, join

# A formula's own minus sign in front of a number shown as zero ("-y/ŷ" with y = 0) would
# print -0.000: the rounding policy shows no negative zero, so the sign goes (a zero term).
_ZERO = r"0(?:\.0+)?(?![\d.e])"
_SIGNED_ZERO_TEXT = re.compile(r"(?<![\w.)\]}])-(?=" + _ZERO + ")")
_SIGNED_ZERO_TEX = re.compile(r"(?<![\w.)\]}])-(?=(?:\\frac\{)?" + _ZERO + ")")


def unsigned_zero(m: Math) -> Math:
    """``m`` without a unary minus before a number shown as zero (``-0.000``, ``-\\frac{0.000}{..}``)."""
    return Math(_SIGNED_ZERO_TEX.sub("", m.tex), _SIGNED_ZERO_TEXT.sub("", m.text))


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
# Every formula-specific piece below is read off the registry (the Activation and Loss objects):
# no activation or loss is named here.
def act_symbol(act) -> Math:
    """The activation's symbol (``\\sigma`` / ``σ``)."""
    return Math(act.tex_symbol, act.symbol)


def prime(act, arg: Math) -> Math:
    s = act_symbol(act)
    return Math(f"{s.tex}'", f"{s.text}'") + "(" + arg + ")"


def rhs(formula: str) -> str:
    """The right-hand side of ``L = ...`` or ``f'(z) = ...``."""
    return formula.split(" = ", 1)[1] if " = " in formula else formula


def derivative_in_a(act, a: Math) -> Math:
    """f'(z) written with the expression ``a`` for the forward output (the formula itself when
    the activation's derivative is not written with a)."""
    if act.a_form is None:
        return Math(rhs(act.latex_derivative), rhs(act.text_derivative))
    return Math(act.a_form[0].format(a="{" + a.tex + "}"), act.a_form[1].format(a=a.text))


def derivative_vector(act, a: Math) -> Math | None:
    """f'(z) of a whole layer with the vector ``a`` put in (Hadamard products), if written with a."""
    if act.a_form_vector is None:
        return None
    return Math(act.a_form_vector[0].format(a=a.tex), act.a_form_vector[1].format(a=a.text))


# -- numbers arranged into the object's formulas ----------------------------------------------
def derivative_substituted(act, a_s: str) -> Math | None:
    """f'(z) with the numbers in, for the activations whose derivative is written via a."""
    if act.a_form is None:
        return None
    a_s = act.a_number.format(a=a_s)
    return Math(act.a_form[0].format(a=a_s), act.a_form[1].format(a=a_s))


def _frac(p: int, q: int) -> Math:
    return Math(f"\\frac{{{p}}}{{{q}}}", f"{p}/{q}")


def _factor(f: tuple, K: int) -> Math:
    return _frac(f[0], K if f[1] == "K" else f[1])


def loss_substituted(loss, yh: list[str], ys: list[str]) -> Math | None:
    """The per-example loss with ŷ and y put in (yh, ys already formatted)."""
    K = len(yh)
    if not loss.term[0]:
        return None
    terms = [Math(loss.term[0].format(p=p, t=t), loss.term[1].format(p=p, t=t)) for p, t in zip(yh, ys)]
    body = join(terms, " + ")
    if loss.negated:
        return Math(r"-\left[", "-[") + body + Math(r"\right]", "]")
    if not loss.factors:
        return body
    wrapped = body if K == 1 else Math(r"\left[", "[") + body + Math(r"\right]", "]")
    return join([_factor(f, K) for f in loss.factors], Math(r" \cdot ", " · ")) + wrapped


def grad_substituted(loss, p: str, t: str, K: int, n: int) -> Math | None:
    """dL/dŷ_k with the numbers in; n > 1 adds the batch mean's 1/n."""
    if not loss.grad_term[0]:
        return None
    body = Math(loss.grad_term[0].format(p=p, t=t), loss.grad_term[1].format(p=p, t=t))
    if loss.grad_factor is not None:
        body = _factor(loss.grad_factor, K) + body
    if n > 1:
        inner = body if loss.grad_atomic else Math(r"\left(", "(") + body + Math(r"\right)", ")")
        return _frac(1, n) + Math(r" \cdot ", " · ") + inner
    return body


def fused_substituted(p: str, t: str, n: int) -> Math:
    body = Math(f"{p} - {t}", f"{p} - {t}")
    return _frac(1, n) + Math(r" \cdot (", " · (") + body + ")" if n > 1 else body
