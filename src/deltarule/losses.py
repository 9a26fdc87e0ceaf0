"""Loss functions, the registry: each per-example value beside its derivative dL/dyhat, its
notation, its PyTorch twin and the kernels of the compiled engine.

Shapes: ``yhat`` and ``y`` are (n, K); ``value`` gives the per-example loss (n,),
``grad`` gives dL/dyhat per example (n, K). Reduction over the n examples of a batch
(``mean`` or ``sum``) is applied by :func:`output_layer`.

Two pairs are *fused*: sigmoid + ``bce`` and softmax + ``cross_entropy``. For them the
loss is computed from the logits z (softplus / log-sum-exp, never log of a rounded
probability) and the output delta dL/dz is exactly ``yhat - y``: stable for |z| up to 1e6,
no log(0), no overflow. A fused pair is also a classifier: its :class:`Fused` says how the
outputs decide the class (``decision``).

Each :class:`Loss` also carries: the worked solution's substitution templates (``term``,
``factors``, ``negated``, ``grad_term``, ``grad_factor``, ``grad_atomic``: see
``explain/notation.py``), ``squared`` (the squared-error family the checker compares),
``torch_value(torch, out, y)`` (its formula on tensors, given the torch module; this module
never imports torch) and ``scalar`` (row kernels in ``math`` that ``_scalar.py`` compiles).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .activations import Activation

Array = np.ndarray
EPS64 = float(np.finfo(np.float64).eps)  # the clip of the compiled (float64) engine


def _clip_probability(p: Array) -> Array:
    # Only for the unfused paths: keep ln() and 1/p finite at saturated outputs.
    eps = np.finfo(p.dtype).eps if np.issubdtype(p.dtype, np.floating) else 1e-16
    return np.clip(p, eps, 1.0 - eps)


@dataclass(frozen=True)
class Fused:
    """Loss computed from the logits, and the output delta dL/dz = yhat - y.

    ``decision``: how such a classifier's outputs give classes (``argmax`` or ``threshold``,
    see ``metrics.predicted_classes``). ``torch_value(torch, z, y)`` is the same loss from
    the logits on tensors; ``scalar(z, y)`` a float kernel on one example's rows.
    """

    value_from_logits: Callable[[Array, Array], Array]  # (z, y) -> (n,)
    latex_delta: str = r"\delta = \hat{y} - y"
    decision: str | None = None
    torch_value: Callable | None = None
    scalar: Callable | None = None
    # the buffered engine's batch sum from its forward pass: (z shifted by the row max, s the row
    # sums of e^z (n, 1), y, ysum = sum_k y_k (n,)) -> float; may overwrite s
    batch_sum: Callable | None = None


@dataclass(frozen=True)
class LossScalar:
    """Row kernels for the compiled engine (``math`` only): ``value(a, y) -> float`` and
    ``grad(a, y, out)`` writing dL/da of one example (1-D arrays of K)."""

    value: Callable
    grad: Callable


@dataclass(frozen=True)
class Loss:
    """One loss convention. ``value(yhat, y) -> (n,)``; ``grad(yhat, y) -> (n, K)``.

    >>> import numpy as np
    >>> from deltarule.losses import get
    >>> yhat, y = np.array([[0.75]]), np.array([[0.5]])
    >>> get("half_sse").value(yhat, y).tolist(), get("half_sse").grad(yhat, y).tolist()
    ([0.03125], [[0.25]])
    """

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    latex: str
    latex_grad: str
    description: str
    fused: dict[str, Fused] = field(default_factory=dict)
    text: str = ""       # the loss in plain text, for terminal worked solutions
    text_grad: str = ""  # dL/dyhat_k in plain text
    squared: bool = False  # one of the squared-error conventions (sse, half_sse, mse, half_mse)
    # substitution: the per-output term in {p} (yhat_k) and {t} (y_k), (LaTeX, text); the
    # constant factors in front ((numerator, denominator or "K"), ...); a minus sign in front
    term: tuple[str, str] = ("", "")
    factors: tuple[tuple[int, int | str], ...] = ()
    negated: bool = False
    # dL/dyhat_k: template in {p}, {t}; a factor (numerator, denominator or "K") in front; and
    # whether it reads as one factor (no parentheses needed when multiplied by 1/n)
    grad_term: tuple[str, str] = ("", "")
    grad_factor: tuple[int, int | str] | None = None
    grad_atomic: bool = False
    # a remark for the worked solution when K > 1: (before, after) the gradient formula, in {K}
    remark: tuple[str, str] | None = None
    torch_value: Callable | None = None  # (torch, out, y) -> (n,) per-example losses on tensors
    scalar: LossScalar | None = None
    # what it takes: output activations by their range (Activation.outputs; empty: any), and
    # targets: None (any real), "unit" (0 <= y <= 1), "distribution" (rows >= 0 summing to 1)
    needs_outputs: tuple[str, ...] = ()
    targets: str | None = None

    def accepts_output(self, activation: Activation) -> bool:
        """Whether this loss is defined on that output activation's range (bce: outputs in (0, 1))."""
        return not self.needs_outputs or activation.outputs in self.needs_outputs

    def decision(self, activation: Activation) -> str | None:
        """``argmax``/``threshold`` when this loss with that output activation is a classifier."""
        fused = self.fused.get(activation.name)
        return None if fused is None else fused.decision

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"

    def __reduce__(self):
        return get, (self.name,)  # pickled by name (its functions are lambdas): the registry's own comes back


