"""Seed 003 (Back Propagation, Suneesh Jacob): a 2-2-2 sigmoid network, one example, 2 d.p.

    x = [0.1, 0.5], W1 = [[0.1, 0.3], [0.2, 0.4]], b1 = [0.25, 0.25],
    W2 = [[0.5, 0.6], [0.7, 0.8]], b2 = [0.35, 0.35], y = [0.05, 0.95], alpha = 0.6.

The notes number layers from the input (a^(1) = x), we number weight layers:

    theirs:  z^(2)  a^(2)  z^(3)  a^(3)  delta^(3) = dL/da^(3)  dL/db^(2)      dL/dw^(2)
    ours:    z1     a1     z2     a2     dL_da2                 delta2 = db2   dW2
    theirs:  delta^(2) = W2^T dL/db^(2)   dL/db^(1)      dL/dw^(1)   w_new^(1)  b_new^(2)
    ours:    dL_da1                        delta1 = db1   dW1         W1_new     b2_new

Every figure is shown to 2 decimals, and the notes round their inputs to 2 d.p. as they go.

THE NOTES ARE WRONG IN TWO PLACES (asserted below, with the true values):
  1. The loss factor. They state L = 1/2 * ((a1 - y1)^2 + (a2 - y2)^2) / 2 (our ``half_mse``)
     and dL/da = 1/2 (a - y) — but print dL/da = [0.68, -0.17] = a - y, which is the
     derivative of L = 1/2 sum (a - y)^2 (our ``half_sse``). Every later figure follows their
     numbers, so the whole worked solution is that of ``half_sse`` (built-in example
     ``seed-003-as-computed``), not of the stated loss (``seed-003``).
  2. The first-layer weight gradient. dL/dw^(1) = dL/db^(1) (a^(1))^T must use a^(1) = x, and
     is about [[0.00, 0.01], [0.00, 0.01]]; they print [[0.08, 0.08], [0.1, 0.5]] (dW2's first
     row over x). Their w_new^(1) is nonetheless the true one, not W1 - 0.6 x their dW1.
"""
import numpy as np
import pytest

import deltarule as dr

import printed


def shown(got, figure, decimals=2):
    """The notes' rounding: 2 decimals unless a figure says otherwise."""
    printed.shown(got, figure, decimals)


sig = dr.activations.sigmoid


def differs(got, printed, decimals=2):
    """``printed`` is NOT ``got`` rounded to ``decimals`` (some entry is off)."""
    got, printed = np.asarray(got, float), np.asarray(printed, float)
    assert np.any(np.abs(got - printed) > 0.5 * 10.0 ** -decimals * (1 + 1e-9)), (got, printed)


@pytest.fixture(scope="module")
def stated():
    p = dr.load_problem("seed-003")
    assert p.network.loss.name == "half_mse" and p.decimals == 2 and p.learning_rate == 0.6
    return p.steps(1)[0].values()


@pytest.fixture(scope="module")
def computed():
    p = dr.load_problem("seed-003-as-computed")
    assert p.network.loss.name == "half_sse"
    return p.steps(1)[0].values()


def test_forward_pass_is_the_same_for_both_losses(stated, computed):
    for v in (stated, computed):
        # z^(2) = W1 x + b1 = [0.1(0.1) + 0.3(0.5) + 0.25, 0.2(0.1) + 0.4(0.5) + 0.25] = [0.41, 0.47]
        np.testing.assert_allclose(v["z1"], [0.41, 0.47], rtol=1e-14)
        # a^(2) = sigma(z^(2)) = [0.60, 0.62]
        shown(v["a1"], [0.60, 0.62])
        # z^(3) = W2 a^(2) + b2 = [1.02, 1.26]; a^(3) = sigma(z^(3)) = [0.73, 0.78]
        shown(v["z2"], [1.02, 1.26])
        shown(v["a2"], [0.73, 0.78])


def test_sigmoid_slopes(computed):
    # sigma'(z^(2)) = a(1 - a) = [0.24, 0.24] (true 0.2398, 0.2367)
    shown(sig.derivative(computed["z1"], computed["a1"]), [0.24, 0.24])
    # sigma'(z^(3)) = [0.2, 0.17]: the second is true (0.1718 -> 0.17); the first carries
    # EARLY rounding: 0.73 (1 - 0.73) = 0.1971 -> 0.20 from the rounded a^(3) = 0.73, while the
    # true slope is 0.73493 x 0.26507 = 0.1948 -> 0.19.
    true = sig.derivative(computed["z2"], computed["a2"])
    shown(true[1], 0.17)
    shown(sig.derivative(None, np.array([0.73])), [0.20])
    shown(true[0], 0.19)
    assert abs(true[0] - 0.2) < 0.006  # explained by a^(3) rounded by 0.005


