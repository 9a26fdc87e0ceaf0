"""Seed 001 (Backpropagation Algorithm Derivation): a 2-2-1 sigmoid network, one example.

    x = [0.5, 1.0], y = 1.0, W1 = [[0.4, 0.6], [0.3, 0.5]], b1 = [0.1, 0.2],
    W2 = [[0.7, 0.8]], b2 = [0.3], L = 1/2 (y - yhat)^2 (``half_sse``), alpha = 0.5.

Each printed number is checked at its own printed precision (3 or 4 decimals).

The notes ROUND EARLY: they round a1 to [0.711, 0.701] and carry the rounded figures on
(z2 = 1.359, yhat = 0.796, sigma'(z2) = 0.162, ...). A figure marked ``early`` below is
checked twice, explicitly:
  * recomputed from the notes' own rounded inputs with the core's formulas (the
    ``Activation``/``Loss`` objects), which must give the printed figure, and
  * the true value (from the trace) within the small distance the early rounding explains.
Every other figure is the true value rounded to the printed decimals.
"""
import numpy as np
import pytest

import deltarule as dr

from printed import near, shown

sig = dr.activations.sigmoid
half_sse = dr.losses.half_sse


@pytest.fixture(scope="module")
def v():
    p = dr.load_problem("seed-001")
    assert p.network.loss.name == "half_sse" and p.learning_rate == 0.5
    return p.steps(1)[0].values()


def test_forward(v):
    # z1_1 = 0.4(0.5) + 0.6(1.0) + 0.1 = 0.2 + 0.6 + 0.1 = 0.9
    # z1_2 = 0.3(0.5) + 0.5(1.0) + 0.2 = 0.15 + 0.5 + 0.2 = 0.85
    np.testing.assert_allclose(v["z1"], [0.9, 0.85], rtol=1e-15)
    # a1 = sigmoid(z1) = [1/(1+e^-0.9), 1/(1+e^-0.85)] = [0.711, 0.701]
    shown(v["a1"], [0.711, 0.701], 3)
    # 0.7(0.711) = 0.498, 0.8(0.701) = 0.561: products of the printed a1, themselves rounded
    shown(0.7 * 0.711, 0.498, 3)
    shown(0.8 * 0.701, 0.561, 3)
    # early: z2 = 0.498 + 0.561 + 0.3 = 1.359 (the true z2 is 1.35812 -> 1.358)
    shown(0.498 + 0.561 + 0.3, 1.359, 3)
    near(v["z2"], 1.359, 0.001)  # a1 off by <= 0.0005 each, times 0.7 and 0.8, plus the products' rounding
    # early: yhat = sigmoid(1.359) = 0.796 (the true yhat is 0.79545 -> 0.795)
    shown(sig(np.array([1.359])), 0.796, 3)
    near(v["a2"], 0.796, 0.001)


def test_loss(v):
    # early: L = 1/2 (1.0 - 0.796)^2 = 1/2 (0.204)^2 = 1/2 (0.0416) = 0.0208 (true 0.020920 -> 0.0209)
    shown(1.0 - 0.796, 0.204, 3)
    shown(0.204 ** 2, 0.0416, 4)
    shown(half_sse.value(np.array([[0.796]]), np.array([[1.0]]))[0], 0.0208, 4)
    near(v["loss"], 0.0208, 0.00015)  # yhat off by 0.00055 moves L by 0.204 * 0.00055 = 0.00011


def test_output_layer(v):
    # early: sigma'(z2) = 0.796 (1 - 0.796) = 0.796 x 0.204 = 0.162 (true 0.16271 -> 0.163)
    sprime = sig.derivative(np.array([1.359]), np.array([0.796]))[0]
    shown(sprime, 0.162, 3)
    a2, z2 = v["a2"], v["z2"]
    near(sig.derivative(z2, a2)[0], 0.162, 0.001)
    # dL/dz2 = (0.796 - 1.0) x 0.162 = -0.204 x 0.162 = -0.033; true -0.03328 -> -0.033 as well
    shown(half_sse.grad(np.array([0.796]), np.array([1.0]))[0] * 0.162, -0.033, 3)
    # early: dL/da2 = yhat - y = 0.796 - 1.0 = -0.204 (true -0.20455 -> -0.205)
    near(v["dL_da2"], [-0.204], 0.0006)
    shown(v["delta2"], [-0.033], 3)
    # dL/dw2 = delta2 a1^T: -0.033 x 0.711 = -0.023 (early: true -0.02366 -> -0.024),
    #                       -0.033 x 0.701 = -0.023 (true -0.02332 -> -0.023)
    shown(-0.033 * 0.711, -0.023, 3)
    near(v["dW2"][0, 0], -0.023, 0.001)
    shown(v["dW2"][0, 1], -0.023, 3)
    # dL/db2 = delta2 = -0.033
    shown(v["db2"], [-0.033], 3)