def _k(y: Array) -> int:
    return y.shape[-1]


# -- squared errors ---------------------------------------------------------
def _sq_scalar(a, y) -> float:
    s = 0.0
    for k in range(a.size):
        d = a[k] - y[k]
        s += d * d
    return s


def _squared(name: str, half: bool, mean: bool, latex: str, latex_grad: str, description: str, text: str,
             text_grad: str) -> Loss:
    """One of the four squared-error conventions: (1/2)? (1/K)? sum_k (yhat_k - y_k)^2."""
    c = 0.5 if half else 1.0

    def value(yhat: Array, y: Array) -> Array:
        sq = (yhat - y) ** 2
        return c * (np.mean(sq, axis=-1) if mean else np.sum(sq, axis=-1))

    def grad(yhat: Array, y: Array) -> Array:
        return (2.0 * c / _k(y) if mean else 2.0 * c) * (yhat - y)  # 2c/K or 2c; 1.0 * x is x exactly

    def scalar_value(a, y) -> float:
        s = _sq_scalar(a, y)
        return c * (s / a.size) if mean else c * s

    def scalar_grad(a, y, out) -> None:
        g = 2.0 * c / a.size if mean else 2.0 * c
        for k in range(a.size):
            out[k] = g * (a[k] - y[k])

    def torch_value(torch, out, y):
        sq = (out - y) ** 2
        return c * (sq.mean(-1) if mean else sq.sum(-1))

    factors = ((1, 2),) * half + ((1, "K"),) * mean
    gfactor = (2 if not half else 1, "K") if mean else None
    gterm = ("({p} - {t})", "({p} - {t})") if mean else (("{p} - {t}", "{p} - {t}") if half else
                                                          ("2({p} - {t})", "2({p} - {t})"))
    return Loss(name, value, grad, latex, latex_grad, description, text=text, text_grad=text_grad, squared=True,
                term=("({p} - {t})^2", "({p} - {t})^2"), factors=factors, grad_term=gterm, grad_factor=gfactor,
                grad_atomic=mean or not half, torch_value=torch_value, scalar=LossScalar(scalar_value, scalar_grad))


sse = _squared(
    "sse", False, False,
    r"L = \sum_k (\hat{y}_k - y_k)^2", r"\frac{\partial L}{\partial \hat{y}_k} = 2(\hat{y}_k - y_k)",
    "sum of squared errors over the outputs", "L = Σ_k (ŷ_k - y_k)^2", "∂L/∂ŷ_k = 2(ŷ_k - y_k)",
)
half_sse = _squared(
    "half_sse", True, False,
    r"L = \frac{1}{2}\sum_k (\hat{y}_k - y_k)^2", r"\frac{\partial L}{\partial \hat{y}_k} = \hat{y}_k - y_k",
    "half the sum of squared errors over the outputs", "L = 1/2 Σ_k (ŷ_k - y_k)^2", "∂L/∂ŷ_k = ŷ_k - y_k",
)
mse = _squared(
    "mse", False, True,
    r"L = \frac{1}{K}\sum_k (\hat{y}_k - y_k)^2",
    r"\frac{\partial L}{\partial \hat{y}_k} = \frac{2}{K}(\hat{y}_k - y_k)",
    "mean of squared errors over the K outputs", "L = 1/K Σ_k (ŷ_k - y_k)^2", "∂L/∂ŷ_k = 2/K (ŷ_k - y_k)",
)
half_mse = replace(_squared(
    "half_mse", True, True,
    r"L = \frac{1}{2}\cdot\frac{1}{K}\sum_k (\hat{y}_k - y_k)^2",
    r"\frac{\partial L}{\partial \hat{y}_k} = \frac{1}{K}(\hat{y}_k - y_k)",
    "half the mean of squared errors over the K outputs", "L = 1/2 · 1/K Σ_k (ŷ_k - y_k)^2",
    "∂L/∂ŷ_k = 1/K (ŷ_k - y_k)",
), remark=("The loss is half the mean over the K = {K} outputs, so ",
           " carries the factor 1/K = 1/{K}. Notes that state this loss but differentiate it as ŷ − y "
           "(half the sum) get derivatives {K} times these; the trained weights differ accordingly."))


