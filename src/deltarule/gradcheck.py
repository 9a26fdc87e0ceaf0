"""Analytic gradients (the delta rule) against central finite differences.

For every parameter theta of the network, on the problem's whole data set (the batch loss,
reduced as the problem says), in float64:

    analytic  = dW, db from ``Network.trace`` (the backward pass)
    numeric   = (L(theta + h) - L(theta - h)) / (2 h),   h = 1e-6 (by default)
    relative  = |analytic - numeric| / max(|analytic|, |numeric|, 1e-8)

A parameter AGREES when ``|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)``
with rtol = 1e-5 and atol = 1e-8 (central differences are accurate to about h^2 ~ 1e-12
relative, plus rounding of about eps/h ~ 1e-10 in the loss, so a correct backward pass
passes with a wide margin and a wrong derivative fails by orders of magnitude). relu and
leaky_relu have a kink at z = 0: a pre-activation within h of 0 can make the difference
quotient straddle it, which gradcheck reports as a disagreement.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .network import Network

STEP = 1e-6
RTOL = 1e-5
ATOL = 1e-8
TOLERANCE = (f"agree when |analytic - numeric| <= {ATOL:g} + {RTOL:g} * max(|analytic|, |numeric|); "
             f"central differences with h = {STEP:g}, float64, on the whole data set")


@dataclass(frozen=True)
class GradRow:
    """One parameter: its journal name, both gradients, their relative error, and the verdict."""

    name: str
    analytic: float
    numeric: float
    relative_error: float
    agree: bool


@dataclass(frozen=True)
class GradCheck:
    """Per-parameter analytic vs numeric gradients; ``ok`` when every one agrees."""

    rows: tuple[GradRow, ...]
    tolerance: str = TOLERANCE

    @property
    def ok(self) -> bool:
        """True when every parameter agrees (``deltarule gradcheck`` exits 0)."""
        return all(r.agree for r in self.rows)

    @property
    def max_relative_error(self) -> float:
        """The largest relative error over the parameters (0 for none)."""
        return max((r.relative_error for r in self.rows), default=0.0)

    def summary(self) -> str:
        """One line: how many parameters, whether they agree, the largest relative error."""
        bad = sum(not r.agree for r in self.rows)
        verdict = "all agree" if not bad else f"{bad} disagree"
        return (f"{len(self.rows)} parameters: {verdict} "
                f"(largest relative error {self.max_relative_error:.2e})")

    def to_json(self) -> dict:
        """{"parameters": [row fields], "agree": bool, "tolerance": text}."""
        return {"parameters": [r.__dict__ for r in self.rows], "agree": self.ok,
                "tolerance": self.tolerance}

    def __rich__(self):
        from .explain import gradcheck_report

        return gradcheck_report.rich(self)

    def _repr_html_(self) -> str:
        from .explain import gradcheck_report

        return gradcheck_report.html(self)


def relative_error(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """|a - n| / max(|a|, |n|, 1e-8), elementwise."""
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)


def gradcheck(network, x=None, y=None, step: float = STEP, rtol: float = RTOL, atol: float = ATOL,
              examples: int | None = None) -> GradCheck:
    """Analytic vs central-difference gradient of the batch loss for every parameter (float64).

    ``network``: a :class:`Network` (then give ``x`` (n, d) and ``y`` (n, K)), or a Problem,
    a problem file or a built-in example name (its data is used). ``examples``: use only the
    first that many examples (the check costs two passes over them per parameter).

    >>> import deltarule as dr
    >>> result = dr.gradcheck("seed-002")
    >>> result.ok, len(result.rows), result.rows[0].name
    (True, 9, 'W1[1,1]')

    Parameters so large that the loss or a gradient overflows float64 are refused
    (:class:`~deltarule.errors.InputError`, field ``layers``): there is nothing finite to compare.
    """
    _require_settings(step, rtol, atol, examples)
    source = ""
    if not isinstance(network, Network):
        from .problem import Problem, load_problem

        problem = network if isinstance(network, Problem) else load_problem(network)
        problem.require("data")
        network, x, y, source = problem.network, problem.x, problem.y, problem.source
    net = network.astype("float64")
    x, y = _data(net, x, y, examples)
    with np.errstate(all="ignore"):  # huge parameters overflow float64: refused below, not warned
        analytic = net.trace(x, y).gradient()
        numeric = _central_differences(net, x, y, step)
        _require_finite(net, analytic, numeric, source)
        rel = relative_error(analytic, numeric)
        agree = np.abs(analytic - numeric) <= atol + rtol * np.maximum(np.abs(analytic), np.abs(numeric))
    names = net.parameter_names()
    rows = tuple(GradRow(n, float(a), float(m), float(r), bool(g))
                 for n, a, m, r, g in zip(names, analytic, numeric, rel, agree))
    tol = (f"agree when |analytic - numeric| <= {atol:g} + {rtol:g} * max(|analytic|, |numeric|); "
           f"central differences with h = {step:g}, float64, on the whole data set")
    return GradCheck(rows, tol)


def _require_settings(step, rtol, atol, examples) -> None:
    """h, rtol, atol positive finite numbers; ``examples`` None or a positive integer."""
    from .fields import integer, number

    for value, field in ((step, "step"), (rtol, "rtol"), (atol, "atol")):
        if not number(value, field) > 0:
            raise InputError(f"must be positive, got {value!r}", field)
    if examples is not None:
        integer(examples, "examples", 1)


def _data(net: Network, x, y, examples: int | None) -> tuple[np.ndarray, np.ndarray]:
    """x (n, inputs) and y (n, outputs) as float64, the first ``examples`` of them."""
    from .fields import matrix

    fan_in, outputs = net.layers[0].W.shape[1], net.layers[-1].W.shape[0]
    if x is None or y is None:
        raise InputError("give the inputs x and the targets y with a network", "x" if x is None else "y")
    x = matrix(x, "x", None, fan_in)
    y = matrix(y, "y", len(x), outputs)
    return x[:examples].astype(np.float64), y[:examples].astype(np.float64)


def _require_finite(net: Network, analytic: np.ndarray, numeric: np.ndarray, source: str) -> None:
    """Refuse, in one line, gradients that overflowed (naming the largest parameter)."""
    if np.isfinite(analytic).all() and np.isfinite(numeric).all():
        return
    from .params import flatten

    values = flatten([lay.W for lay in net.layers], [lay.b for lay in net.layers])
    i = int(np.argmax(np.abs(values)))
    raise InputError(f"the loss or its gradient overflows float64 at these parameters (the largest is "
                     f"{net.parameter_names()[i]} = {values[i]:.3g}): gradcheck compares finite numbers only",
                     "layers", source)


def _central_differences(net: Network, x: np.ndarray, y: np.ndarray, step: float) -> np.ndarray:
    """(L(p + h) - L(p - h)) / 2h for every parameter p, in the order of ``Network.parameters``.

    The loss is the core's own (``forward_arrays``, ``losses.output_layer``, ``losses.reduce``)
    on plain arrays, each parameter moved in place and put back."""
    from . import losses
    from .network import forward_arrays

    Ws = [np.array(lay.W) for lay in net.layers]
    bs = [np.array(lay.b) for lay in net.layers]
    acts = [lay.activation for lay in net.layers]

    def loss() -> float:
        zs, as_ = forward_arrays(Ws, bs, acts, x)
        per_example = losses.output_layer(net.loss, acts[-1], zs[-1], as_[-1], y, net.reduction)[0]
        return losses.reduce(per_example, net.reduction)

    out = []
    for W, b in zip(Ws, bs):
        for arr in (W.reshape(-1), b):  # a view: moving arr[i] moves the parameter
            for i in range(arr.size):
                keep = arr[i]
                arr[i] = keep + step
                up = loss()
                arr[i] = keep - step
                down = loss()
                arr[i] = keep
                out.append((up - down) / (2 * step))
    return np.array(out)



def check_problem(problem, examples: int | None = None) -> GradCheck:
    """gradcheck on a :class:`~deltarule.problem.Problem`'s network and data."""
    return gradcheck(problem, examples=examples)
