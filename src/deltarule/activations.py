"""Activation functions, the registry: each formula once, with everything any part needs.

An activation maps pre-activations ``z`` of shape (n, units) to ``a = f(z)`` of the
same shape. The backward pass only ever needs ``backward(dL_da, z, a) -> delta``
(the vector-Jacobian product ``delta = dL/dz``); for the elementwise functions that is
``dL_da * f'(z)`` where ``f'`` reuses the forward output where the maths allows
(sigmoid: ``a(1-a)``, tanh: ``1-a^2``), exactly as the notes write it.

Each :class:`Activation` carries, beside the numpy value and derivative:

* notation: ``latex``/``text`` of f and f', the symbol (``tex_symbol``, ``symbol``), and for
  the derivatives written with ``a`` the templates the worked solution fills in (``a_form``);
* ``torch``: the name and arguments of its ``torch.nn`` module (resolved by ``torch_bridge``;
  this module never imports torch);
* ``scalar``: plain-Python float kernels (``math`` only) that ``_scalar.py`` compiles with numba
  when it is first used, and ``forward_into``/``scale_into``: the in-place numpy kernels of the
  buffered engine (``fast.py``);
* ``mistakes``: the formula-specific wrong derivatives the checker tries.

To add an activation: write it here, put it in ``ACTIVATIONS``; ``tests/test_registry.py``
walks every entry through every engine. Every function here is warning-free and finite for
|z| up to 1e6 in float32 and float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Mistake:
    """A wrong derivative a student may use: ``derivative(z, a)`` in place of f'(z).

    ``note`` is a template with ``{f}`` (the activation's symbol) and ``{l}`` (the layer).
    """

    note: str
    derivative: Callable[[Array, Array], Array]


@dataclass(frozen=True)
class Scalar:
    """Float kernels for the compiled engine, written with ``math`` so numba can compile them.

    Elementwise: ``value(z) -> a``, ``derivative(z, a) -> f'(z)``. Row-wise (``row=True``, e.g.
    softmax): ``value(z, a)`` writes a_k into the 1-D array ``a``; ``derivative(d, z, a)``
    replaces dL/da in ``d`` by the vector-Jacobian product dL/dz.
    """

    value: Callable
    derivative: Callable
    row: bool = False


@dataclass(frozen=True)
class Activation:
    """One activation: ``value(z)``, its derivative ``derivative(z, a)`` and their notation.

    ``latex`` is f(z) and ``latex_derivative`` is f'(z) written with ``a`` for the
    forward output where the implementation reuses it (``derivative_uses == "a"``), so a
    worked solution shows the formula that actually runs.

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
    symbol: str = "f"          # plain-text symbol: σ, tanh, relu, ...
    tex_symbol: str = "f"      # LaTeX symbol: \sigma, \tanh, \mathrm{relu}, ...
    derivative_uses: str = "z"  # "a" when f'(z) is written with the forward output a
    # f'(z) as a template in {a}: (LaTeX, text) for one unit and (LaTeX, text) for a vector
    # (Hadamard products); None when the derivative is not written with a alone
    a_form: tuple[str, str] | None = None
    a_number: str = "{a}"  # how a number is put into a_form: "({a})" where a sign would need them
    a_form_vector: tuple[str, str] | None = None
    torch: tuple[str, dict] | None = None  # torch.nn class name and its keyword arguments
    # attributes a torch module must have to be read back as this activation: {name: accepted values}
    torch_accepts: dict = field(default_factory=dict)
    scalar: Scalar | None = None
    passthrough: bool = False  # a = z: the engines keep one buffer for both
    outputs: str = "real"  # the range of a: "real", "unit" (each in (0, 1)), "distribution" (rows sum to 1)
    mistakes: tuple[Mistake, ...] = ()
    inplace: tuple[Callable, Callable | None] | None = None  # (forward(z, a, scratch), scale(d, z, a, t, mask))

    def __call__(self, z: Array) -> Array:
        return self.value(z)

    def backward(self, dL_da: Array, z: Array, a: Array) -> Array:
        """delta = dL/dz for a batch: (n, units) -> (n, units)."""
        return dL_da * self.derivative(z, a)

    def forward_into(self, z: Array, a: Array, scratch=None) -> Array:
        """a = f(z) written into the buffer ``a`` (n, units); returns the output (``z`` itself
        for a passthrough). ``scratch`` = (row max, row sum), each (n, 1), for row-wise ones."""
        if self.passthrough:
            return z
        if self.inplace is not None:
            return self.inplace[0](z, a, scratch)
        np.copyto(a, self.value(z))
        return a

    def scale_into(self, d: Array, z: Array, a: Array, t: Array, mask: Array) -> Array:
        """d *= f'(z) in place (elementwise activations); ``t`` (float) and ``mask`` (bool) are
        scratch buffers of d's shape."""
        if self.passthrough:
            return d
        if self.inplace is not None and self.inplace[1] is not None:
            return self.inplace[1](d, z, a, t, mask)
        d *= self.derivative(z, a)
        return d

    def in_place(self) -> tuple[Callable, Callable]:
        """(forward(z, a, scratch) -> a, scale(d, z, a, t, mask) -> d): :meth:`forward_into` and
        :meth:`scale_into` as plain functions, resolved once (the buffered engine's hot loop)."""
        if self.passthrough:
            return (lambda z, a, scratch: z), (lambda d, z, a, t, mask: d)
        fwd, scale = self.inplace or (None, None)
        return fwd or self.forward_into, scale or self.scale_into

    def torch_module(self, nn):
        """Its ``torch.nn`` module, built from the module ``nn`` the caller passes in."""
        if self.torch is None:
            return None
        cls, kwargs = self.torch
        return getattr(nn, cls)(**kwargs)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def __reduce__(self):
        return get, (self.name,)  # pickled by name (its functions are lambdas): the registry's own comes back