# -- binary cross-entropy -----------------------------------------------------
def _bce(yhat: Array, y: Array) -> Array:
    p = _clip_probability(yhat)
    return -np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p), axis=-1)


def _bce_grad(yhat: Array, y: Array) -> Array:
    p = _clip_probability(yhat)
    return (p - y) / (p * (1.0 - p))


def _bce_from_logits(z: Array, y: Array) -> Array:
    # -[y ln s(z) + (1-y) ln(1-s(z))] = softplus(z) - y z
    #   = (1-y) max(z,0) - y min(z,0) + ln(1 + e^-|z|): three terms >= 0 for y in [0, 1], so no
    # cancellation (softplus(z) - y z loses all digits of a tiny loss, e.g. z = 30, y = 1) and no overflow
    return np.sum((1.0 - y) * np.maximum(z, 0) - y * np.minimum(z, 0) + np.log1p(np.exp(-np.abs(z))), axis=-1)


def _bce_scalar(a, y) -> float:
    s = 0.0
    for k in range(a.size):
        q = min(max(a[k], EPS64), 1.0 - EPS64)
        s += y[k] * math.log(q) + (1.0 - y[k]) * math.log1p(-q)
    return -s


def _bce_scalar_grad(a, y, out) -> None:
    for k in range(a.size):
        q = min(max(a[k], EPS64), 1.0 - EPS64)
        out[k] = (q - y[k]) / (q * (1.0 - q))


def _bce_logits_scalar(z, y) -> float:
    s = 0.0  # as _bce_from_logits, term by term
    for k in range(z.size):
        s += (1.0 - y[k]) * max(z[k], 0.0) - y[k] * min(z[k], 0.0) + math.log1p(math.exp(-abs(z[k])))
    return s


def _bce_torch(torch, out, y):
    p = out.clamp(torch.finfo(out.dtype).eps, 1 - torch.finfo(out.dtype).eps)  # no log(0), as _bce
    return -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).sum(-1)


bce = Loss(
    "bce", _bce, _bce_grad,
    r"L = -\sum_k \left[y_k \ln \hat{y}_k + (1 - y_k)\ln(1 - \hat{y}_k)\right]",
    r"\frac{\partial L}{\partial \hat{y}_k} = \frac{\hat{y}_k - y_k}{\hat{y}_k(1 - \hat{y}_k)}",
    "binary cross-entropy summed over the outputs",
    fused={"sigmoid": Fused(
        _bce_from_logits, decision="threshold", scalar=_bce_logits_scalar,
        torch_value=lambda torch, z, y: torch.nn.functional.binary_cross_entropy_with_logits(
            z, y, reduction="none").sum(-1))},
    text="L = -Σ_k [y_k ln ŷ_k + (1 - y_k) ln(1 - ŷ_k)]",
    text_grad="∂L/∂ŷ_k = (ŷ_k - y_k) / (ŷ_k(1 - ŷ_k))",
    term=(r"{t} \ln {p} + (1 - {t}) \ln(1 - {p})", "{t} ln {p} + (1 - {t}) ln(1 - {p})"), negated=True,
    grad_term=(r"\frac{{{p} - {t}}}{{{p}(1 - {p})}}", "({p} - {t})/({p}(1 - {p}))"),
    torch_value=_bce_torch, scalar=LossScalar(_bce_scalar, _bce_scalar_grad),
    needs_outputs=("unit", "distribution"), targets="unit",
)


# -- categorical cross-entropy --------------------------------------------------
def _log_softmax(z: Array) -> Array:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)  # no overflow: every exponent <= 0
    # the largest term is e^0 = 1 exactly, so ln(sum) = log1p(sum of the others): a confident
    # prediction's tiny loss (z = [30, -30], y = [1, 0]: 8.8e-27) keeps its digits instead of 0
    np.put_along_axis(e, np.argmax(z, axis=-1)[..., None], 0.0, axis=-1)
    return shifted - np.log1p(np.sum(e, axis=-1, keepdims=True))


SMALL_SUM = 4096  # OpenBLAS's dot runs on one thread up to 10,000 elements


def _ce_scalar(a, y) -> float:
    s = 0.0
    for k in range(a.size):
        s += y[k] * math.log(min(max(a[k], EPS64), 1.0 - EPS64))
    return -s


