"""The delta rule against central finite differences of the loss, in float64.

For every (output activation, loss) pair that the contract allows — the squared losses with
every activation, ``bce`` with sigmoid and with softmax (outputs in (0, 1)), ``cross_entropy``
with softmax — with every hidden activation, both reductions and several batch sizes:

    dL/dtheta_k ~ (L(theta + h e_k) - L(theta - h e_k)) / 2h,   L = Network.evaluate
"""
import numpy as np
import pytest

import deltarule as dr
from deltarule import activations as A

ACTS = list(A.ACTIVATIONS)
PAIRS = [(loss, act) for loss in ("sse", "half_sse", "mse", "half_mse") for act in ACTS] + [
    ("bce", "sigmoid"), ("bce", "softmax"), ("cross_entropy", "softmax")]


def analytic(trace):
    return np.concatenate([np.concatenate([lt.dW.ravel(), lt.db]) for lt in trace.layers])


def numeric(net, x, y, h=1e-6):
    theta = net.parameters()
    g = np.empty_like(theta)
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = h
        g[k] = (net.with_parameters(theta + e).evaluate(x, y)
                - net.with_parameters(theta - e).evaluate(x, y)) / (2 * h)
    return g


def targets(loss, rng, n, k):
    if loss == "cross_entropy":
        y = rng.uniform(size=(n, k))
        return y / y.sum(1, keepdims=True)
    if loss == "bce":
        return rng.uniform(size=(n, k))
    return rng.normal(size=(n, k))


def network(rng, hidden, out, loss, reduction, sizes=(3, 4, 3)):
    layers = [dr.Layer(rng.normal(0, 0.8, size=(m, n)), rng.normal(0, 0.5, size=m), act)
              for n, m, act in zip(sizes, sizes[1:], (hidden, out))]
    return dr.Network(layers, loss, reduction)


def assert_gradients_agree(net, x, y):
    tr = net.trace(x, y)
    np.testing.assert_allclose(tr.loss, net.evaluate(x, y), rtol=1e-14)
    fd = numeric(net, x, y)
    # central differences carry an error of about 1e-7 of the largest gradient (h^2 terms and
    # round-off of L / h); the comparison is relative to that scale
    np.testing.assert_allclose(analytic(tr), fd, rtol=1e-6, atol=1e-7 * max(1.0, np.abs(fd).max()))


@pytest.mark.parametrize("batch", [1, 3, 8])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss, out", PAIRS, ids=lambda v: v)
def test_delta_rule_matches_finite_differences(loss, out, reduction, batch):
    # two hidden activations per case, rotating, so that each (loss, output) pair meets
    # every hidden activation over its batch sizes and reductions
    k = PAIRS.index((loss, out)) + batch + 3 * (reduction == "sum")
    for i in (k % len(ACTS), (k + 3) % len(ACTS)):
        hidden = ACTS[i]
        rng = np.random.default_rng([PAIRS.index((loss, out)), batch, i, reduction == "sum"])
        net = network(rng, hidden, out, loss, reduction)
        x = rng.normal(size=(batch, 3))
        assert_gradients_agree(net, x, targets(loss, rng, batch, 3))


@pytest.mark.parametrize("act", ACTS)
def test_single_neuron_and_deep_narrow_networks(act):
    rng = np.random.default_rng(ACTS.index(act))
    # one neuron, one input (the seeds' smallest model), and a deep 2-1-1-2-1 chain
    for sizes in [(1, 1), (2, 1, 1, 2, 1)]:
        layers = [dr.Layer(rng.normal(size=(m, n)), rng.normal(size=m), act)
                  for n, m in zip(sizes, sizes[1:])]
        net = dr.Network(layers, "half_sse", "mean")
        x = rng.normal(size=(5, sizes[0]))
        assert_gradients_agree(net, x, rng.normal(size=(5, sizes[-1])))


def test_per_example_quantities_are_derivatives_of_the_batch_loss():
    # delta_l[i] = dL_batch/dz_l[i]: perturb one example's pre-activation through its input bias
    # trick: z_1[i] = W1 x_i + b1, so dL/dx_i = W1^T delta_1[i]; check that by finite differences.
    rng = np.random.default_rng(7)
    for reduction in ("mean", "sum"):
        net = network(rng, "tanh", "sigmoid", "bce", reduction)
        x, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
        tr = net.trace(x, y)
        dx = tr.layers[0].delta @ net.layers[0].W
        h = 1e-6
        for i in range(4):
            for j in range(3):
                xp, xm = x.copy(), x.copy()
                xp[i, j] += h
                xm[i, j] -= h
                fd = (net.evaluate(xp, y) - net.evaluate(xm, y)) / (2 * h)
                np.testing.assert_allclose(dx[i, j], fd, rtol=1e-6, atol=1e-9)
        # and dW is the sum over examples of delta[i] a_prev[i]^T
        np.testing.assert_allclose(tr.layers[1].dW, sum(np.outer(tr.layers[1].delta[i], tr.layers[0].a[i])
                                                        for i in range(4)), rtol=1e-13)


def test_mean_gradient_is_the_average_of_per_example_gradients():
    rng = np.random.default_rng(11)
    net = network(rng, "relu", "identity", "mse", "mean")
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    per = [analytic(net.trace(x[i:i + 1], y[i:i + 1])) for i in range(6)]
    np.testing.assert_allclose(analytic(net.trace(x, y)), np.mean(per, axis=0), rtol=1e-12, atol=1e-15)
    summed = dr.Network(net.layers, net.loss, "sum")
    np.testing.assert_allclose(analytic(summed.trace(x, y)), np.sum(per, axis=0), rtol=1e-12, atol=1e-15)
