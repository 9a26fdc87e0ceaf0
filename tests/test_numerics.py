"""Numerics: activations, losses and their derivatives stay finite and warning-free at the
extremes; the logit-based losses match PyTorch and a 50-digit reference; gradients match
central finite differences on random networks (hypothesis).

"Warning-free" is checked with every warning an error and numpy raising on overflow, invalid
operations and division by zero. Underflow is allowed: sigmoid(-1e6) = e^-1e6 / (1 + e^-1e6)
rounds to 0 by design, which is the correctly rounded answer, not an error.
"""
import warnings

import numpy as np
import pytest

from conftest import require_module
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deltarule import activations as A
from deltarule import losses as L
from deltarule.network import Layer, Network

DTYPES = [np.float64, np.float32]
EXTREMES = [-1e6, -1e4, -1000.0, -88.8, -30.0, -1.0, -1e-30, 0.0, 1e-30, 1.0, 30.0, 88.8, 1000.0, 1e4, 1e6]


class strict:
    """Every warning an error, and numpy raising instead of warning (underflow aside)."""

    def __enter__(self):
        self.w = warnings.catch_warnings()
        self.w.__enter__()
        warnings.simplefilter("error")
        self.np = np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")
        self.np.__enter__()

    def __exit__(self, *exc):
        self.np.__exit__(*exc)
        self.w.__exit__(*exc)
        return False


def _z(dtype):
    """A (rows, 3) batch mixing extremes in every unit (softmax sees mixed rows)."""
    v = np.array(EXTREMES, dtype=dtype)
    return np.stack([v, v[::-1], np.roll(v, 5)], axis=1)


def _finite(*arrays):
    return all(np.isfinite(np.asarray(a)).all() for a in arrays)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_activation_value_derivative_backward_finite_at_extremes(name, dtype):
    f = A.get(name)
    z = _z(dtype)
    with strict():
        a = f.value(z)
        d = f.derivative(z, a)
        delta = f.backward(np.ones_like(z), z, a)
    assert _finite(a, d, delta)
    assert a.dtype == d.dtype == delta.dtype == dtype
    if name in ("sigmoid", "softmax"):
        assert ((a >= 0) & (a <= 1)).all()
    if name == "tanh":
        assert (np.abs(a) <= 1).all()


def _targets(loss_name, shape, dtype):
    rng = np.random.default_rng(0)
    if loss_name == "cross_entropy":
        p = rng.random(shape)
        return (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    if loss_name == "bce":
        return np.where(rng.random(shape) < 0.5, 0.0, 1.0).astype(dtype)
    return rng.uniform(-2, 2, shape).astype(dtype)


PAIRS = [(loss, act) for loss in sorted(L.LOSSES) for act in sorted(A.ACTIVATIONS)
         if loss != "cross_entropy" or act == "softmax"]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name,act_name", PAIRS)
def test_loss_value_grad_and_output_delta_finite_at_extremes(loss_name, act_name, dtype, reduction):
    loss, act = L.get(loss_name), A.get(act_name)
    z = _z(dtype)
    y = _targets(loss_name, z.shape, dtype)
    with strict():
        a = act.value(z)
        value, grad = loss.value(a, y), loss.grad(a, y)
        per_example, dL_da, delta = L.output_layer(loss, act, z, a, y, reduction)
    assert _finite(value, grad, per_example, dL_da, delta)
    assert dL_da.dtype == delta.dtype == dtype
    assert (per_example >= 0).all()  # every convention here is a sum of non-negative terms


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_minus_1000_with_target_1_is_1000(dtype):
    # -ln sigmoid(-1000) = ln(1 + e^1000) = 1000 + ln(1 + e^-1000) = 1000 (to far below 1e-12);
    # ln of the rounded probability would be ln(0) = -inf, or ln(eps) = 36 with clipping.
    z = np.array([[-1000.0], [1000.0]], dtype=dtype)
    y = np.array([[1.0], [0.0]], dtype=dtype)
    with strict():
        a = A.sigmoid.value(z)
        per_example, _, delta = L.output_layer(L.bce, A.sigmoid, z, a, y, "sum")
    assert per_example[0] == pytest.approx(1000.0, rel=1e-12, abs=0)
    assert per_example[1] == pytest.approx(1000.0, rel=1e-12, abs=0)  # the mirror case
    np.testing.assert_array_equal(delta, [[-1.0], [1.0]])  # yhat - y, computed from a = 0 and 1


def test_cross_entropy_at_a_gap_of_1000_is_1000():
    # softmax([-1000, 0]) = [e^-1000, 1] rounds to [0, 1]; -ln of the first is 1000 exactly
    z, y = np.array([[-1000.0, 0.0]]), np.array([[1.0, 0.0]])
    with strict():
        per_example, _, delta = L.output_layer(L.cross_entropy, A.softmax, z, A.softmax.value(z), y, "sum")
    assert per_example[0] == pytest.approx(1000.0, rel=1e-12, abs=0)
    np.testing.assert_array_equal(delta, [[-1.0, 1.0]])


# -- against PyTorch and a 50-digit reference, |z| <= 30 ------------------------------------------
EPS = np.finfo(np.float64).eps


def _grid():
    rng = np.random.default_rng(6)
    z = np.concatenate([np.linspace(-30, 30, 241), rng.uniform(-30, 30, 200)])
    y = np.concatenate([np.tile([0.0, 1.0], 200), rng.random(41)])[: len(z)]
    zz = np.concatenate([z, z, z])
    yy = np.concatenate([y, np.zeros_like(y), np.ones_like(y)])
    return zz[:, None], yy[:, None]


def _bce(z, y):
    return L.output_layer(L.bce, A.sigmoid, z, A.sigmoid.value(z), y, "sum")[0]


def _ce(z, y):
    return L.output_layer(L.cross_entropy, A.softmax, z, A.softmax.value(z), y, "sum")[0]


def _ce_batch():
    rng = np.random.default_rng(7)
    z = rng.uniform(-30, 30, (300, 4))
    z[:50, 0] = 30.0  # confident rows: the loss is ~1e-26 when y puts all mass on unit 1
    z[:50, 1:] = -30.0
    y = rng.random((300, 4)) ** 3
    y /= y.sum(axis=1, keepdims=True)
    y[:100] = np.eye(4)[rng.integers(0, 4, 100)]
    y[:25] = np.eye(4)[0]
    return z, y


def test_bce_and_cross_entropy_agree_with_pytorch_logit_losses():
    torch = require_module("torch")
    F = torch.nn.functional
    z, y = _grid()
    ours = _bce(z, y)
    theirs = F.binary_cross_entropy_with_logits(torch.from_numpy(z), torch.from_numpy(y), reduction="none")
    theirs = theirs.numpy()[:, 0]
    # 1e-12 relative; PyTorch's (1-y) z - log_sigmoid(z) cancels where the loss is tiny (z = -30,
    # y = 0: 9.24e-14 for the true 9.36e-14), an absolute error of about one rounding of z,
    # so the bound allows eps*|z| besides (the 50-digit test below holds ours to 1e-14 everywhere)
    bound = 1e-12 * np.abs(theirs) + EPS * np.abs(z[:, 0])
    assert (np.abs(ours - theirs) <= bound).all(), np.max(np.abs(ours - theirs) / bound)
    big = theirs >= 0.01  # where that rounding is below 1e-12 of the loss: plain 1e-12 relative
    assert big.sum() > 500
    np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-12, atol=0)

    z, y = _ce_batch()
    ours = _ce(z, y)
    theirs = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(y), reduction="none").numpy()
    bound = 1e-12 * np.abs(theirs) + EPS * np.abs(z).max(axis=1)
    assert (np.abs(ours - theirs) <= bound).all()
    big = theirs >= 0.01
    assert big.sum() > 200
    np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-12, atol=0)


