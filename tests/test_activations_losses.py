"""Activations and losses on their own: derivatives against finite differences, the formulas
of the contract's table, and numerical safety (finite, warning-free) for |z| up to 1e6."""
import warnings

import numpy as np
import pytest

import deltarule as dr
from deltarule import activations as A
from deltarule import losses as L

RNG = np.random.default_rng(20261126)
ELEMENTWISE = [A.sigmoid, A.tanh, A.relu, A.leaky_relu, A.identity, A.softplus, A.elu]
SQUARED = [L.sse, L.half_sse, L.mse, L.half_mse]


def central(f, z, h=1e-6):
    """Elementwise central difference of f at z."""
    return (f(z + h) - f(z - h)) / (2 * h)


def _away_from_kinks(shape):
    z = RNG.normal(0, 3, size=shape)
    z[np.abs(z) < 1e-3] = 0.5  # relu / leaky relu have a kink at 0
    return z


# -- derivatives ------------------------------------------------------------------------------------
@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.name)
def test_elementwise_derivative_matches_finite_differences(f):
    z = _away_from_kinks((7, 5))
    np.testing.assert_allclose(f.derivative(z, f(z)), central(f.value, z), rtol=1e-7, atol=1e-9)
    # backward is dL_da * f'(z)
    g = RNG.normal(size=z.shape)
    np.testing.assert_allclose(f.backward(g, z, f(z)), g * central(f.value, z), rtol=1e-7, atol=1e-9)