def test_mistake_1_loss_factor(stated, computed):
    # They write dL/da^(3) = 1/2 (a^(3) - y) for their stated L (half_mse, K = 2) and print
    # [0.68, -0.17] = [0.73 - 0.05, 0.78 - 0.95]: that is a - y, the half_sse derivative.
    shown(computed["dL_da2"], [0.68, -0.17])
    differs(stated["dL_da2"], [0.68, -0.17])
    # The true dL/da^(3) of the stated loss: 1/2 [0.734929 - 0.05, 0.779554 - 0.95]
    #   = 1/2 [0.684929, -0.170446] = [0.342464, -0.085223] -> [0.34, -0.09]
    np.testing.assert_allclose(stated["dL_da2"], [0.342464, -0.085223], atol=1e-6)
    shown(stated["dL_da2"], [0.34, -0.09])
    np.testing.assert_allclose(stated["dL_da2"], computed["dL_da2"] / 2, rtol=1e-15)
    # The losses themselves differ by the same factor 2 (K = 2 outputs).
    np.testing.assert_allclose(stated["loss"], computed["loss"] / 2, rtol=1e-15)


def test_backward_as_computed(computed):
    """The notes' numbers are those of half_sse (the loss their numbers use)."""
    v = computed
    # dL/db^(2) = delta^(3) . sigma'(z^(3)) = [0.68 x 0.2, -0.17 x 0.17] = [0.13, -0.03]
    # (0.68 x 0.2 = 0.136 would print 0.14; the printed 0.13 is the true 0.1334)
    shown(v["delta2"], [0.13, -0.03])
    shown(v["db2"], [0.13, -0.03])
    # dL/dw^(2) = dL/db^(2) (a^(2))^T = [0.13; -0.03][0.60 0.62] = [[0.08, 0.08], [-0.02, -0.02]]
    shown(v["dW2"], [[0.08, 0.08], [-0.02, -0.02]])
    # delta^(2) = (w^(2))^T dL/db^(2) = [[0.5, 0.7], [0.6, 0.8]][0.13; -0.03] = [0.05, 0.06]
    shown(v["dL_da1"], [0.05, 0.06])
    # dL/db^(1) = delta^(2) . sigma'(z^(2)) = [0.05 x 0.24, 0.06 x 0.24] = [0.01, 0.01]
    shown(v["delta1"], [0.01, 0.01])
    shown(v["db1"], [0.01, 0.01])


def test_mistake_2_first_layer_weight_gradient(stated, computed):
    claimed = [[0.08, 0.08], [0.1, 0.5]]
    # dL/dw^(1) = dL/db^(1) (a^(1))^T with a^(1) = x = [0.1, 0.5], NOT a^(2) = [0.60, 0.62]:
    # half_sse:  [0.011081; 0.013402][0.1 0.5] = [[0.001108, 0.005540], [0.001340, 0.006701]]
    #            -> [[0.00, 0.01], [0.00, 0.01]]
    np.testing.assert_allclose(computed["dW1"], [[0.001108, 0.005540], [0.001340, 0.006701]], atol=1e-6)
    shown(computed["dW1"], [[0.00, 0.01], [0.00, 0.01]])
    differs(computed["dW1"], claimed)
    # half_mse (the stated loss): half of that, [[0.000554, 0.002770], [0.000670, 0.003351]]
    np.testing.assert_allclose(stated["dW1"], [[0.000554, 0.002770], [0.000670, 0.003351]], atol=1e-6)
    shown(stated["dW1"], [[0.00, 0.00], [0.00, 0.00]])
    differs(stated["dW1"], claimed)
    # Even their own rule with a^(2) gives [[0.006, 0.0062], [0.006, 0.0062]], not the claim.
    differs(np.outer([0.01, 0.01], [0.60, 0.62]), claimed)