def test_hidden_layer(v):
    # early: sigma'(z1_1) = 0.711 (1 - 0.711) = 0.205479 -> 0.205
    #        (true 0.710950 x 0.289050 = 0.2055003 -> 0.206, just over the tie)
    # sigma'(z1_2) = 0.701 (1 - 0.701) = 0.210; true 0.209773 -> 0.210
    shown(sig.derivative(None, np.array([0.711, 0.701])), [0.205, 0.210], 3)
    true_slope = sig.derivative(v["z1"], v["a1"])
    near(true_slope[0], 0.205, 0.00051)
    shown(true_slope[1], 0.210, 3)
    # early: delta1 = W2^T delta2 * sigma'(z1):
    #   0.7 x (-0.033) x 0.205 = -0.0047, 0.8 x (-0.033) x 0.210 = -0.0055
    #   (true -0.0047875 -> -0.0048 and -0.0055852 -> -0.0056: delta2 = -0.0333 was rounded to -0.033)
    notes = sig.backward(np.array([0.7, 0.8]) * -0.033, None, np.array([0.711, 0.701]))
    shown(notes, [-0.0047, -0.0055], 4)
    near(v["delta1"], [-0.0047, -0.0055], 0.00011)  # 1% of delta2 dropped: 0.0001 at most
    near(v["db1"], [-0.0047, -0.0055], 0.00011)     # dL/db1 = delta1, printed again
    # dL/dW1 = delta1 x^T, x = [0.5, 1.0]:
    #   -0.0047 x 0.5 = -0.0024 (true -0.0023937 -> -0.0024), -0.0047 x 1.0 = -0.0047 (early),
    #   -0.0055 x 0.5 = -0.0028 (true -0.0027926 -> -0.0028), -0.0055 x 1.0 = -0.0055 (early)
    dW1 = v["dW1"]
    shown(dW1[:, 0], [-0.0024, -0.0028], 4)
    shown(np.outer(notes, [0.5, 1.0])[:, 1], [-0.0047, -0.0055], 4)
    near(dW1[:, 1], [-0.0047, -0.0055], 0.00011)


def test_update(v):
    # early: W2_new = [0.7, 0.8] - 0.5 x [-0.023, -0.023] = [0.7115, 0.8115]
    #        (true 0.71183 -> 0.7118 and 0.81166 -> 0.8117: from the rounded gradients)
    shown(np.array([0.7, 0.8]) - 0.5 * np.array([-0.023, -0.023]), [0.7115, 0.8115], 4)
    near(v["W2_new"][0], [0.7115, 0.8115], 0.0005)  # eta x (gradient rounding <= 0.0007)
    # early: b2_new = 0.3 - 0.5 x (-0.033) = 0.3165 (true 0.31664 -> 0.3166)
    shown(0.3 - 0.5 * -0.033, 0.3165, 4)
    near(v["b2_new"], [0.3165], 0.0002)
    # W1_new = W1 - 0.5 dW1 = [[0.4012, 0.6024], [0.3014, 0.5028]]: the true values round to these
    shown(v["W1_new"], [[0.4012, 0.6024], [0.3014, 0.5028]], 4)
    # b1_new = b1 - 0.5 db1 = [0.1024, 0.2028]: likewise
    shown(v["b1_new"], [0.1024, 0.2028], 4)


def test_update_is_gradient_descent(v):
    # W' = W - alpha dW for both layers, exactly as the notes' update rule says
    np.testing.assert_allclose(v["W1_new"], v["W1"] - 0.5 * v["dW1"], rtol=0, atol=1e-16)
    np.testing.assert_allclose(v["b2_new"], v["b2"] - 0.5 * v["db2"], rtol=0, atol=1e-16)
    assert v["loss_after"] < v["loss"]
