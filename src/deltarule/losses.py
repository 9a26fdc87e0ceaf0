"""Loss functions: each per-example value beside its derivative dL/dyhat and their LaTeX.

Shapes: ``yhat`` and ``y`` are (n, K); ``value`` gives the per-example loss (n,),
``grad`` gives dL/dyhat per example (n, K). Reduction over the n examples of a batch
(``mean`` or ``sum``) is applied by :func:`output_layer`.

Two pairs are *fused*: sigmoid + ``bce`` and softmax + ``cross_entropy``. For them the
loss is computed from the logits z (softplus / log-sum-exp, never log of a rounded
probability) and the output delta dL/dz is exactly ``yhat - y``: stable for |z| up to 1e6,
no log(0), no overflow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .activations import Activation

Array = np.ndarray


def _clip_probability(p: Array) -> Array:
    # Only for the unfused paths: keep ln() and 1/p finite at saturated outputs.
    eps = np.finfo(p.dtype).eps if np.issubdtype(p.dtype, np.floating) else 1e-16
    return np.clip(p, eps, 1.0 - eps)


@dataclass(frozen=True)
class Fused:
    """Loss computed from the logits, and the output delta dL/dz = yhat - y."""

    value_from_logits: Callable[[Array, Array], Array]  # (z, y) -> (n,)
    latex_delta: str = r"\delta = \hat{y} - y"


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

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"

    def __reduce__(self):
        return get, (self.name,)  # pickled by name (its functions are lambdas): the registry's own comes back


def _k(y: Array) -> int:
    return y.shape[-1]


# -- squared errors ---------------------------------------------------------
sse = Loss(
    "sse",
    lambda yhat, y: np.sum((yhat - y) ** 2, axis=-1),
    lambda yhat, y: 2.0 * (yhat - y),
    r"L = \sum_k (\hat{y}_k - y_k)^2", r"\frac{\partial L}{\partial \hat{y}_k} = 2(\hat{y}_k - y_k)",
    "sum of squared errors over the outputs",
    text="L = Σ_k (ŷ_k - y_k)^2", text_grad="∂L/∂ŷ_k = 2(ŷ_k - y_k)",
)
half_sse = Loss(
    "half_sse",
    lambda yhat, y: 0.5 * np.sum((yhat - y) ** 2, axis=-1),
    lambda yhat, y: yhat - y,
    r"L = \frac{1}{2}\sum_k (\hat{y}_k - y_k)^2", r"\frac{\partial L}{\partial \hat{y}_k} = \hat{y}_k - y_k",
    "half the sum of squared errors over the outputs",
    text="L = 1/2 Σ_k (ŷ_k - y_k)^2", text_grad="∂L/∂ŷ_k = ŷ_k - y_k",
)
mse = Loss(
    "mse",
    lambda yhat, y: np.mean((yhat - y) ** 2, axis=-1),
    lambda yhat, y: (2.0 / _k(y)) * (yhat - y),
    r"L = \frac{1}{K}\sum_k (\hat{y}_k - y_k)^2",
    r"\frac{\partial L}{\partial \hat{y}_k} = \frac{2}{K}(\hat{y}_k - y_k)",
    "mean of squared errors over the K outputs",
    text="L = 1/K Σ_k (ŷ_k - y_k)^2", text_grad="∂L/∂ŷ_k = 2/K (ŷ_k - y_k)",
)
half_mse = Loss(
    "half_mse",
    lambda yhat, y: 0.5 * np.mean((yhat - y) ** 2, axis=-1),
    lambda yhat, y: (1.0 / _k(y)) * (yhat - y),
    r"L = \frac{1}{2}\cdot\frac{1}{K}\sum_k (\hat{y}_k - y_k)^2",
    r"\frac{\partial L}{\partial \hat{y}_k} = \frac{1}{K}(\hat{y}_k - y_k)",
    "half the mean of squared errors over the K outputs",
    text="L = 1/2 · 1/K Σ_k (ŷ_k - y_k)^2", text_grad="∂L/∂ŷ_k = 1/K (ŷ_k - y_k)",
)


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


bce = Loss(
    "bce", _bce, _bce_grad,
    r"L = -\sum_k \left[y_k \ln \hat{y}_k + (1 - y_k)\ln(1 - \hat{y}_k)\right]",
    r"\frac{\partial L}{\partial \hat{y}_k} = \frac{\hat{y}_k - y_k}{\hat{y}_k(1 - \hat{y}_k)}",
    "binary cross-entropy summed over the outputs",
    fused={"sigmoid": Fused(_bce_from_logits)},
    text="L = -Σ_k [y_k ln ŷ_k + (1 - y_k) ln(1 - ŷ_k)]",
    text_grad="∂L/∂ŷ_k = (ŷ_k - y_k) / (ŷ_k(1 - ŷ_k))",
)


# -- categorical cross-entropy --------------------------------------------------
def _log_softmax(z: Array) -> Array:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)  # no overflow: every exponent <= 0
    # the largest term is e^0 = 1 exactly, so ln(sum) = log1p(sum of the others): a confident
    # prediction's tiny loss (z = [30, -30], y = [1, 0]: 8.8e-27) keeps its digits instead of 0
    np.put_along_axis(e, np.argmax(z, axis=-1)[..., None], 0.0, axis=-1)
    return shifted - np.log1p(np.sum(e, axis=-1, keepdims=True))


cross_entropy = Loss(
    "cross_entropy",
    lambda yhat, y: -np.sum(y * np.log(_clip_probability(yhat)), axis=-1),
    lambda yhat, y: -y / _clip_probability(yhat),
    r"L = -\sum_k y_k \ln \hat{y}_k", r"\frac{\partial L}{\partial \hat{y}_k} = -\frac{y_k}{\hat{y}_k}",
    "categorical cross-entropy (softmax output)",
    fused={"softmax": Fused(lambda z, y: -np.sum(y * _log_softmax(z), axis=-1))},
    text="L = -Σ_k y_k ln ŷ_k", text_grad="∂L/∂ŷ_k = -y_k / ŷ_k",
)

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