def test_updates_as_computed(computed):
    v = computed
    # w_new^(1) = w^(1) - 0.6 dL/dw^(1) = [[0.1, 0.3], [0.2, 0.4]]: right with the TRUE gradient
    # (true [[0.0993, 0.2967], [0.1992, 0.3960]]); with their printed gradient it would be
    # [[0.052, 0.252], [0.14, 0.1]].
    shown(v["W1_new"], [[0.1, 0.3], [0.2, 0.4]])
    differs(v["W1"] - 0.6 * np.array([[0.08, 0.08], [0.1, 0.5]]), [[0.1, 0.3], [0.2, 0.4]])
    # b_new^(1) = [0.25, 0.25] - 0.6 [0.011, 0.013] = [0.24, 0.24]
    shown(v["b1_new"], [0.24, 0.24])
    # w_new^(2) = w^(2) - 0.6 [[0.08, 0.08], [-0.02, -0.02]] = [[0.45, 0.55], [0.71, 0.81]]
    shown(v["W2_new"], [[0.45, 0.55], [0.71, 0.81]])
    # b_new^(2) = [0.35, 0.35] - 0.6 [0.13, -0.03] = [0.27, 0.37]
    shown(v["b2_new"], [0.27, 0.37])


def test_stated_loss_true_values(stated):
    """What the worked solution should have printed for the loss it states (half_mse)."""
    v = stated
    # delta2 = dL/da2 . sigma'(z2) = [0.342464 x 0.194807, -0.085223 x 0.171850]
    #        = [0.066715, -0.014646] -> [0.07, -0.01]   (printed: [0.13, -0.03])
    np.testing.assert_allclose(v["delta2"], [0.066715, -0.014646], atol=1e-6)
    shown(v["delta2"], [0.07, -0.01])
    differs(v["delta2"], [0.13, -0.03])
    # dW2 = delta2 a1^T, a1 = [0.601088, 0.615384]
    #     = [[0.040102, 0.041055], [-0.008803, -0.009013]] -> [[0.04, 0.04], [-0.01, -0.01]]
    np.testing.assert_allclose(v["dW2"], [[0.040102, 0.041055], [-0.008803, -0.009013]], atol=1e-6)
    shown(v["dW2"], [[0.04, 0.04], [-0.01, -0.01]])
    # dL_da1 = W2^T delta2 = [0.5(0.066715) + 0.7(-0.014646), 0.6(0.066715) + 0.8(-0.014646)]
    #        = [0.023106, 0.028313] -> [0.02, 0.03]
    np.testing.assert_allclose(v["dL_da1"], [0.023106, 0.028313], atol=1e-6)
    shown(v["dL_da1"], [0.02, 0.03])
    # delta1 = dL_da1 . sigma'(z1) = [0.023106 x 0.239783, 0.028313 x 0.236686] = [0.005540, 0.006701]
    np.testing.assert_allclose(v["delta1"], [0.005540, 0.006701], atol=1e-6)
    shown(v["db1"], [0.01, 0.01])
    # updates with alpha = 0.6:
    #   W2_new = [[0.5 - 0.024061, 0.6 - 0.024633], [0.7 + 0.005282, 0.8 + 0.005408]]
    #          = [[0.475939, 0.575367], [0.705282, 0.805408]] -> [[0.48, 0.58], [0.71, 0.81]]
    np.testing.assert_allclose(v["W2_new"], [[0.475939, 0.575367], [0.705282, 0.805408]], atol=1e-6)
    shown(v["W2_new"], [[0.48, 0.58], [0.71, 0.81]])
    #   b2_new = [0.35 - 0.040029, 0.35 + 0.008787] = [0.309971, 0.358787] -> [0.31, 0.36]
    np.testing.assert_allclose(v["b2_new"], [0.309971, 0.358787], atol=1e-6)
    shown(v["b2_new"], [0.31, 0.36])
    #   b1_new = [0.25 - 0.003324, 0.25 - 0.004021] = [0.246676, 0.245979] -> [0.25, 0.25]
    np.testing.assert_allclose(v["b1_new"], [0.246676, 0.245979], atol=1e-6)
    shown(v["b1_new"], [0.25, 0.25])
    #   W1_new = W1 - 0.6 dW1 = [[0.099668, 0.298338], [0.199598, 0.397990]] -> [[0.10, 0.30], [0.20, 0.40]]
    np.testing.assert_allclose(v["W1_new"], [[0.099668, 0.298338], [0.199598, 0.397990]], atol=1e-6)
    shown(v["W1_new"], [[0.10, 0.30], [0.20, 0.40]])


def test_note_1_same_minimum_for_both_losses():
    # Note 1: "in both cases the same weights are expected at the end of gradient descent" —
    # the two losses differ by the constant factor 2, so their gradients are parallel.
    a, b = dr.load_problem("seed-003"), dr.load_problem("seed-003-as-computed")
    ta, tb = a.network.trace(a.x, a.y), b.network.trace(b.x, b.y)
    for la, lb in zip(ta.layers, tb.layers):
        np.testing.assert_allclose(la.dW * 2, lb.dW, rtol=1e-15)
        np.testing.assert_allclose(la.db * 2, lb.db, rtol=1e-15)