def test_relu_family_at_zero_and_slopes():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(A.relu(z), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(A.relu.derivative(z, A.relu(z)), [[0.0, 0.0, 1.0]])  # 0 at z = 0
    np.testing.assert_array_equal(A.leaky_relu(z), [[-0.02, 0.0, 3.0]])
    np.testing.assert_array_equal(A.leaky_relu.derivative(z, A.leaky_relu(z)), [[0.01, 0.01, 1.0]])
    assert A.get("linear") is A.identity


def test_softmax_backward_is_the_jacobian_vector_product():
    z = RNG.normal(size=(4, 5))
    a = A.softmax(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-15)
    g = RNG.normal(size=z.shape)
    h = 1e-6
    fd = np.zeros_like(z)
    for j in range(z.shape[1]):  # d/dz_j of sum_k g_k softmax(z)_k
        e = np.zeros_like(z)
        e[:, j] = h
        fd[:, j] = (np.sum(g * A.softmax(z + e), axis=1) - np.sum(g * A.softmax(z - e), axis=1)) / (2 * h)
    np.testing.assert_allclose(A.softmax.backward(g, z, a), fd, rtol=1e-6, atol=1e-10)
    # derivative() is the Jacobian's diagonal a_k (1 - a_k)
    diag = np.zeros_like(z)
    for j in range(z.shape[1]):
        e = np.zeros_like(z)
        e[:, j] = h
        diag[:, j] = (A.softmax(z + e)[:, j] - A.softmax(z - e)[:, j]) / (2 * h)
    np.testing.assert_allclose(A.softmax.derivative(z, a), diag, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("f, formula", [(A.sigmoid, lambda a: a * (1 - a)), (A.tanh, lambda a: 1 - a * a)],
                         ids=["sigmoid", "tanh"])
def test_sigmoid_and_tanh_derivatives_reuse_the_forward_output(f, formula):
    z = RNG.normal(size=(3, 4))
    a = f(z)
    # Given a poisoned z, the derivative is still right: it is computed from a alone.
    poisoned = np.full_like(z, np.nan)
    np.testing.assert_array_equal(f.derivative(poisoned, a), formula(a))
    # and it is exactly that expression of a, bit for bit
    np.testing.assert_array_equal(f.derivative(z, a), formula(a))


# -- losses: the contract's table, and their gradients -------------------------------------------------
def test_loss_values_follow_the_contract_table():
    yhat = RNG.uniform(0.05, 0.95, size=(6, 3))
    y = RNG.uniform(0, 1, size=(6, 3))
    K = 3
    sq = (yhat - y) ** 2
    np.testing.assert_allclose(L.sse.value(yhat, y), sq.sum(1), rtol=1e-15)
    np.testing.assert_allclose(L.half_sse.value(yhat, y), sq.sum(1) / 2, rtol=1e-15)
    np.testing.assert_allclose(L.mse.value(yhat, y), sq.sum(1) / K, rtol=1e-15)
    np.testing.assert_allclose(L.half_mse.value(yhat, y), sq.sum(1) / K / 2, rtol=1e-15)
    np.testing.assert_allclose(L.bce.value(yhat, y),
                               -np.sum(y * np.log(yhat) + (1 - y) * np.log(1 - yhat), axis=1), rtol=1e-13)
    p = y / y.sum(1, keepdims=True)
    np.testing.assert_allclose(L.cross_entropy.value(yhat, p), -np.sum(p * np.log(yhat), axis=1), rtol=1e-13)


@pytest.mark.parametrize("loss", list(L.LOSSES.values()), ids=lambda f: f.name)
def test_loss_gradient_matches_finite_differences(loss):
    yhat = RNG.uniform(0.1, 0.9, size=(5, 3))
    y = RNG.uniform(0, 1, size=(5, 3))
    if loss is L.cross_entropy:
        y = y / y.sum(1, keepdims=True)
    h = 1e-6
    fd = np.zeros_like(yhat)
    for k in range(3):
        e = np.zeros_like(yhat)
        e[:, k] = h
        fd[:, k] = (loss.value(yhat + e, y) - loss.value(yhat - e, y)) / (2 * h)
    np.testing.assert_allclose(loss.grad(yhat, y), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("loss, act", [(L.bce, A.sigmoid), (L.cross_entropy, A.softmax)], ids=["bce", "ce"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_output_delta_is_yhat_minus_y_and_agrees_with_the_chain(loss, act, reduction):
    z = RNG.normal(size=(4, 3))
    a = act(z)
    y = RNG.uniform(size=(4, 3))
    if loss is L.cross_entropy:
        y = y / y.sum(1, keepdims=True)
    per, dL_da, delta = L.output_layer(loss, act, z, a, y, reduction)
    scale = 1 / 4 if reduction == "mean" else 1.0
    np.testing.assert_allclose(delta, scale * (a - y), rtol=1e-15)
    # the unfused chain rule (dL/da through the activation's Jacobian) gives the same delta,
    # and the loss from logits equals the loss from probabilities
    np.testing.assert_allclose(act.backward(dL_da, z, a), delta, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(per, loss.value(a, y), rtol=1e-12)


# -- numerical safety for |z| up to 1e6 --------------------------------------------------------------
Z_EXTREME = np.array([[-1e6, -1e3, -50.0, -1.0, 0.0, 1.0, 50.0, 1e3, 1e6]])


class _NoWarnings:
    """No RuntimeWarning and no overflow / division / invalid floating-point event."""

    def __enter__(self):
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error")
        self._e = np.errstate(over="raise", divide="raise", invalid="raise")
        self._e.__enter__()

    def __exit__(self, *exc):
        self._e.__exit__(*exc)
        self._w.__exit__(*exc)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", list(A.ACTIVATIONS.values()), ids=lambda f: f.name)
def test_activation_finite_and_warning_free_at_extremes(f, dtype):
    z = Z_EXTREME.astype(dtype)
    with _NoWarnings():
        a = f(z)
        d = f.derivative(z, a)
        delta = f.backward(np.ones_like(z), z, a)
    for arr in (a, d, delta):
        assert arr.dtype == dtype and np.isfinite(arr).all()
    if f is A.sigmoid:
        assert a[0, 0] == 0.0 and a[0, -1] == 1.0 and 0.0 <= a.min() and a.max() <= 1.0


# (loss, output activation) pairs that the contract allows, and bce with outputs in (0, 1)
PAIRS = [(loss, act) for loss in SQUARED for act in A.ACTIVATIONS.values()] + [
    (L.bce, A.sigmoid), (L.bce, A.softmax), (L.cross_entropy, A.softmax)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss, act", PAIRS, ids=lambda x: x.name)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_output_layer_finite_and_warning_free_at_extremes(loss, act, dtype, reduction):
    z = np.concatenate([Z_EXTREME, -Z_EXTREME]).astype(dtype)  # 2 examples x 9 outputs
    y = np.tile(np.linspace(0, 1, 9), (2, 1)).astype(dtype)
    if loss is L.cross_entropy:
        y = (y / y.sum(1, keepdims=True)).astype(dtype)
    with _NoWarnings():
        a = act(z)
        per, dL_da, delta = L.output_layer(loss, act, z, a, y, reduction)
        total = L.reduce(per, reduction)
    assert np.isfinite(per).all() and np.isfinite(dL_da).all() and np.isfinite(delta).all()
    assert np.isfinite(total)
    assert dL_da.dtype == dtype and delta.dtype == dtype


def test_bce_from_a_very_negative_logit_is_exact():
    # sigmoid(-1000) underflows to 0, so ln(yhat) would be -inf; from the logit,
    # L = softplus(z) - y z = ln(1 + e^-1000) + 1000 = 1000 exactly in float64.
    z = np.array([[-1000.0]])
    with _NoWarnings():
        per, _, delta = L.output_layer(L.bce, A.sigmoid, z, A.sigmoid(z), np.array([[1.0]]), "mean")
    assert abs(per[0] - 1000.0) <= 1e-12
    np.testing.assert_allclose(delta, [[-1.0]], rtol=0, atol=1e-300)  # yhat - y = 0 - 1
    # through the public API: one sigmoid neuron z = x, bce
    net = dr.Network([dr.Layer([[1.0]], [0.0], "sigmoid")], "bce")
    with _NoWarnings():
        assert abs(net.evaluate([[-1000.0]], [[1.0]]) - 1000.0) <= 1e-12
        assert abs(net.evaluate([[1000.0]], [[0.0]]) - 1000.0) <= 1e-12
        assert net.evaluate([[1000.0]], [[1.0]]) == 0.0


def test_cross_entropy_from_a_very_negative_logit_is_exact():
    # log-softmax: z = (-1000, 0), y = (1, 0): L = -(z_1 - logsumexp(z)) = 1000 + ln(1 + e^-1000)
    z = np.array([[-1000.0, 0.0]])
    with _NoWarnings():
        per, _, _ = L.output_layer(L.cross_entropy, A.softmax, z, A.softmax(z), np.array([[1.0, 0.0]]), "sum")
    assert abs(per[0] - 1000.0) <= 1e-12
