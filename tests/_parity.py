"""Shared helpers of the parity tests (issue 15 item 6): the same run in PyTorch, the digits subset.

Used by tests/test_optimizers.py, tests/test_torch_parity_digits.py and tests/test_sklearn_parity.py.
Not a test module (no ``test_`` prefix): pytest collects nothing here.
"""
from __future__ import annotations

import numpy as np

from conftest import require_module
from deltarule import Network


def close(ours, theirs, rtol=1e-10):
    """Relative agreement to ``rtol``, numbers near zero to rtol·1e-3 absolute."""
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-3)


def torch_run(net: Network, x, y, lr: float, optimizer, schedule, l2: float, batch: int, epochs: int):
    """The same run in PyTorch: (final Network, batch losses, {our state name: torch state}).

    Batches in file order; L2 as ``optimizer.torch_param_groups`` maps it (weight_decay on a
    weights-only parameter group, AdamW's in the loss); the scheduler steps once per epoch."""
    torch = require_module("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)      # tiny matrices: threads only contend (a 50x slowdown on a busy machine)
    try:
        return _torch_loop(torch, net, x, y, lr, optimizer, schedule, l2, batch, epochs)
    finally:
        torch.set_num_threads(threads)


def _torch_loop(torch, net, x, y, lr, optimizer, schedule, l2, batch, epochs):
    model, loss_fn = net.to_torch(), net.torch_loss()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    weights = [m.weight for m in linears if m.weight.requires_grad]
    biases = [m.bias for m in linears if m.bias.requires_grad]
    groups, l2_in_loss = optimizer.torch_param_groups(weights, biases, l2)
    topt = getattr(torch.optim, optimizer.torch_name)(groups, lr=lr, **optimizer.torch_kwargs())
    tsched = getattr(torch.optim.lr_scheduler, schedule.torch_name)(topt, **schedule.torch_kwargs(len(x)))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(epochs):
        for s in range(0, len(x), batch):
            topt.zero_grad()
            loss = loss_fn(model(xt[s:s + batch]), yt[s:s + batch])
            squares = sum((m.weight ** 2).sum() for m in linears)
            loss = loss + 0.5 * l2_in_loss * squares
            loss.backward()
            # the reported loss holds the penalty, also when weight_decay applied it to the gradient
            losses.append(loss.item() + 0.5 * (l2 - l2_in_loss) * squares.item())
            topt.step()
        tsched.step()
    state = {}
    for l, m in enumerate(linears, start=1):
        for p, param in (("W", m.weight), ("b", m.bias)):
            for ours, theirs in (("v", "momentum_buffer"), ("m", "exp_avg"), ("s", "exp_avg_sq"), ("s", "square_avg")):
                if theirs in topt.state.get(param, {}):
                    state[f"{ours}{p}{l}"] = topt.state[param][theirs].detach().numpy()
    return Network.from_torch(model, net.loss.name, net.reduction), np.array(losses), state


def digits(n: int = 160):
    """The first ``n`` built-in digits: x (n, 64) scaled to [0, 1], y (n, 10) one-hot, float64."""
    from deltarule.examples import path

    with path("digits") as yaml_file, np.load(yaml_file.parent / "digits.npz") as data:
        x = data["inputs"][:n].astype(np.float64) / data["inputs"].max()
        y = np.eye(10)[data["targets"][:n]]
    return x, y