def _standard_mistakes(value, derivative, of_a: str = "", with_z: str = "") -> tuple[Mistake, ...]:
    """The wrong derivatives worth trying for an elementwise f (notes may add the formula)."""
    return (
        Mistake("{f}(z{l}) used for {f}'(z{l})", lambda z, a: value(z)),
        Mistake("{f}' taken of a{l} instead of z{l}" + of_a, lambda z, a: derivative(a, value(a))),
        Mistake("{f}'(z{l}) computed with z{l} in place of a{l}" + with_z, lambda z, a: derivative(z, z)),
        Mistake("the factor {f}'(z{l}) left out", lambda z, a: np.ones_like(z)),
    )


# -- sigmoid ---------------------------------------------------------------
def _sigmoid(z: Array) -> Array:
    # exp of a non-positive number never overflows: split on the sign of z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _sigmoid_prime(z: Array, a: Array) -> Array:
    return a * (1.0 - a)  # sigma'(z) = sigma(z)(1 - sigma(z)), reusing a = sigma(z)


def _sigmoid_scalar(z: float) -> float:
    e = math.exp(-abs(z))  # split on the sign of z so that exp never overflows
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def _sigmoid_into(z: Array, a: Array, scratch=None) -> Array:
    # 1 / (1 + e^-z): four SIMD passes (as exact as the split form, to 1 ulp); e^-z may overflow
    # to inf (the buffered engine ignores that): 1/(1+inf) = 0
    np.negative(z, a)
    np.exp(a, a)
    a += 1
    np.divide(1, a, a)
    return a


def _sigmoid_scale(d: Array, z: Array, a: Array, t: Array, mask: Array) -> Array:
    np.subtract(1, a, t)  # a (1 - a)
    t *= a
    d *= t
    return d


sigmoid = Activation(
    "sigmoid", _sigmoid, _sigmoid_prime,
    r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = a(1 - a)",
    text="σ(z) = 1/(1 + e^(-z))", text_derivative="σ'(z) = a(1 - a)",
    symbol="σ", tex_symbol=r"\sigma", derivative_uses="a", outputs="unit",
    a_form=("{a}(1 - {a})", "{a}(1 - {a})"),  # 0 < a < 1: no parentheses needed around a
    a_form_vector=(r"{a} \odot \left(1 - {a}\right)", "{a} ⊙ (1 - {a})"),
    torch=("Sigmoid", {}),
    scalar=Scalar(_sigmoid_scalar, lambda z, a: a * (1.0 - a)),
    mistakes=_standard_mistakes(_sigmoid, _sigmoid_prime, " ({f}'(a{l}) = {f}(a{l})(1 - {f}(a{l})))",
                                " (z{l}(1 - z{l}))"),
    inplace=(_sigmoid_into, _sigmoid_scale),
)


# -- tanh ------------------------------------------------------------------
def _tanh_prime(z: Array, a: Array) -> Array:
    return 1.0 - a * a  # tanh' = 1 - tanh^2, reusing a


