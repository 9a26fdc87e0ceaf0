"""Fast training engines behind :func:`deltarule.train` — same numbers, less overhead.

:func:`engine_for` picks one of two engines, or None and the generic loop in
``training/loop.py`` runs (it stays the reference and the fallback):

* **scalar** (tiny networks, float64, numba installed): the whole run — every update,
  the per-epoch loss and the journal rows — in one compiled loop over plain floats, so a
  per-example update costs tens of nanoseconds instead of tens of numpy calls.
  Compiled once, cached on disk (``cache=True``).
* **buffered** (everything else it supports): the numpy loop with every array of a step
  preallocated, written with ``out=`` and updated in place; the parameters are views into
  one flat vector (so a journal row is one copy); the learning rate and the 1/n of the
  mean are folded into the output delta once, so each layer's step is one matrix product
  and one subtraction; float32 stays float32. With an optimizer, a rate schedule or L2
  (training/run.py routes every such run here: the compiled loop knows only plain descent)
  the gradients go to one flat vector and the optimizer's in-place kernel
  (``Optimizer.update_into``) steps the whole flat parameter vector once per update; its state
  (``vW1``, ``mb2``, ``sW1``, ..., ``t``) lives in flat buffers too (:class:`_FlatDescent`).

Both are engines of the one training driver (:mod:`deltarule.training.driver`, which holds the
journal, the hooks, checkpoints, divergence and Ctrl-C): they run epochs e0..e1 on the orders the
driver draws and give back one journal row per epoch and where a run diverged, as the generic
loop would report it; so a checkpointed run does a straight run's arithmetic.
"""
from __future__ import annotations

import numpy as np

from . import activations as _act
from . import losses as _loss
from . import metrics as _metrics
from .network import Network, backward_arrays, forward_arrays
from .optimizers import SGD, Optimizer
from .params import flatten
from .regularization import add_l2, penalty

Array = np.ndarray
MODES = {"epoch": 0, "running": 1, "batch": 2}
# the compiled path pays ~0.3 s to import numba and load its cache: use it for runs that
# would take longer than that in numpy, on networks small enough for scalar loops to win
SCALAR_MIN_UPDATES = 2000
SCALAR_MAX_WORK = 4096  # parameters x batch size


# -- eligibility -------------------------------------------------------------------------
def refusal(network: Network, journal_loss: str, optimization=None) -> str | None:
    """Why the fast engines leave this run to the generic loop, or None when they take it.

    They take every registered activation and loss (the very registry objects: their kernels
    are the registry's, ``Activation.scalar``/``forward_into``/``scale_into``, ``Loss.scalar``),
    with row-wise activations (softmax) only at the output, and (buffered engine) every
    optimizer with an in-place kernel (``Optimizer.update_into``) for ``optimization`` (an
    :class:`~deltarule.optimization.Optimization`). Everything else runs on the generic loop,
    which supports any Activation, Loss and Optimizer object.
    """
    if journal_loss not in MODES:
        return f"journal_loss {journal_loss!r}"
    optimizer = None if optimization is None else optimization.optimizer
    if optimizer is not None and type(optimizer).update_into is Optimizer.update_into:
        return f"the optimizer {optimizer.name or type(optimizer).__name__} has no in-place kernel (update_into)"
    for l, lay in enumerate(network.layers, start=1):
        f = lay.activation
        if _act.ACTIVATIONS.get(f.name) is not f or f.scalar is None:
            return f"layer {l}: {f.name} is not a registered activation with kernels"
        if not f.elementwise and l < len(network.layers):
            return f"layer {l}: {f.name} in a hidden layer"
    loss = network.loss
    if _loss.LOSSES.get(loss.name) is not loss or loss.scalar is None:
        return f"the loss {loss.name} is not a registered loss with kernels"
    return None


def _supported(network: Network, journal_loss: str) -> bool:
    return refusal(network, journal_loss) is None


_NO_NUMBA: list[str] = []  # the reason, once numba failed to import (the note is said once per process)


