"""Activation functions: each value sits beside its derivative and the LaTeX of both.

An activation maps pre-activations ``z`` of shape (n, units) to ``a = f(z)`` of the
same shape. The backward pass only ever needs ``backward(dL_da, z, a) -> delta``
(the vector-Jacobian product ``delta = dL/dz``); for the elementwise functions that is
``dL_da * f'(z)`` where ``f'`` reuses the forward output where the maths allows
(sigmoid: ``a(1-a)``, tanh: ``1-a^2``), exactly as the notes write it.

Every function here is warning-free and finite for |z| up to 1e6 in float32 and float64.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """One activation: ``value(z)``, its derivative ``derivative(z, a)`` and their LaTeX.

    ``latex`` is f(z) and ``latex_derivative`` is f'(z) written with ``a`` for the
    forward output where the implementation reuses it, so a worked solution shows
    the formula that actually runs.

    >>> import numpy as np
    >>> from deltarule.activations import get
    >>> z = np.array([[0.0, 2.0]])
    >>> a = get("sigmoid")(z)
    >>> a.round(4).tolist(), get("sigmoid").derivative(z, a).round(4).tolist()
    ([[0.5, 0.8808]], [[0.25, 0.105]])
    """

    name: str
    value: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array]
    latex: str
    latex_derivative: str
    elementwise: bool = True
    text: str = ""             # f(z) in plain text, for terminal worked solutions
    text_derivative: str = ""  # f'(z) in plain text, same form as latex_derivative

    def __call__(self, z: Array) -> Array:
        return self.value(z)

    def backward(self, dL_da: Array, z: Array, a: Array) -> Array:
        """delta = dL/dz for a batch: (n, units) -> (n, units)."""
        return dL_da * self.derivative(z, a)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def __reduce__(self):
        return get, (self.name,)  # pickled by name (its functions are lambdas): the registry's own comes back


# -- sigmoid ---------------------------------------------------------------
def _sigmoid(z: Array) -> Array:
    # exp of a non-positive number never overflows: split on the sign of z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _sigmoid_prime(z: Array, a: Array) -> Array:
    return a * (1.0 - a)  # sigma'(z) = sigma(z)(1 - sigma(z)), reusing a = sigma(z)


sigmoid = Activation(
    "sigmoid", _sigmoid, _sigmoid_prime,
    r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = a(1 - a)",
    text="σ(z) = 1/(1 + e^(-z))", text_derivative="σ'(z) = a(1 - a)",
)

# -- tanh ------------------------------------------------------------------
tanh = Activation(
    "tanh", np.tanh, lambda z, a: 1.0 - a * a,  # tanh' = 1 - tanh^2, reusing a
    r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", r"\tanh'(z) = 1 - a^2",
    text="tanh(z) = (e^z - e^(-z))/(e^z + e^(-z))", text_derivative="tanh'(z) = 1 - a^2",
)

# -- relu ------------------------------------------------------------------
relu = Activation(
    "relu", lambda z: np.maximum(z, 0),
    lambda z, a: (z > 0).astype(z.dtype),  # derivative taken as 0 at z = 0
    r"\mathrm{relu}(z) = \max(0, z)",
    r"\mathrm{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
    text="relu(z) = max(0, z)", text_derivative="relu'(z) = 1 if z > 0, else 0",
)

# -- leaky relu --------------------------------------------------------------
LEAKY_SLOPE = 0.01

leaky_relu = Activation(
    "leaky_relu", lambda z: np.where(z >= 0, z, LEAKY_SLOPE * z).astype(z.dtype, copy=False),
    lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype, copy=False),
    r"\mathrm{lrelu}(z) = \begin{cases} z & z \ge 0 \\ 0.01 z & z < 0 \end{cases}",
    r"\mathrm{lrelu}'(z) = \begin{cases} 1 & z > 0 \\ 0.01 & z \le 0 \end{cases}",
    text="lrelu(z) = z if z >= 0, else 0.01 z", text_derivative="lrelu'(z) = 1 if z > 0, else 0.01",
)

# -- identity ----------------------------------------------------------------
identity = Activation(
    "identity", lambda z: z, lambda z, a: np.ones_like(z),
    r"f(z) = z", r"f'(z) = 1", text="f(z) = z", text_derivative="f'(z) = 1",
)


# -- softmax (not elementwise: its Jacobian couples the units) ---------------
def _softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift: exp never overflows
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, repr=False)
class _Softmax(Activation):
    def backward(self, dL_da: Array, z: Array, a: Array) -> Array:
        # J = diag(a) - a a^T, so J^T g = a * (g - <g, a>) row by row.
        return a * (dL_da - np.sum(dL_da * a, axis=-1, keepdims=True))


softmax = _Softmax(
    "softmax", _softmax, lambda z, a: a * (1.0 - a),  # diagonal of the Jacobian only
    r"\mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}",
    r"\frac{\partial a_k}{\partial z_j} = a_k(\delta_{kj} - a_j)",
    elementwise=False, text="softmax(z)_k = e^(z_k) / Σ_j e^(z_j)",
    text_derivative="∂a_k/∂z_j = a_k([k = j] - a_j)",
)

ACTIVATIONS: dict[str, Activation] = {
    f.name: f for f in (sigmoid, tanh, relu, leaky_relu, identity, softmax)
}
ALIASES = {"linear": "identity"}


def get(name: str) -> Activation:
    """The activation called ``name`` (``linear`` is an alias of ``identity``)."""
    return ACTIVATIONS[ALIASES.get(name, name)]