def _tanh_scale(d: Array, z: Array, a: Array, t: Array, mask: Array) -> Array:
    np.multiply(a, a, t)  # 1 - a^2
    np.subtract(1, t, t)
    d *= t
    return d


tanh = Activation(
    "tanh", np.tanh, _tanh_prime,
    r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", r"\tanh'(z) = 1 - a^2",
    text="tanh(z) = (e^z - e^(-z))/(e^z + e^(-z))", text_derivative="tanh'(z) = 1 - a^2",
    symbol="tanh", tex_symbol=r"\tanh", derivative_uses="a",
    a_form=("1 - {a}^2", "1 - {a}^2"), a_number="({a})", a_form_vector=(r"1 - {a}^{{\odot 2}}", "1 - {a}^2"),
    torch=("Tanh", {}),
    scalar=Scalar(lambda z: math.tanh(z), lambda z, a: 1.0 - a * a),
    mistakes=_standard_mistakes(np.tanh, _tanh_prime),
    inplace=(lambda z, a, s=None: np.tanh(z, a), _tanh_scale),
)


# -- relu ------------------------------------------------------------------
def _relu(z: Array) -> Array:
    return np.maximum(z, 0)


def _relu_prime(z: Array, a: Array) -> Array:
    return (z > 0).astype(z.dtype)  # derivative taken as 0 at z = 0


def _relu_scale(d: Array, z: Array, a: Array, t: Array, mask: Array) -> Array:
    d *= np.greater(z, 0, mask)  # 1 for z > 0, else 0
    return d


relu = Activation(
    "relu", _relu, _relu_prime,
    r"\mathrm{relu}(z) = \max(0, z)",
    r"\mathrm{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
    text="relu(z) = max(0, z)", text_derivative="relu'(z) = 1 if z > 0, else 0",
    symbol="relu", tex_symbol=r"\mathrm{relu}",
    torch=("ReLU", {}),
    scalar=Scalar(lambda z: max(z, 0.0), lambda z, a: 1.0 if z > 0 else 0.0),
    mistakes=_standard_mistakes(_relu, _relu_prime),
    inplace=(lambda z, a, s=None: np.maximum(z, 0, out=a), _relu_scale),
)


# -- leaky relu --------------------------------------------------------------
LEAKY_SLOPE = 0.01


def _leaky(z: Array) -> Array:
    return np.where(z >= 0, z, LEAKY_SLOPE * z).astype(z.dtype, copy=False)


def _leaky_prime(z: Array, a: Array) -> Array:
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype, copy=False)


def _leaky_into(z: Array, a: Array, scratch=None) -> Array:
    np.multiply(z, z.dtype.type(LEAKY_SLOPE), out=a)  # max(z, slope z) is z for z >= 0, slope z below
    np.maximum(z, a, out=a)
    return a


def _leaky_scale(d: Array, z: Array, a: Array, t: Array, mask: Array) -> Array:
    t.fill(LEAKY_SLOPE)
    np.copyto(t, 1, where=np.greater(z, 0, mask))
    d *= t
    return d


leaky_relu = Activation(
    "leaky_relu", _leaky, _leaky_prime,
    rf"\mathrm{{lrelu}}(z) = \begin{{cases}} z & z \ge 0 \\ {LEAKY_SLOPE:g} z & z < 0 \end{{cases}}",
    rf"\mathrm{{lrelu}}'(z) = \begin{{cases}} 1 & z > 0 \\ {LEAKY_SLOPE:g} & z \le 0 \end{{cases}}",
    text=f"lrelu(z) = z if z >= 0, else {LEAKY_SLOPE:g} z",
    text_derivative=f"lrelu'(z) = 1 if z > 0, else {LEAKY_SLOPE:g}",
    symbol="lrelu", tex_symbol=r"\mathrm{lrelu}",
    torch=("LeakyReLU", {"negative_slope": LEAKY_SLOPE}), torch_accepts={"negative_slope": (LEAKY_SLOPE,)},
    scalar=Scalar(lambda z: z if z >= 0 else LEAKY_SLOPE * z, lambda z, a: 1.0 if z > 0 else LEAKY_SLOPE),
    mistakes=_standard_mistakes(_leaky, _leaky_prime),
    inplace=(_leaky_into, _leaky_scale),
)

# -- identity ----------------------------------------------------------------
identity = Activation(
    "identity", lambda z: z, lambda z, a: np.ones_like(z),
    r"f(z) = z", r"f'(z) = 1", text="f(z) = z", text_derivative="f'(z) = 1",
    torch=("Identity", {}), scalar=Scalar(lambda z: z, lambda z, a: 1.0), passthrough=True,
)