def _numba():
    if _NO_NUMBA:
        return None
    try:
        import numba  # noqa: F401  (a dependency; an install without it trains on numpy)
    except ImportError as e:
        _NO_NUMBA.append(str(e))
        import sys

        print(f"deltarule: note: numba cannot be imported ({e}); the numpy engine trains instead "
              "(slower for tiny networks)", file=sys.stderr)
        return None
    from . import _scalar

    return _scalar


def engine_for(network: Network, n: int, schedule, journal_loss: str = "epoch") -> str | None:
    """Which engine :func:`train` would use: ``"scalar"``, ``"buffered"`` or None (generic).

    It counts the updates of the whole schedule (when resuming, ``schedule.epochs`` is the total),
    so a resumed run takes the engine of the straight run. A first part stopped short of
    SCALAR_MIN_UPDATES and resumed past them does change engine: it then agrees with the straight
    run to rounding, not bit for bit.
    """
    if not _supported(network, journal_loss) or n == 0:
        return None
    size = schedule.size(n)
    updates = schedule.epochs * -(-n // size)
    small = network.parameters().size * size <= SCALAR_MAX_WORK
    # the compiled loop does not keep the outputs that a classifier's batch-mode accuracy needs
    outputs_needed = mode_keeps_outputs(network, journal_loss)
    if (network.dtype == np.float64 and small and updates >= SCALAR_MIN_UPDATES and not outputs_needed
            and _numba() is not None):
        return "scalar"
    return "buffered"


EVAL_ROWS = 8192  # the whole-data passes of the journal go in slices: memory stays near the data's


def _outputs_of(Ws, bs, network: Network, x: Array, y: Array) -> tuple[Array, Array]:
    """(per-example losses (n,), outputs a_L (n, K)) over all of x, EVAL_ROWS rows at a time."""
    acts, per, outs = [lay.activation for lay in network.layers], [], []
    for s in range(0, max(len(x), 1), EVAL_ROWS):
        zs, as_ = forward_arrays(Ws, bs, acts, x[s:s + EVAL_ROWS])
        per.append(_loss.output_layer(network.loss, acts[-1], zs[-1], as_[-1], y[s:s + EVAL_ROWS],
                                      network.reduction)[0])
        outs.append(as_[-1])
    return np.concatenate(per), np.concatenate(outs)


def eval_outputs(network: Network, x: Array, y: Array) -> tuple[Array, Array]:
    """:func:`_outputs_of` for a network."""
    return _outputs_of([l.W for l in network.layers], [l.b for l in network.layers], network, x, y)


def mode_keeps_outputs(network: Network, journal_loss: str) -> bool:
    """Batch mode measures a classifier's accuracy on the outputs of the training passes."""
    return journal_loss == "batch" and _metrics.classifier(network) is not None


def _layout(network: Network):
    """Offsets of W_l and b_l in the flat parameter vector (the journal's order)."""
    woff, boff, k = [], [], 0
    for lay in network.layers:
        woff.append(k)
        boff.append(k + lay.W.size)
        k += lay.W.size + lay.units
    return np.array(woff, np.int64), np.array(boff, np.int64)


# -- the scalar engine (numba) ---------------------------------------------------------
class _ScalarRun:
    """Hands whole chunks of epochs to the compiled loop in ``_scalar.py``; with an ``optimization``
    its optimizer's float kernel (``Optimizer.scalar``) steps at each epoch's η, with L2, the state in
    :class:`_FlatDescent`'s named moments, kept after every epoch of a chunk (:meth:`state_at`)."""

    def __init__(self, network: Network, x: Array, y: Array, lr, schedule, journal_loss: str,
                 optimization=None, state: dict | None = None, base_lr=None):
        self.k = _numba()
        self.p = network.parameters().astype(np.float64)
        # 1: trained, 2: a weight (L2 and AdamW-like decays look at it)
        self.mask = flatten([np.full(lay.W.shape, 2 + lay.train_weights) for lay in network.layers],
                            [np.full(lay.units, int(lay.train_biases)) for lay in network.layers]).astype(np.int64)
        woff, boff = _layout(network)
        L = len(network.layers)
        uoff = np.concatenate([[0], np.cumsum(network.sizes)])
        acts = [self.k.act_code(lay.activation) for lay in network.layers]  # codes from the registry
        self.I = np.array([L, *network.sizes, *woff, *boff, *uoff, *acts], np.int64)
        self.loss = self.k.loss_code(network.loss)
        self.fused = self.k.fused_code(network.loss, network.layers[-1].activation)
        self.mean = network.reduction == "mean"
        self.x, self.y, self.lr = x, y, float(lr)
        self.size, self.mode = schedule.size(len(x)), MODES[journal_loss]
        self.updates = 0
        self.opt = _descent(network, self.p, optimization, state, lr if base_lr is None else base_lr, len(x))
        self.H, self.kernel, self.kept = np.empty(0), None, (0, np.empty((0, 0)))
        if self.opt is not None:  # H = [λ, the settings in field order]: what the kernel reads as h
            self.kernel, settings = type(self.opt.optimizer).scalar, self.opt.optimizer.settings()
            self.H = np.array([self.opt.l2, *(float(v) for k, v in settings.items() if k != "name")], np.float64)

    def chunk_epochs(self) -> int:
        # about 0.05 s of work per chunk: the progress bar moves, Ctrl-C is answered
        per_epoch = len(self.x) * self.p.size + 1
        return max(1, 10_000_000 // per_epoch)

    def params(self) -> Array:
        return self.p.copy()

    @property
    def state(self) -> dict | None:
        """The optimizer state after the last update (copies, the optimizer's names), None when plain."""
        return None if self.opt is None else self.opt.snapshot()

    def state_at(self, epoch: int) -> dict | None:
        """The state after ``epoch``, one of the last chunk's (checkpoints within a chunk)."""
        e0, kept = self.kept
        if self.opt is None or not 0 <= epoch - e0 < len(kept):
            return self.state
        row, P, now = kept[epoch - e0], self.p.size, self.state
        for j, moment in enumerate(self.opt.moments):  # that epoch's values through the named views
            moment[:] = row[j * P:(j + 1) * P]
        self.opt.t = int(row[-1])
        out = self.opt.snapshot()
        self.opt.load(now)
        return out

    def _state_in(self, count: int) -> Array:
        """S for the loop: [moments (M, P) | their next values | per epoch count rows of M * P]."""
        moments = self.opt.moments if self.opt is not None else ()
        S = np.zeros((2 + count) * len(moments) * self.p.size)
        S[:len(moments) * self.p.size] = np.concatenate(moments) if moments else 0.0
        return S

    def epochs(self, e0: int, e1: int, orders):
        rows = np.empty((e1 - e0, 2 + self.p.size))
        status = np.zeros(5)
        if orders is None:
            orders = np.empty((0, 0), np.int64)
        rates = np.full(e1 - e0, self.lr) if self.opt is None else \
            np.array([self.opt.rate(e) for e in range(e0, e1)], np.float64)
        S, status[4] = self._state_in(e1 - e0), 0 if self.opt is None else self.opt.t
        done = self.k.run(self.p, self.mask, self.I, self.loss, self.fused, self.mean, rates, self.x, self.y,
                          orders.astype(np.int64), self.size, e0, e1, self.mode, rows, status, S, self.H,
                          self.kernel)
        self.updates += int(status[3])
        if self.opt is not None:
            self._state_out(S, status, done, e0, e1)
        failure = None
        if status[0]:
            reason = {1: f"the loss is {status[2]:g}", 2: "the update makes a parameter NaN or inf",
                      3: f"the loss after the epoch is {status[2]:g}"}[int(status[0])]
            failure = (e0 + done, int(status[1]), reason)
        return rows[:done], [None] * done, failure

    def _state_out(self, S: Array, status: Array, done: int, e0: int, e1: int) -> None:
        """The loop's state back into the named moments; each completed epoch's kept for state_at."""
        M, P = len(self.opt.moments), self.p.size
        for j, moment in enumerate(self.opt.moments):
            moment[:] = S[j * P:(j + 1) * P]
        per = S[2 * M * P:].reshape(e1 - e0, M * P)[:done]
        ts = self.opt.t + -(-len(self.x) // self.size) * np.arange(1, done + 1)  # t after each epoch
        self.opt.t = int(status[4])
        self.kept = (e0, np.column_stack([per, ts]))


# -- the buffered numpy engine ----------------------------------------------------------
class _FlatDescent:
    """An optimizer, a rate schedule and L2 on a buffered run's flat parameter vector p (P,).

    Each update: G ← G + λ·p on the trainable weights (L2), t ← t + 1, then the registry's
    in-place kernel ``optimizer.update_into(p, G, moments, η_e, t, weights, tmp)`` once on the
    whole vector. G (P,) holds every dW_l, db_l (the run writes them through views); a frozen
    parameter's gradient stays 0, so neither it nor its state moves, as in ``Optimizer.step``.
    The moments are flat vectors (P,) whose views carry the state's names (``mW1``, ``sb2``, ...).
    """

    def __init__(self, network: Network, p: Array, optimization, state: dict | None, base_lr, n: int):
        self.optimizer = optimization.optimizer or SGD()
        self.sched, self.l2, self.base_lr, self.n = optimization.lr_schedule, optimization.l2, base_lr, n
        new = lambda: np.zeros(p.size, p.dtype)  # noqa: E731
        self.G, self.tmp, self.weights = new(), (new(), new()), new()
        self.moments = tuple(new() for _ in self.optimizer.moments)
        self.views: dict[str, Array] = {}
        for l, (w, b, lay) in enumerate(zip(*_layout(network), network.layers), start=1):
            self.weights[w:w + lay.W.size] = 1.0 if lay.train_weights else 0.0
            for part, (o, shape) in zip("Wb", ((w, lay.W.shape), (b, (lay.units,)))):
                for k, M in zip(self.optimizer.moments, self.moments):
                    self.views[f"{k}{part}{l}"] = M[o:o + int(np.prod(shape))].reshape(shape)
        self.l2_vec = self.weights * self.l2 if self.l2 else None
        self.t, self.lr = 0, base_lr
        if state is not None:
            self.load(state)

    def rate(self, epoch: int) -> float:
        """η of the 1-based ``epoch``, as the generic loop's ``rate``."""
        return self.base_lr if self.sched is None else self.sched.rate(max(epoch - 1, 0), self.base_lr, self.n)

    def step(self, p: Array) -> None:
        """One update of p in place from the gradients in G."""
        if self.l2_vec is not None:  # dW_l + λ W_l
            self.G += np.multiply(p, self.l2_vec, out=self.tmp[0])
        self.t += 1
        self.optimizer.update_into(p, self.G, self.moments, self.lr, self.t, self.weights, self.tmp)

    def snapshot(self) -> dict:
        """The state as ``Optimizer.step`` keeps it: ``{name: copy, ..., "t": int}``."""
        return {**{k: v.copy() for k, v in self.views.items()}, "t": self.t}

    def load(self, state: dict) -> None:
        for k, v in self.views.items():
            v[...] = state[k]
        self.t = int(state["t"])


def _descent(network: Network, p: Array, optimization, state, base_lr, n: int) -> _FlatDescent | None:
    """The optimizer part of a buffered run, None for plain descent (no optimization, or plain)."""
    if optimization is None or optimization.plain:
        return None
    return _FlatDescent(network, p, optimization, state, base_lr, n)


class _BufferedRun:
    """The numpy loop with preallocated buffers and in-place, contiguous updates.

    Plain descent folds η into the output delta and updates each layer as its gradient comes;
    with an ``optimization`` (an optimizer, a rate schedule or L2: :class:`_FlatDescent`) the
    gradients go to one flat vector and the optimizer's in-place kernel steps once per update.
    """

    def __init__(self, network: Network, x: Array, y: Array, lr, schedule, journal_loss: str,
                 optimization=None, state: dict | None = None, base_lr=None):
        self.net, self.x, self.y, self.lr, self.mode = network, x, y, lr, journal_loss
        self.dt = network.dtype.type
        self.p = network.parameters().astype(network.dtype)
        woff, boff = _layout(network)
        self.W = [self.p[w:w + lay.W.size].reshape(lay.W.shape) for w, lay in zip(woff, network.layers)]
        self.b = [self.p[b:b + lay.units] for b, lay in zip(boff, network.layers)]
        self.opt = _descent(network, self.p, optimization, state, lr if base_lr is None else base_lr, len(x))
        self.l2 = 0.0 if self.opt is None else self.opt.l2
        self.acts = [lay.activation for lay in network.layers]
        self.train_w = [lay.train_weights for lay in network.layers]
        self.train_b = [lay.train_biases for lay in network.layers]
        self.size = schedule.size(len(x))
        self._buffers(network, self.size)
        self.fused = network.loss.fused.get(self.acts[-1].name)  # the Fused entry, or None
        self.ysum = y.sum(axis=1)  # sum_k y_ik, for Fused.batch_sum
        self.batch_sum = self.fused.batch_sum if self.fused is not None and journal_loss == "batch" else None
        # batch mode: a classifier's accuracy comes from the outputs of the training passes
        self.a_seen = np.empty(y.shape, network.dtype) if mode_keeps_outputs(network, journal_loss) else None
        self.updates, self._cache, self._scale = 0, {}, {}
        self.WT = [W.T for W in self.W]  # views: they follow the in-place updates
        self.fwd, self.scale = zip(*(f.in_place() for f in self.acts))  # the registry's in-place kernels
        self._eval = self._in_order = None  # whole-data pass buffers, batch views: made when first needed

    def _buffers(self, network: Network, B: int) -> None:
        """Every array of a step for batches of up to B rows (a passthrough layer's a is its z)."""
        new = lambda *shape: np.empty(shape, network.dtype)  # noqa: E731
        self.Z = [new(B, lay.units) for lay in network.layers]
        self.A = [z if f.passthrough else new(B, lay.units) for z, f, lay in
                  zip(self.Z, self.acts, network.layers)]
        self.D = [new(B, lay.units) for lay in network.layers]
        self.T = [new(B, lay.units) for lay in network.layers]
        self.M = [np.empty((B, lay.units), bool) for lay in network.layers]
        self.R, self.S = new(B, 1), new(B, 1)  # row max and row sum (softmax)
        if self.opt is None:
            self.GW = [new(*lay.W.shape) for lay in network.layers]
            self.Gb = [new(lay.units) for lay in network.layers]
        else:  # views of the flat gradient the optimizer steps with
            G, (woff, boff) = self.opt.G, _layout(network)
            self.GW = [G[w:w + lay.W.size].reshape(lay.W.shape) for w, lay in zip(woff, network.layers)]
            self.Gb = [G[b:b + lay.units] for b, lay in zip(boff, network.layers)]
        self.Xb, self.Yb = new(B, self.x.shape[1]), new(B, self.y.shape[1])

    def chunk_epochs(self) -> int:
        return 1

    def params(self) -> Array:
        return self.p.copy()

    @property
    def state(self) -> dict | None:
        """The optimizer state now (a copy, with the optimizer's names), None for plain descent."""
        return None if self.opt is None else self.opt.snapshot()

    def epochs(self, e0: int, e1: int, orders):
        rows, outputs = [], []
        for e in range(e0, e1):
            order = None if orders is None else orders[e - e0]
            start, state, updates = self.p.copy(), self.state, self.updates
            if self.opt is not None:
                self.opt.lr = self.opt.rate(e)
            loss, a = self._epoch(order)
            # divergence is looked for once per epoch; when found, the epoch is replayed
            # from its start with the generic loop's checks after every update
            if not (np.isfinite(loss) and np.isfinite(self.p).all()):
                self.p[:] = start
                if state is not None:
                    self.opt.load(state)
                return np.array(rows), outputs, self._replay(e, order, updates)
            rows.append(np.concatenate([[e, loss], self.p]))
            outputs.append(a)
        return np.array(rows), outputs, None

    def _batches(self, order):
        n, B = len(self.x), self.size
        if order is None:  # views, made once a run
            self._in_order = self._in_order or [(self.x[s:s + B], self.y[s:s + B], slice(s, min(s + B, n)))
                                                for s in range(0, n, B)]
            yield from self._in_order
            return
        for s in range(0, n, B):
            m = min(B, n - s)
            idx = order[s:s + m]
            yield (np.take(self.x, idx, axis=0, out=self.Xb[:m]),
                   np.take(self.y, idx, axis=0, out=self.Yb[:m]), idx)

    def _epoch(self, order) -> float:  # the epoch's updates, then its journal loss and outputs
        step, mode, total = self._step, self.mode, 0.0
        for xb, yb, idx in self._batches(order):
            if mode == "epoch":  # nothing per batch but the step (issue 13 item 4)
                step(xb, yb, idx)
            elif mode == "batch":  # the penalty of the parameters before the step's update
                total += self._penalty(len(xb)) + step(xb, yb, idx)
            else:  # running
                step(xb, yb, idx)
                total += float(np.sum(self._per_example(xb, yb))) + self._penalty(len(xb))
            self.updates += 1
        if mode == "epoch":
            return self.journal_loss()
        return (total / len(self.x) if self.net.reduction == "mean" else total), self.a_seen

    def _passes(self, x: Array):
        """The forward pass of the step over all of x, EVAL_ROWS rows at a time, on buffers made
        once: (first row s, z_L, a_L, S) per slice, S the softmax's row sums (softmax keeps z_L
        shifted by the row max), valid until the next slice."""
        if self._eval is None:
            rows, dt, L = min(max(len(self.x), 1), EVAL_ROWS), self.net.dtype, len(self.acts)
            # the output layer column by column (Fortran order): a softmax's row max and row sum
            # over its few units are then elementwise passes over columns, not n short reductions
            new = lambda l, units: np.empty((rows, units), dt, order="F" if l == L - 1 else "C")  # noqa: E731
            Z = [new(l, lay.units) for l, lay in enumerate(self.net.layers)]
            A = [z if f.passthrough else new(l, z.shape[1]) for l, (z, f) in enumerate(zip(Z, self.acts))]
            self._eval = (Z, A, np.empty((rows, 1), dt), np.empty((rows, 1), dt))
            self._yF = np.asfortranarray(self.y)  # y in the outputs' order, for the journal's sum
        Z, A, R, S = self._eval
        for s in range(0, max(len(x), 1), len(R)):
            a = x[s:s + len(R)]
            m = len(a)
            for l in range(len(self.W)):
                z = np.matmul(a, self.WT[l], out=Z[l][:m])
                z += self.b[l]
                a = self._activate(l, z, A[l][:m], m, R[:m], S[:m])
            yield s, z, a, S[:m]

    def _outputs(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Per-example losses (n,) and outputs a_L (n, K) over x: the loss from the logits when
        fused (softmax + cross-entropy, sigmoid + bce), else from the outputs: the values of
        ``losses.output_layer`` (without its dL/da and delta)."""
        per, outs = [], []
        for s, z, a, _ in self._passes(x):
            yb = y[s:s + len(a)]
            per.append(self.fused.value_from_logits(z, yb) if self.fused is not None else self.net.loss.value(a, yb))
            outs.append(a.copy())
        if len(per) == 1:  # one slice (n <= EVAL_ROWS): no second copy
            return per[0], outs[0]
        return np.concatenate(per), np.concatenate(outs)

    def journal_loss(self) -> tuple[float, Array]:
        """The epoch journal's loss with the parameters now, L = reduce_i L(a_L(x_i), y_i) + (λ/2)ΣW²,
        and the outputs a_L (n, K). With a fused batch sum (softmax + cross-entropy) each slice's
        loss comes from the softmax's own row sums, Σ_i ln(S_i) Σ_k y_ik - Σ y z (z shifted),
        as the batch journal's: no second softmax, no per-example array; else ``_outputs``."""
        # (as in the step: a fused batch sum is the softmax's, whose kernel leaves z shifted and S)
        batch_sum = None if self.fused is None else self.fused.batch_sum
        if batch_sum is None or not len(self.x):
            per_ex, a = self._outputs(self.x, self.y)
            return _loss.reduce(per_ex, self.net.reduction) + penalty(self.W, self.l2), a
        total, outs = 0.0, []
        for s, z, a, S in self._passes(self.x):
            m = len(a)
            total += batch_sum(z, S, self._yF[s:s + m], self.ysum[s:s + m])
            outs.append(a.copy())
        if self.net.reduction == "mean":
            total /= len(self.x)
        return total + penalty(self.W, self.l2), outs[0] if len(outs) == 1 else np.concatenate(outs)

    def _penalty(self, m: int) -> float:
        """The L2 penalty's share in a running sum of per-example losses over a batch of m (the
        generic loop's ``weighted``): m·penalty with ``mean`` (the epoch divides by n), else penalty."""
        if not self.l2:
            return 0.0
        pen = penalty(self.W, self.l2)
        return pen * m if self.net.reduction == "mean" else pen

    def _per_example(self, x: Array, y: Array) -> Array:
        return self._outputs(x, y)[0]

    def _views(self, m: int):
        """Per layer (z, a, delta, temp, mask) views of the first m rows of the buffers, cached."""
        if m not in self._cache:
            self._cache[m] = [tuple(buf[l][:m] for buf in (self.Z, self.A, self.D, self.T, self.M))
                              for l in range(len(self.W))] + [(self.R[:m], self.S[:m])]
            fold = self.lr if self.opt is None else self.dt(1.0)  # plain: η folded into delta
            self._scale[m] = fold / self.dt(m) if self.net.reduction == "mean" else fold
        return self._cache[m]

    def _step(self, xb: Array, yb: Array, idx) -> float:
        """One update in place; returns the batch's summed loss in ``batch`` mode (else 0).

        The numpy calls of a step are few (about 30 for W3) and short (microseconds), so the
        Python around them is kept lean: the registry's kernels (``Activation.in_place``), the
        views and the arrays are looked up once per run, not per call."""
        m = len(xb)
        views = self._views(m)
        scratch, matmul, subtract, add = views[-1], np.matmul, np.subtract, np.add.reduce
        a, bs, fwd = xb, self.b, self.fwd
        for l, WT in enumerate(self.WT):
            v = views[l]
            z = matmul(a, WT, v[0])
            z += bs[l]
            a = fwd[l](z, v[1], scratch)
        batch_loss = 0.0
        if self.batch_sum is not None:  # the registry's batch sum from this forward pass
            batch_loss = self.batch_sum(z, scratch[1], yb, self.ysum[idx])
        elif self.mode == "batch":
            batch_loss = self._batch_loss(z, a, yb, idx)
        if self.a_seen is not None:
            self.a_seen[idx] = a
        d = views[-2][2]
        if self.fused is not None:  # sigmoid + bce, softmax + cross-entropy: eta (yhat - y) / n
            subtract(a, yb, d)
            d *= self._scale[m]
        else:
            d = self._output_delta(z, a, yb, self._scale[m], d)
        self._backward(d, views, xb, matmul, subtract, add)
        if self.opt is not None:
            self.opt.step(self.p)
        return batch_loss

    def _backward(self, d: Array, views, xb: Array, matmul, subtract, add) -> None:
        """From the output's d (eta (1/n) delta_L when plain, (1/n) delta_L with an optimizer)
        back to the first layer: plain descent updates each layer as it goes, an optimizer
        only collects the gradients dW_l, db_l (into its flat G)."""
        Ws, bs, plain = self.W, self.b, self.opt is None
        for l in range(len(Ws) - 1, -1, -1):
            W, b = Ws[l], bs[l]
            if l > 0:  # dL/da_{l-1} = delta_l W_l with the W of before the update
                v = views[l - 1]
                a_prev = v[1]
                dprev = matmul(d, W, v[2])
            else:
                a_prev = xb
            if self.train_w[l]:  # plain: d already holds eta (1/n) delta, this product is the step
                g = matmul(d.T, a_prev, self.GW[l])
                if plain:
                    subtract(W, g, W)
            if self.train_b[l]:
                g = add(d, axis=0, out=self.Gb[l])
                if plain:
                    subtract(b, g, b)
            if l > 0:
                d = self.scale[l - 1](dprev, v[0], a_prev, v[3], v[4])

    def _activate(self, l: int, z: Array, a: Array, m: int, r: Array | None = None,
                  s: Array | None = None) -> Array:
        """a_l = f(z_l) into a by the registry's in-place kernel (softmax keeps z_l shifted)."""
        scratch = (self.R[:m], self.S[:m]) if r is None else (r, s)
        return self.acts[l].forward_into(z, a, scratch)

    def _output_delta(self, z: Array, a: Array, yb: Array, c, d: Array) -> Array:
        """eta * delta_L of the batch loss (c = eta/n for mean, eta for sum), into d."""
        if self.fused:  # sigmoid + bce, softmax + cross-entropy: delta = (yhat - y) / n
            np.subtract(a, yb, d)
            d *= c
        else:
            delta = _loss.output_layer(self.net.loss, self.acts[-1], z, a, yb, self.net.reduction)[2]
            np.multiply(delta, self.lr if self.opt is None else self.dt(1.0), d)
        return d

    def _batch_loss(self, z: Array, a: Array, yb: Array, idx) -> float:
        """The summed loss of the batch before its update (``batch`` journal mode)."""
        if self.fused is not None:  # from the logits
            return float(np.sum(self.fused.value_from_logits(z, yb)))
        return float(np.sum(self.net.loss.value(a, yb)))

    def _replay(self, epoch: int, order, updates: int):
        """The generic loop's checks, update by update: (epoch, k, reason) of the first failure."""
        net, k = self.net, 0
        self.updates = updates
        for k, (xb, yb, _) in enumerate(self._batches(order), start=1):
            zs, as_ = forward_arrays(self.W, self.b, self.acts, xb)
            per_ex, _, _, dWs, dbs = backward_arrays(self.W, self.acts, net.loss, net.reduction, xb, yb, zs, as_)
            if not np.isfinite(per_ex).all():
                return epoch, k, f"the loss is {_loss.reduce(per_ex, net.reduction):g}"
            new_W, new_b, state = self._replayed(dWs, dbs)
            if not all(np.isfinite(v).all() for v in (*new_W, *new_b)):
                return epoch, k, "the update makes a parameter NaN or inf"
            for old, new in zip((*self.W, *self.b), (*new_W, *new_b)):
                old[...] = new
            if state is not None:
                self.opt.load(state)
            self.updates += 1
        loss = self._epoch_loss_after_replay()
        return epoch, k, f"the loss after the epoch is {loss:g}"

    def _replayed(self, dWs: list, dbs: list) -> tuple[list, list, dict | None]:
        """The generic loop's update from the gradients: new W_l, b_l and optimizer state (or None)."""
        if self.opt is None:
            lr = self.lr
            new_W = [W - lr * g if t else W for W, g, t in zip(self.W, dWs, self.train_w)]
            new_b = [b - lr * g if t else b for b, g, t in zip(self.b, dbs, self.train_b)]
            return new_W, new_b, None
        o = self.opt
        new, state = o.optimizer.step(list(zip(self.W, self.b)), list(zip(add_l2(dWs, self.W, self.l2), dbs)),
                                      o.snapshot(), o.lr, list(zip(self.train_w, self.train_b)))
        return [W for W, _ in new], [b for _, b in new], state

    def _epoch_loss_after_replay(self) -> float:
        return _loss.reduce(self._per_example(self.x, self.y), self.net.reduction) + penalty(self.W, self.l2)
