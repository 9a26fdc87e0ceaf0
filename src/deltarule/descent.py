"""The reference loop for optimizers, learning-rate schedules and L2 — what the engines are tested against.

Per update on a batch (x_b (m, d), y_b (m, K)) at epoch e:

    loss   = reduce(per-example losses) + (λ/2)·Σ_l ‖W_l‖²          (the penalty: weights only)
    dW_l, db_l from the delta rule (:func:`deltarule.network.backward_arrays`); dW_l ← dW_l + λ W_l
    (W_l, b_l), state ← optimizer.step(params, grads, state, η_e)   η_e = lr_schedule.rate(e, η, n)

Batches are the :class:`~deltarule.schedule.Schedule`'s (file order, or its seeded shuffle).
Plain arrays, no journal, no hooks, no checkpoints: the driver's engines add those and must
give these numbers. ``SGD()`` with the constant schedule and λ = 0 is today's gradient descent.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from . import losses as _loss
from .activations import Activation
from .losses import Loss
from .network import Network, backward_arrays, forward_arrays
from .optimizers import SGD, Optimizer, State
from .regularization import add_l2, penalty
from .schedule import Schedule
from .schedules import Constant, LearningRateSchedule

Array = np.ndarray


@dataclass(frozen=True)
class Descent:
    """What :func:`optimize` returns: the trained network, the optimizer state after the last
    update, each update's batch loss before it (penalty included, (updates,)) and each epoch's rate."""

    network: Network
    state: State
    losses: Array
    rates: tuple[float, ...]


def descent_step(Ws: Sequence[Array], bs: Sequence[Array], acts: Sequence[Activation], loss: Loss,
                 reduction: str, xb: Array, yb: Array, optimizer: Optimizer, state: State, lr: float,
                 l2: float = 0.0, trainable: Sequence[tuple[bool, bool]] | None = None):
    """One update on the batch (xb (m, d), yb (m, K)).

    Returns ``(Ws_new, bs_new, state_new, batch_loss)``, the loss being the batch's before the
    update with the L2 penalty. Inputs are not modified.
    """
    zs, as_ = forward_arrays(Ws, bs, acts, xb)
    per_example, _, _, dWs, dbs = backward_arrays(Ws, acts, loss, reduction, xb, yb, zs, as_)
    batch_loss = _loss.reduce(per_example, reduction) + penalty(Ws, l2)
    dWs = add_l2(dWs, Ws, l2)
    new, state = optimizer.step(list(zip(Ws, bs)), list(zip(dWs, dbs)), state, lr, trainable)
    return [W for W, _ in new], [b for _, b in new], state, batch_loss


def optimize(network: Network, x: Any, y: Any, learning_rate: float, optimizer: Optimizer = SGD(),
             lr_schedule: LearningRateSchedule = Constant(), l2: float = 0.0,
             schedule: Schedule = Schedule(), state: State | None = None, first_epoch: int = 0) -> Descent:
    """Train ``network`` on x (n, d), y (n, K) for ``schedule.epochs`` epochs (see the module doc).

    ``state`` (default: the optimizer's zeros) and ``first_epoch`` continue an earlier run
    bit for bit in file order; with ``schedule.shuffle`` the orders restart from the seed (the
    driver, which draws every epoch's order itself, continues them).

    >>> from deltarule import Layer, Network
    >>> from deltarule.optimizers import SGD
    >>> net = Network((Layer([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35], "sigmoid"),
    ...                Layer([[0.40, 0.45]], [0.60], "sigmoid")), loss="half_sse")    # seed 002
    >>> run = optimize(net, [[0.05, 0.10]], [[0.5]], 0.5, SGD(momentum=0.9), schedule=Schedule(epochs=2))
    >>> run.losses.round(5).tolist(), run.state["t"]
    ([0.03159, 0.0297], 2)
    """
    x, y = np.asarray(x, network.dtype), np.asarray(y, network.dtype)
    x, y = (x.reshape(1, -1) if x.ndim == 1 else x), (y.reshape(1, -1) if y.ndim == 1 else y)
    Ws = [lay.W for lay in network.layers]
    bs = [lay.b for lay in network.layers]
    acts = [lay.activation for lay in network.layers]
    trainable = [(lay.train_weights, lay.train_biases) for lay in network.layers]
    state = optimizer.init(list(zip(Ws, bs))) if state is None else state
    rng, losses, rates = schedule.rng(), [], []
    for epoch in range(first_epoch, first_epoch + schedule.epochs):
        lr = lr_schedule.rate(epoch, learning_rate, len(x))
        rates.append(lr)
        for batch in schedule.epoch_batches(len(x), rng):
            Ws, bs, state, batch_loss = descent_step(Ws, bs, acts, network.loss, network.reduction,
                                                     x[batch], y[batch], optimizer, state, lr, l2, trainable)
            losses.append(batch_loss)
    layers = tuple(replace(lay, W=W, b=b) for lay, W, b in zip(network.layers, Ws, bs))
    return Descent(replace(network, layers=layers), state, np.array(losses), tuple(rates))