def test_bce_and_cross_entropy_are_correctly_rounded_to_1e_14_against_50_digits():
    mp = require_module("mpmath")
    mp.mp.dps = 50
    z, y = _grid()
    ours = _bce(z, y)
    for zi, yi, got in zip(z[:, 0], y[:, 0], ours):
        s = 1 / (1 + mp.exp(-mp.mpf(zi)))
        want = -(yi * mp.log(s) + (1 - yi) * mp.log(1 - s))
        assert abs(got - want) <= 1e-14 * abs(want), (zi, yi, got, want)
    z, y = _ce_batch()
    ours = _ce(z, y)
    for zr, yr, got in zip(z, y, ours):
        lse = mp.log(sum(mp.exp(mp.mpf(v)) for v in zr))
        want = -sum(mp.mpf(t) * (mp.mpf(v) - lse) for v, t in zip(zr, yr))
        assert abs(got - want) <= 1e-14 * abs(want), (zr, yr, got, want)


# -- analytic gradients against central finite differences (hypothesis) -----------------------------
SMOOTH_HIDDEN = ["sigmoid", "tanh", "identity", "relu", "leaky_relu"]
OUTPUT = {"sse": ["sigmoid", "tanh", "identity", "relu", "leaky_relu", "softmax"],
          "half_sse": ["sigmoid", "identity", "softmax"], "mse": ["tanh", "identity"],
          "half_mse": ["sigmoid", "identity"], "bce": ["sigmoid", "softmax"], "cross_entropy": ["softmax"]}


@st.composite
def problems(draw):
    sizes = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    loss = draw(st.sampled_from(sorted(OUTPUT)))
    out_act = draw(st.sampled_from(OUTPUT[loss]))
    if out_act == "softmax" and sizes[-1] == 1:
        sizes[-1] = 2
    acts = [draw(st.sampled_from(SMOOTH_HIDDEN)) for _ in sizes[2:]] + [out_act]
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.uniform(-1.5, 1.5, (u, f)), rng.uniform(-1, 1, u), act)
              for f, u, act in zip(sizes, sizes[1:], acts)]
    net = Network(tuple(layers), loss, draw(st.sampled_from(["mean", "sum"])))
    x = rng.uniform(-2, 2, (n, sizes[0]))
    K = sizes[-1]
    if loss == "cross_entropy":
        y = rng.random((n, K))
        y /= y.sum(axis=1, keepdims=True)
    elif loss == "bce":
        y = rng.random((n, K))
    else:
        y = rng.uniform(-1, 1, (n, K))
    return net, x, y


@settings(max_examples=150, deadline=None)
@given(problems())
def test_analytic_gradients_match_central_finite_differences(problem):
    net, x, y = problem
    trace = net.trace(x, y)
    for lay, lt in zip(net.layers, trace.layers):  # relu's kink: the derivative is one-sided there
        if lay.activation.name in ("relu", "leaky_relu"):
            assume(np.abs(lt.z).min() > 1e-4)
    theta = net.parameters()
    analytic = np.concatenate([np.concatenate([lt.dW.ravel(), lt.db]) for lt in trace.layers])
    h = 1e-6
    numeric = np.empty_like(theta)
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (net.with_parameters(up).evaluate(x, y) - net.with_parameters(down).evaluate(x, y)) / (2 * h)
    # central differences: truncation ~h^2, rounding ~eps*|L|/h
    tol = 1e-6 * np.abs(numeric) + 1e-8 * (1 + abs(trace.loss))
    assert (np.abs(analytic - numeric) <= tol).all(), (net, np.abs(analytic - numeric) - tol)
