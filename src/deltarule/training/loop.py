"""The generic loop: gradient descent on plain arrays, update by update — the reference engine.

The fast engines (:mod:`deltarule.fast`) are tested against it and it runs what they do not
support. Inside the loop parameters are updated in place on private copies (no per-update
objects); what goes in and what comes out are immutable :class:`~deltarule.Network`\\ s.
The journal, hooks, divergence and Ctrl-C are the :class:`~deltarule.training.driver.Driver`'s.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .. import losses as _loss
from ..metrics import classifier
from ..network import Network, backward_arrays, forward_arrays
from ..optimization import Optimization
from ..optimizers import SGD
from ..params import flatten
from ..regularization import add_l2, penalty
from ..schedule import Schedule
from ..trace import Step, frozen

Array = np.ndarray


class GenericRun:
    """The engine protocol of :mod:`deltarule.training.driver` on the generic loop, one epoch a call.

    Each update: ``W_l <- W_l - learning_rate * dW_l``, ``b_l <- b_l - learning_rate * db_l``,
    with dW_l, db_l from :func:`~deltarule.network.backward_arrays` on the batch (x_b (m, d), y_b (m, K)).
    With ``optimization`` not plain, :func:`deltarule.descent.descent_step`'s rule instead: dW_l
    gains λ W_l, the optimizer steps at η_e = lr_schedule.rate(e - 1, η, n) in epoch e (1-based),
    the state (``vW1``, ``mW1``, ``sW1``, ..., ``t``) is kept in ``self.state``, and every loss
    the journal holds includes the penalty (λ/2)·Σ‖W_l‖².
    A loss or an update that is NaN or inf stops the run before it is committed.
    """

    name, own_extras = "generic", False

    def __init__(self, network: Network, x: Array, y: Array, learning_rate: float, schedule: Schedule,
                 journal_loss: str, optimization: Optimization = Optimization(), state: dict | None = None):
        self.net, self.x, self.y, self.lr, self.mode = network, x, y, learning_rate, journal_loss
        self.opt = None if optimization.plain else optimization
        self.base_lr, self.l2 = learning_rate, optimization.l2
        if self.opt is not None:
            self.optimizer = optimization.optimizer or SGD()
            self.state = state if state is not None else self.optimizer.init(
                [(lay.W, lay.b) for lay in network.layers])
        self.acts = [lay.activation for lay in network.layers]
        self.Ws = [lay.W.copy() for lay in network.layers]  # private, writable
        self.bs = [lay.b.copy() for lay in network.layers]
        self.train_w = [lay.train_weights for lay in network.layers]
        self.train_b = [lay.train_biases for lay in network.layers]
        self.size, self.updates = schedule.size(len(x)), 0
        # batch mode: a classifier's accuracy comes from the outputs of the training passes
        self.a_seen = np.empty(y.shape, network.dtype) if journal_loss == "batch" and classifier(network) else None

    def chunk_epochs(self) -> int:
        return 1

    def params(self) -> Array:
        return flatten(self.Ws, self.bs)

    def outputs(self, x: Array, y: Array) -> tuple[Array, Array]:
        """(per-example losses (n,), outputs a_L (n, K)) with the current parameters."""
        zs, as_ = forward_arrays(self.Ws, self.bs, self.acts, x)
        net = self.net
        return _loss.output_layer(net.loss, self.acts[-1], zs[-1], as_[-1], y, net.reduction)[0], as_[-1]

    def initial(self) -> tuple[Array, Array]:
        per0, a0 = self.outputs(self.x, self.y)
        loss0 = _loss.reduce(per0, self.net.reduction) + penalty(self.Ws, self.l2)
        return np.concatenate([[0, loss0], self.params()]), a0

    def rate(self, epoch: int) -> float:
        """η of the 1-based ``epoch`` (the base rate when no schedule is set)."""
        sched = self.opt.lr_schedule if self.opt is not None else None
        return self.base_lr if sched is None else sched.rate(max(epoch - 1, 0), self.base_lr, len(self.x))

    def batches(self, order: Array | None):
        n = len(self.x)
        for s in range(0, n, self.size):
            yield slice(s, min(s + self.size, n)) if order is None else order[s:s + self.size]

    def epochs(self, e0: int, e1: int, orders):
        rows, outputs = [], []
        for e in range(e0, e1):
            loss, a, failure = self.epoch(e, None if orders is None else orders[e - e0])
            if failure is not None:
                return np.array(rows), outputs, failure
            rows.append(np.concatenate([[e, loss], self.params()]))
            outputs.append(a)
        return np.array(rows), outputs, None

    def epoch(self, epoch: int, order: Array | None):
        """One epoch: (journal loss, outputs on x or None, None), or (.., .., (epoch, k, reason))."""
        net, running, k = self.net, 0.0, 0
        self.lr = self.rate(epoch)
        for k, idx in enumerate(self.batches(order), start=1):
            per_ex, failure = self.update(self.x[idx], self.y[idx], idx)
            if failure is not None:
                return None, None, (epoch, k, failure)
            running += per_ex
        if self.mode == "epoch":
            per_full, a = self.outputs(self.x, self.y)
            loss = _loss.reduce(per_full, net.reduction) + penalty(self.Ws, self.l2)
        else:
            loss, a = (running / len(self.x) if net.reduction == "mean" else running), self.a_seen
        if not np.isfinite(loss):
            return None, None, (epoch, k, f"the loss after the epoch is {loss:g}")
        return loss, a, None

    def update(self, xb: Array, yb: Array, idx) -> tuple[float, str | None]:
        """One step on the batch: (its summed loss for the journal mode, or 0), failure or None."""
        net = self.net
        zs, as_ = forward_arrays(self.Ws, self.bs, self.acts, xb)
        per_ex, _, _, dWs, dbs = backward_arrays(self.Ws, self.acts, net.loss, net.reduction, xb, yb, zs, as_)
        if not np.isfinite(per_ex).all():
            return 0.0, f"the loss is {_loss.reduce(per_ex, net.reduction):g}"
        pen_before = penalty(self.Ws, self.l2)
        new_W, new_b, state = self.apply(dWs, dbs)
        if not all(np.isfinite(v).all() for v in (*new_W, *new_b)):  # commit only finite parameters
            return 0.0, "the update makes a parameter NaN or inf"
        self.Ws[:], self.bs[:] = new_W, new_b
        if state is not None:
            self.state = state
        self.updates += 1
        if self.mode == "running":
            return float(np.sum(self.outputs(xb, yb)[0])) + self.weighted(penalty(self.Ws, self.l2), len(yb)), None
        if self.mode == "batch":  # each batch's loss before its update, as PyTorch loops log it
            if self.a_seen is not None:  # and its outputs, for the accuracy: no extra pass over the data
                self.a_seen[idx] = as_[-1]
            return float(np.sum(per_ex)) + self.weighted(pen_before, len(yb)), None
        return 0.0, None

    def weighted(self, pen: float, m: int) -> float:
        """The penalty's share in a running sum of per-example losses that the epoch reduces:
        with ``mean`` the sum is divided by n, so each batch of m contributes m·penalty."""
        if not pen:
            return 0.0
        return pen * m if self.net.reduction == "mean" else pen

    def apply(self, dWs: list, dbs: list) -> tuple[list, list, dict | None]:
        """The new weights and biases (and optimizer state, None when plain) from the gradients."""
        if self.opt is None:
            new_W = [W - self.lr * g if t else W for W, g, t in zip(self.Ws, dWs, self.train_w)]
            new_b = [b - self.lr * g if t else b for b, g, t in zip(self.bs, dbs, self.train_b)]
            return new_W, new_b, None
        dWs = add_l2(dWs, self.Ws, self.l2)
        new, state = self.optimizer.step(list(zip(self.Ws, self.bs)), list(zip(dWs, dbs)), self.state,
                                         self.lr, list(zip(self.train_w, self.train_b)))
        return [W for W, _ in new], [b for _, b in new], state


def steps(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(),
          count: int = 1, optimization: Optimization = Optimization()) -> list[Step]:
    """The first ``count`` updates of ``schedule`` as full :class:`Step` records (for solve).

    Epochs follow one another as in :func:`train`, so ``count`` may exceed one epoch.
    Each step keeps the trace before its update and the network after it. With
    ``optimization`` not plain, each step is :func:`deltarule.descent.descent_step`'s (the
    optimizer at the epoch's rate η_e, dW_l + λ W_l) and carries the state before and after it,
    the ``_hat`` values, λ and the penalty; the state carries from one step to the next.

    >>> import deltarule as dr
    >>> p = dr.load_problem("seed-000-neuron")
    >>> first, second = dr.steps(p.network, p.x, p.y, 0.9, dr.Schedule("stochastic"), count=2)
    >>> first.examples, second.examples, second.before is first.after
    ((0,), (1,), True)
    """
    dt = network.dtype
    x = np.asarray(x, dtype=dt)
    y = np.asarray(y, dtype=dt)
    n, rng, out = len(x), schedule.rng(), []
    take = None if optimization.plain else _OptimizerSteps(network, optimization, learning_rate, n)
    epoch = 0
    while len(out) < count:
        epoch += 1
        for idx in schedule.epoch_batches(n, rng):
            ex = np.arange(n)[idx]
            if take is None:
                step = network.step(x[ex], y[ex], learning_rate, examples=ex)
            else:
                step = take(network, x[ex], y[ex], ex, epoch)
            out.append(step)
            network = step.after
            if len(out) == count:
                break
    return out


class _OptimizerSteps:
    """Takes one optimizer step as a full :class:`Step`, keeping the state between calls.

    The rule is :func:`deltarule.descent.descent_step`'s, from the same pieces: g = dW_l + λ W_l
    (:func:`~deltarule.regularization.add_l2`), then :meth:`Optimizer.step_values` at
    η_e = lr_schedule.rate(e - 1, η, n) for the 1-based epoch e.
    """

    def __init__(self, network: Network, optimization: Optimization, learning_rate: float, n: int):
        self.optimizer = optimization.optimizer or SGD()
        self.schedule, self.l2 = optimization.lr_schedule, optimization.l2
        self.base, self.n = float(learning_rate), n
        self.state = self.optimizer.init([(lay.W, lay.b) for lay in network.layers])

    def __call__(self, network: Network, xb: Array, yb: Array, examples, epoch: int) -> Step:
        lr = self.base if self.schedule is None else float(self.schedule.rate(epoch - 1, self.base, self.n))
        tr = network.trace(xb, yb)
        Ws = [lay.W for lay in network.layers]
        dWs = add_l2([lt.dW for lt in tr.layers], Ws, self.l2)
        trainable = [(lay.train_weights, lay.train_biases) for lay in network.layers]
        new, state, hats = self.optimizer.step_values(
            [(lay.W, lay.b) for lay in network.layers], list(zip(dWs, [lt.db for lt in tr.layers])),
            self.state, lr, trainable)
        after = replace(network, layers=tuple(replace(lay, W=frozen(W), b=frozen(b))
                                              for lay, (W, b) in zip(network.layers, new)))
        again = after.trace(xb, yb)
        pen_after = penalty([W for W, _ in new], self.l2)
        before, self.state = self.state, state
        return Step(tuple(int(i) for i in examples), tr, after, lr, again.loss + pen_after, again,
                    network.example_gradients(tr), optimizer=self.optimizer,
                    state_before={k: _frozen_value(v) for k, v in before.items()},
                    state={k: _frozen_value(v) for k, v in state.items()},
                    hats={k: frozen(v) for k, v in hats.items()}, lr_schedule=self.schedule, epoch=epoch,
                    base_learning_rate=self.base, l2=self.l2, penalty=penalty(Ws, self.l2),
                    penalty_after=pen_after, dW_l2=tuple(frozen(d) for d in dWs) if self.l2 else None,
                    decayed=self.decayed(network, lr))

    def decayed(self, network: Network, lr: float) -> tuple | None:
        """AdamW's decayed weights W_l − ηλW_l (its own ``decayed``), for the worked solution."""
        if not hasattr(self.optimizer, "decayed"):
            return None
        return tuple(frozen(self.optimizer.decayed(lay.W, lr, lay.train_weights)) for lay in network.layers)


def _frozen_value(v):
    return v if isinstance(v, int) else frozen(v)