def _ce_scalar_grad(a, y, out) -> None:
    for k in range(a.size):
        out[k] = -y[k] / min(max(a[k], EPS64), 1.0 - EPS64)


def _ce_logits_scalar(z, y) -> float:
    top = 0  # as _log_softmax: ln of the sum is log1p of the terms other than the largest
    for k in range(1, z.size):
        if z[k] > z[top]:
            top = k
    rest = 0.0
    for k in range(z.size):
        if k != top:
            rest += math.exp(z[k] - z[top])
    lse = math.log1p(rest)
    s = 0.0
    for k in range(z.size):
        s += y[k] * ((z[k] - z[top]) - lse)
    return -s


def _ce_batch_sum(z: Array, s: Array, y: Array, ysum: Array) -> float:
    # -sum y (z - ln S) = sum_i ln(S_i) sum_k y_ik - sum y z: two passes over the batch
    lns = np.log(s[:, 0], out=s[:, 0])
    if y.size <= SMALL_SUM:  # a step's batch: BLAS's dot, the fastest call
        return float(lns @ ysum) - float(np.vdot(y, z))
    # a journal pass: einsum's own loops, whose sums no BLAS thread count splits differently
    return float(np.einsum("i,i->", lns, ysum)) - float(np.einsum("ij,ij->", y, z))


def _ce_torch(torch, out, y):
    return -(y * torch.log(out.clamp(torch.finfo(out.dtype).eps, 1 - torch.finfo(out.dtype).eps))).sum(-1)


cross_entropy = Loss(
    "cross_entropy",
    lambda yhat, y: -np.sum(y * np.log(_clip_probability(yhat)), axis=-1),
    lambda yhat, y: -y / _clip_probability(yhat),
    r"L = -\sum_k y_k \ln \hat{y}_k", r"\frac{\partial L}{\partial \hat{y}_k} = -\frac{y_k}{\hat{y}_k}",
    "categorical cross-entropy (softmax output)",
    fused={"softmax": Fused(
        lambda z, y: -np.sum(y * _log_softmax(z), axis=-1), decision="argmax", scalar=_ce_logits_scalar, batch_sum=_ce_batch_sum,
        torch_value=lambda torch, z, y: -(y * torch.log_softmax(z, dim=-1)).sum(-1))},
    text="L = -Σ_k y_k ln ŷ_k", text_grad="∂L/∂ŷ_k = -y_k / ŷ_k",
    term=(r"{t} \ln {p}", "{t} ln {p}"), negated=True,
    grad_term=(r"-\frac{{{t}}}{{{p}}}", "-{t}/{p}"),
    torch_value=_ce_torch, scalar=LossScalar(_ce_scalar, _ce_scalar_grad),
    needs_outputs=("distribution",), targets="distribution",
)

THRESHOLD = 0.5  # the one class threshold: an output of exactly 0.5 is class 1


def decide(yhat, decision: str) -> Array:
    """The classes outputs stand for: (n,) indices 0..K-1 (``argmax``), or (n, K) labels 0/1
    (``threshold``: 1 when the output is >= 0.5). ``metrics`` and ``plots`` both use this."""
    yhat = np.asarray(yhat)
    return np.argmax(yhat, axis=-1) if decision == "argmax" else (yhat >= THRESHOLD).astype(int)


LOSSES: dict[str, Loss] = {f.name: f for f in (sse, half_sse, mse, half_mse, bce, cross_entropy)}
REDUCTIONS = ("mean", "sum")


def get(name: str) -> Loss:
    """The loss called ``name``."""
    return LOSSES[name]


def output_layer(loss: Loss, activation: Activation, z: Array, a: Array, y: Array,
                 reduction: str = "mean") -> tuple[Array, Array, Array]:
    """Per-example losses (n,), dL/da (n, K) and delta = dL/dz (n, K) of the batch loss.

    The batch loss is ``mean`` or ``sum`` of the per-example losses, so with ``mean``
    every per-example derivative carries the factor 1/n.
    """
    scale = 1.0 / len(y) if reduction == "mean" else 1.0
    fused = loss.fused.get(activation.name)
    dL_da = scale * loss.grad(a, y)
    if fused is not None:
        per_example = fused.value_from_logits(z, y)
        delta = scale * (a - y)
    else:
        per_example = loss.value(a, y)
        delta = activation.backward(dL_da, z, a)
    return per_example, dL_da.astype(z.dtype, copy=False), delta.astype(z.dtype, copy=False)


def reduce(per_example: Array, reduction: str) -> float:
    """The batch loss from per-example losses."""
    return float(np.mean(per_example) if reduction == "mean" else np.sum(per_example))