# -- softplus ----------------------------------------------------------------
def _softplus(z: Array) -> Array:
    # ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|): the exponent is never positive, so no overflow
    return (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))).astype(z.dtype, copy=False)


def _softplus_scalar(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


softplus = Activation(
    "softplus", _softplus, lambda z, a: _sigmoid(z),  # softplus' = sigma
    r"\mathrm{softplus}(z) = \ln(1 + e^{z})", r"\mathrm{softplus}'(z) = \frac{1}{1 + e^{-z}}",
    text="softplus(z) = ln(1 + e^z)", text_derivative="softplus'(z) = 1/(1 + e^(-z))",
    symbol="softplus", tex_symbol=r"\mathrm{softplus}",
    # torch's Softplus returns z itself above its threshold (default 20): at 40 the difference is
    # below float64's rounding, so the twin agrees to the last digit
    torch=("Softplus", {"beta": 1.0, "threshold": 40.0}), torch_accepts={"beta": (1.0,)},
    scalar=Scalar(_softplus_scalar, lambda z, a: _sigmoid_scalar(z)),
    mistakes=_standard_mistakes(_softplus, lambda z, a: _sigmoid(z)),
)


# -- elu (alpha = 1) ------------------------------------------------------------
def _elu(z: Array) -> Array:
    # e^z - 1 only of min(z, 0): never overflows, and expm1 keeps the digits near 0
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)


def _elu_prime(z: Array, a: Array) -> Array:
    return np.where(z > 0, 1.0, a + 1.0).astype(z.dtype, copy=False)  # (e^z - 1)' = e^z = a + 1


elu = Activation(
    "elu", _elu, _elu_prime,
    r"\mathrm{elu}(z) = \begin{cases} z & z > 0 \\ e^{z} - 1 & z \le 0 \end{cases}",
    r"\mathrm{elu}'(z) = \begin{cases} 1 & z > 0 \\ a + 1 & z \le 0 \end{cases}",
    text="elu(z) = z if z > 0, else e^z - 1", text_derivative="elu'(z) = 1 if z > 0, else a + 1",
    symbol="elu", tex_symbol=r"\mathrm{elu}", derivative_uses="a",
    torch=("ELU", {"alpha": 1.0}), torch_accepts={"alpha": (1.0,)},
    scalar=Scalar(lambda z: z if z > 0 else math.expm1(z), lambda z, a: 1.0 if z > 0 else a + 1.0),
    mistakes=_standard_mistakes(_elu, _elu_prime),
)


# -- softmax (not elementwise: its Jacobian couples the units) ---------------
def _softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift: exp never overflows
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_into(z: Array, a: Array, scratch) -> Array:
    r, s = scratch
    np.maximum.reduce(z, 1, None, r, True)  # positional: the hot loop of the buffered engine
    z -= r  # softmax and its log are shift-invariant: z is kept shifted (max 0)
    np.exp(z, a)
    np.add.reduce(a, 1, None, s, True)
    a /= s
    return a


def _softmax_row(z, a) -> None:
    zmax = z[0]
    for j in range(1, z.size):
        zmax = max(zmax, z[j])
    tot = 0.0
    for j in range(z.size):
        a[j] = math.exp(z[j] - zmax)
        tot += a[j]
    for j in range(z.size):
        a[j] /= tot


def _softmax_row_vjp(d, z, a) -> None:
    ga = 0.0  # J^T g = a * (g - <g, a>)
    for k in range(d.size):
        ga += d[k] * a[k]
    for k in range(d.size):
        d[k] = a[k] * (d[k] - ga)


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
    symbol="softmax", tex_symbol=r"\mathrm{softmax}", outputs="distribution",
    torch=("Softmax", {"dim": -1}), torch_accepts={"dim": (-1, 1)},
    scalar=Scalar(_softmax_row, _softmax_row_vjp, row=True),
    inplace=(_softmax_into, None),
)

ACTIVATIONS: dict[str, Activation] = {
    f.name: f for f in (sigmoid, tanh, relu, leaky_relu, identity, softmax, softplus, elu)
}
ALIASES = {"linear": "identity"}


def get(name: str) -> Activation:
    """The activation called ``name`` (``linear`` is an alias of ``identity``)."""
    return ACTIVATIONS[ALIASES.get(name, name)]
