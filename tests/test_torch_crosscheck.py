"""Every number of a pass against PyTorch autograd in float64, on 240 random networks.

Random depth 1-4, widths 1-6, every activation (hidden and output), every loss with the
output layers the contract allows it, mean and sum reductions, frozen weights / biases,
batches of 1-5 examples. Compared: z, a, dL_da, delta (``retain_grad`` on every a and z),
dW, db, the loss, and W_new / b_new after one gradient-descent step.
"""
import numpy as np
import pytest

from conftest import require_module

torch = require_module("torch")

import deltarule as dr  # noqa: E402
from deltarule import activations as A  # noqa: E402

N_NETWORKS = 240
# the random cases are drawn from the first six (the draws stay those of the seeds this test was
# written with); tests/test_registry.py walks every registered activation against torch autograd
ACTS = list(A.ACTIVATIONS)[:6]
LOSSES = ["sse", "half_sse", "mse", "half_mse", "bce", "cross_entropy"]

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "identity": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}
TORCH_LOSS = {  # per example, (n, K) -> (n,), written from the contract's table
    "sse": lambda a, y: ((a - y) ** 2).sum(1),
    "half_sse": lambda a, y: 0.5 * ((a - y) ** 2).sum(1),
    "mse": lambda a, y: ((a - y) ** 2).mean(1),
    "half_mse": lambda a, y: 0.5 * ((a - y) ** 2).mean(1),
    "bce": lambda a, y: -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum(1),
    "cross_entropy": lambda a, y: -(y * torch.log(a)).sum(1),
}


def random_case(seed):
    rng = np.random.default_rng(seed)
    loss = LOSSES[seed % len(LOSSES)]
    depth = int(rng.integers(1, 5))
    sizes = [int(s) for s in rng.integers(1, 7, size=depth + 1)]
    acts = [ACTS[int(i)] for i in rng.integers(0, len(ACTS), size=depth)]
    if loss == "cross_entropy":
        acts[-1] = "softmax"
    elif loss == "bce":
        acts[-1] = ["sigmoid", "softmax"][seed % 2]  # outputs in (0, 1)
    layers = [dr.Layer(rng.normal(0, 0.9, size=(m, n)), rng.normal(0, 0.5, size=m), act,
                       train_weights=bool(rng.random() > 0.2), train_biases=bool(rng.random() > 0.2))
              for n, m, act in zip(sizes, sizes[1:], acts)]
    net = dr.Network(layers, loss, ["mean", "sum"][int(rng.integers(2))])
    n = int(rng.integers(1, 6))
    x = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if loss == "cross_entropy":
        y = rng.uniform(size=(n, k))
        y /= y.sum(1, keepdims=True)
    elif loss == "bce":
        y = rng.uniform(size=(n, k))
    else:
        y = rng.normal(size=(n, k))
    return net, x, y, float(rng.uniform(0.05, 1.0))


def torch_pass(net, x, y, lr):
    Ws = [torch.tensor(lay.W, dtype=torch.float64, requires_grad=True) for lay in net.layers]
    bs = [torch.tensor(lay.b, dtype=torch.float64, requires_grad=True) for lay in net.layers]
    a = torch.tensor(x, dtype=torch.float64)
    zs, as_ = [], []
    for W, b, lay in zip(Ws, bs, net.layers):
        z = a @ W.T + b
        a = TORCH_ACT[lay.activation.name](z)
        z.retain_grad()
        a.retain_grad()
        zs.append(z)
        as_.append(a)
    per = TORCH_LOSS[net.loss.name](a, torch.tensor(y, dtype=torch.float64))
    loss = per.mean() if net.reduction == "mean" else per.sum()
    loss.backward()
    with torch.no_grad():
        W_new = [W - lr * W.grad if lay.train_weights else W for W, lay in zip(Ws, net.layers)]
        b_new = [b - lr * b.grad if lay.train_biases else b for b, lay in zip(bs, net.layers)]
    return dict(loss=loss.item(), z=zs, a=as_, dL_da=[t.grad for t in as_], delta=[t.grad for t in zs],
                dW=[W.grad for W in Ws], db=[b.grad for b in bs], W_new=W_new, b_new=b_new)


def close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs.detach().numpy() if hasattr(theirs, "detach") else theirs,
                               rtol=1e-10, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("chunk", range(8))
def test_trace_and_step_match_torch_autograd(chunk):
    for seed in range(chunk, N_NETWORKS, 8):
        net, x, y, lr = random_case(seed)
        step = net.step(x, y, lr)
        want = torch_pass(net, x, y, lr)
        where = f"seed {seed}: {net!r}"
        close(step.loss, want["loss"], f"{where}: loss")
        for l, (lt, new) in enumerate(zip(step.trace.layers, step.after.layers)):
            for name in ("z", "a", "dL_da", "delta", "dW", "db"):
                close(getattr(lt, name), want[name][l], f"{where}: {name}{l + 1}")
            close(new.W, want["W_new"][l], f"{where}: W{l + 1}_new")
            close(new.b, want["b_new"][l], f"{where}: b{l + 1}_new")
            lay = net.layers[l]
            if not lay.train_weights:
                assert np.array_equal(new.W, lay.W)
            if not lay.train_biases:
                assert np.array_equal(new.b, lay.b)


def test_the_random_cases_cover_the_space():
    cases = [random_case(s) for s in range(N_NETWORKS)]
    nets = [c[0] for c in cases]
    assert {len(n.layers) for n in nets} == {1, 2, 3, 4}
    assert {w for n in nets for w in n.sizes} == {1, 2, 3, 4, 5, 6}
    assert {lay.activation.name for n in nets for lay in n.layers} == set(ACTS)
    assert {n.layers[-1].activation.name for n in nets} == set(ACTS)
    assert {n.loss.name for n in nets} == set(LOSSES)
    assert {n.reduction for n in nets} == {"mean", "sum"}
    assert any(not lay.train_weights for n in nets for lay in n.layers)
    assert any(not lay.train_biases for n in nets for lay in n.layers)
