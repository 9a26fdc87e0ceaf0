"""Fast training engines behind :func:`deltarule.train` — same numbers, less overhead.

:func:`engine_for` picks one of two engines, or None and the generic loop in
``training/generic.py`` runs (it stays the reference and the fallback):

* **scalar** (tiny networks, float64, numba installed): the whole run — every update,
  the per-epoch loss and the journal rows — in one compiled loop over plain floats, so a
  per-example update costs tens of nanoseconds instead of tens of numpy calls.
  Compiled once, cached on disk (``cache=True``).
* **buffered** (everything else it supports): the numpy loop with every array of a step
  preallocated, written with ``out=`` and updated in place; the parameters are views into
  one flat vector (so a journal row is one copy); the learning rate and the 1/n of the
  mean are folded into the output delta once, so each layer's step is one matrix product
  and one subtraction; float32 stays float32.

Both are engines of the one training driver (:mod:`deltarule.training.driver`, which holds the
journal, the hooks, checkpoints, divergence and Ctrl-C): they run epochs e0..e1 on the orders the
driver draws and give back one journal row per epoch and where a run diverged, as the generic
loop would report it; so a checkpointed run does a straight run's arithmetic.
"""
from __future__ import annotations

import numpy as np

from . import losses as _loss
from . import metrics as _metrics
from .network import Network, backward_arrays, forward_arrays
from .params import flatten

Array = np.ndarray
ACT_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softmax": 5}
LOSS_CODES = {"sse": 0, "half_sse": 1, "mse": 2, "half_mse": 3, "bce": 4, "cross_entropy": 5}
MODES = {"epoch": 0, "running": 1, "batch": 2}
# the compiled path pays ~0.3 s to import numba and load its cache: use it for runs that
# would take longer than that in numpy, on networks small enough for scalar loops to win
SCALAR_MIN_UPDATES = 2000
SCALAR_MAX_WORK = 4096  # parameters x batch size


# -- eligibility -------------------------------------------------------------------------
def _supported(network: Network, journal_loss: str) -> bool:
    acts = [lay.activation.name for lay in network.layers]
    if journal_loss not in MODES or any(a not in ACT_CODES for a in acts) or "softmax" in acts[:-1]:
        return False
    loss = network.loss.name
    # cross-entropy without a softmax output is not a valid problem; leave it to the generic loop
    return loss in LOSS_CODES and not (loss == "cross_entropy" and acts[-1] != "softmax")


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
    """Hands whole chunks of epochs to the compiled loop in ``_scalar.py``."""

    def __init__(self, network: Network, x: Array, y: Array, lr, schedule, journal_loss: str):
        self.k = _numba()
        self.p = network.parameters().astype(np.float64)
        self.mask = flatten([np.full(lay.W.shape, lay.train_weights) for lay in network.layers],
                            [np.full(lay.units, lay.train_biases) for lay in network.layers])
        woff, boff = _layout(network)
        L = len(network.layers)
        uoff = np.concatenate([[0], np.cumsum(network.sizes)])
        acts = [ACT_CODES[lay.activation.name] for lay in network.layers]
        self.I = np.array([L, *network.sizes, *woff, *boff, *uoff, *acts], np.int64)
        self.loss = LOSS_CODES[network.loss.name]
        self.mean = network.reduction == "mean"
        self.x, self.y, self.lr = x, y, float(lr)
        self.size, self.mode = schedule.size(len(x)), MODES[journal_loss]
        self.updates = 0

    def chunk_epochs(self) -> int:
        # about 0.05 s of work per chunk: the progress bar moves, Ctrl-C is answered
        per_epoch = len(self.x) * self.p.size + 1
        return max(1, 10_000_000 // per_epoch)

    def params(self) -> Array:
        return self.p.copy()

    def epochs(self, e0: int, e1: int, orders):
        rows = np.empty((e1 - e0, 2 + self.p.size))
        status = np.zeros(4)
        if orders is None:
            orders = np.empty((0, 0), np.int64)
        done = self.k.run(self.p, self.mask, self.I, self.loss, self.mean, self.lr, self.x, self.y,
                          orders.astype(np.int64), self.size, e0, e1, self.mode, rows, status)
        self.updates += int(status[3])
        failure = None
        if status[0]:
            reason = {1: f"the loss is {status[2]:g}", 2: "the update makes a parameter NaN or inf",
                      3: f"the loss after the epoch is {status[2]:g}"}[int(status[0])]
            failure = (e0 + done, int(status[1]), reason)
        return rows[:done], [None] * done, failure


# -- the buffered numpy engine ----------------------------------------------------------
class _BufferedRun:
    """The numpy loop with preallocated buffers and in-place, contiguous updates."""

    def __init__(self, network: Network, x: Array, y: Array, lr, schedule, journal_loss: str):
        self.net, self.x, self.y, self.lr, self.mode = network, x, y, lr, journal_loss
        self.dt = network.dtype.type
        self.p = network.parameters().astype(network.dtype)
        woff, boff = _layout(network)
        self.W = [self.p[w:w + lay.W.size].reshape(lay.W.shape) for w, lay in zip(woff, network.layers)]
        self.b = [self.p[b:b + lay.units] for b, lay in zip(boff, network.layers)]
        self.acts = [lay.activation for lay in network.layers]
        self.train_w = [lay.train_weights for lay in network.layers]
        self.train_b = [lay.train_biases for lay in network.layers]
        self.size = B = schedule.size(len(x))
        new = lambda *shape: np.empty(shape, network.dtype)
        self.Z = [new(B, lay.units) for lay in network.layers]
        self.A = [z if f.name == "identity" else new(B, lay.units) for z, f, lay in
                  zip(self.Z, self.acts, network.layers)]
        self.D = [new(B, lay.units) for lay in network.layers]
        self.T = [new(B, lay.units) for lay in network.layers]
        self.M = [np.empty((B, lay.units), bool) for lay in network.layers]
        self.R, self.S = new(B, 1), new(B, 1)  # row max and row sum (softmax)
        self.GW = [new(*lay.W.shape) for lay in network.layers]
        self.Gb = [new(lay.units) for lay in network.layers]
        self.Xb, self.Yb = new(B, x.shape[1]), new(B, y.shape[1])
        self.ysum = y.sum(axis=1)  # sum_k y_ik, for the cross-entropy of a batch
        self.fused = network.loss.fused.get(self.acts[-1].name) is not None
        # batch mode: a classifier's accuracy comes from the outputs of the training passes
        self.a_seen = np.empty(y.shape, network.dtype) if mode_keeps_outputs(network, journal_loss) else None
        self.updates, self._cache, self._scale = 0, {}, {}
        self.WT = [W.T for W in self.W]  # views: they follow the in-place updates
        self.step = self._generated_step()
        self._eval = None  # buffers of the whole-data passes, made when first needed

    def chunk_epochs(self) -> int:
        return 1

    def params(self) -> Array:
        return self.p.copy()

    def epochs(self, e0: int, e1: int, orders):
        rows, outputs = [], []
        for e in range(e0, e1):
            order = None if orders is None else orders[e - e0]
            start, updates = self.p.copy(), self.updates
            loss, a = self._epoch(order)
            # divergence is looked for once per epoch; when found, the epoch is replayed
            # from its start with the generic loop's checks after every update
            if not (np.isfinite(loss) and np.isfinite(self.p).all()):
                self.p[:] = start
                return np.array(rows), outputs, self._replay(e, order, updates)
            rows.append(np.concatenate([[e, loss], self.p]))
            outputs.append(a)
        return np.array(rows), outputs, None

    def _batches(self, order):
        n, B = len(self.x), self.size
        for s in range(0, n, B):
            m = min(B, n - s)
            if order is None:
                yield self.x[s:s + m], self.y[s:s + m], slice(s, s + m)
            else:
                idx = order[s:s + m]
                yield (np.take(self.x, idx, axis=0, out=self.Xb[:m]),
                       np.take(self.y, idx, axis=0, out=self.Yb[:m]), idx)

    def _epoch(self, order) -> float:
        total = 0.0
        for xb, yb, idx in self._batches(order):
            m = len(xb)
            batch_loss = self.step(xb, yb, idx, self._views(m), self._scale[m])
            if self.mode == "batch":
                total += batch_loss
            elif self.mode == "running":
                total += float(np.sum(self._per_example(xb, yb)))
            self.updates += 1
        if self.mode == "epoch":
            per_ex, a = self._outputs(self.x, self.y)
            return _loss.reduce(per_ex, self.net.reduction), a
        return (total / len(self.x) if self.net.reduction == "mean" else total), self.a_seen

    def _outputs(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Per-example losses (n,) and outputs a_L (n, K) over x, EVAL_ROWS rows at a time: the
        forward pass of the step on reused buffers, the loss by the generic output layer."""
        if self._eval is None:
            rows, new = min(max(len(self.x), 1), EVAL_ROWS), lambda *shape: np.empty(shape, self.net.dtype)
            Z = [new(rows, lay.units) for lay in self.net.layers]
            A = [z if f.name == "identity" else new(rows, z.shape[1]) for z, f in zip(Z, self.acts)]
            self._eval = (Z, A, new(rows, 1), new(rows, 1))
        Z, A, R, S = self._eval
        per, outs = [], []
        for s in range(0, max(len(x), 1), len(R)):
            a = x[s:s + len(R)]
            m = len(a)
            for l in range(len(self.W)):
                z = np.matmul(a, self.WT[l], out=Z[l][:m])
                z += self.b[l]
                a = self._activate(l, z, A[l][:m], m, R[:m], S[:m])
            per.append(_loss.output_layer(self.net.loss, self.acts[-1], z, a, y[s:s + m], self.net.reduction)[0])
            outs.append(a.copy())
        return np.concatenate(per), np.concatenate(outs)

    def _per_example(self, x: Array, y: Array) -> Array:
        return self._outputs(x, y)[0]

    def _views(self, m: int):
        """Per layer (z, a, delta, temp, mask) views of the first m rows of the buffers, cached."""
        if m not in self._cache:
            self._cache[m] = [tuple(buf[l][:m] for buf in (self.Z, self.A, self.D, self.T, self.M))
                              for l in range(len(self.W))] + [(self.R[:m], self.S[:m], self.S[:m, 0])]
            self._scale[m] = self.lr / self.dt(m) if self.net.reduction == "mean" else self.lr
        return self._cache[m]

    # -- the step as straight-line code ---------------------------------------------
    # The numpy calls of a step are few (about 30 for W3) and short (microseconds), so the
    # Python around them matters: the step is generated once per run as straight-line
    # source for this network (no dispatch on activation names, no attribute lookups),
    # the same calls as _step below, which stays as the readable reference.
    _ACT_SRC = {
        "sigmoid": ["negative({z}, {a})", "exp({a}, {a})", "{a} += 1", "divide(1, {a}, {a})"],
        "tanh": ["tanh({z}, {a})"],
        "relu": ["maximum({z}, 0, out={a})"],
        "leaky_relu": ["multiply({z}, dt(0.01), {a})", "maximum({z}, {a}, out={a})"],
        "identity": [],
        "softmax": ["maxr({z}, 1, None, R, True)", "{z} -= R", "exp({z}, {a})", "addr({a}, 1, None, S, True)",
                    "{a} /= S"],
    }
    _DERIV_SRC = {
        "sigmoid": ["subtract(1, {a}, {t})", "{t} *= {a}", "{d} *= {t}"],
        "tanh": ["multiply({a}, {a}, {t})", "subtract(1, {t}, {t})", "{d} *= {t}"],
        "relu": ["{d} *= greater({z}, 0, {k})"],
        "leaky_relu": ["{t}.fill(0.01)", "copyto({t}, 1, where=greater({z}, 0, {k}))", "{d} *= {t}"],
        "identity": [],
    }

    def _generated_step(self):
        """``step(xb, yb, idx, V, c)``: one update; V = per-layer views and (R, S, S0) for m rows."""
        L, names = len(self.W), [f.name for f in self.acts]
        lines = ["def step(xb, yb, idx, V, c):", "    R, S, S0 = V[-1]"]
        lines += [f"    z{l}, a{l}, d{l}, t{l}, k{l} = V[{l}]" for l in range(L)]
        for l in range(L):
            prev = "xb" if l == 0 else f"a{l - 1}"
            lines += [f"    matmul({prev}, WT{l}, z{l})", f"    z{l} += b{l}"]
            lines += ["    " + c.format(z=f"z{l}", a=f"a{l}") for c in self._ACT_SRC[names[l]]]
        o = L - 1
        if self.mode == "batch":
            if self.fused and names[-1] == "softmax":
                lines.append(f"    bl = float(log(S0, S0) @ ysum[idx]) - float(vdot(yb, z{o}))")
            else:
                lines.append(f"    bl = batch_loss(z{o}, a{o}, yb, idx)")
        else:
            lines.append("    bl = 0.0")
        if self.a_seen is not None:
            lines.append(f"    a_seen[idx] = a{o}")
        if self.fused:
            lines += [f"    subtract(a{o}, yb, d{o})", f"    d{o} *= c"]
        else:
            lines.append(f"    output_delta(z{o}, a{o}, yb, c, d{o})")
        for l in range(L - 1, -1, -1):
            prev = "xb" if l == 0 else f"a{l - 1}"
            if l > 0:
                lines.append(f"    matmul(d{l}, W{l}, d{l - 1})")
            if self.train_w[l]:
                lines.append(f"    subtract(W{l}, matmul(d{l}.T, {prev}, GW{l}), W{l})")
            if self.train_b[l]:
                lines.append(f"    subtract(b{l}, addr(d{l}, 0, None, Gb{l}), b{l})")
            if l > 0:
                v = dict(z=f"z{l - 1}", a=f"a{l - 1}", d=f"d{l - 1}", t=f"t{l - 1}", k=f"k{l - 1}")
                lines += ["    " + c.format(**v) for c in self._DERIV_SRC[names[l - 1]]]
        lines.append("    return bl")
        env = dict(matmul=np.matmul, negative=np.negative, exp=np.exp, divide=np.divide, tanh=np.tanh,
                   maximum=np.maximum, multiply=np.multiply, subtract=np.subtract, greater=np.greater,
                   copyto=np.copyto, log=np.log, vdot=np.vdot, maxr=np.maximum.reduce, addr=np.add.reduce,
                   dt=self.dt, ysum=self.ysum, a_seen=self.a_seen, batch_loss=self._batch_loss,
                   output_delta=self._output_delta)
        for l in range(L):
            env.update({f"W{l}": self.W[l], f"WT{l}": self.WT[l], f"b{l}": self.b[l], f"GW{l}": self.GW[l],
                        f"Gb{l}": self.Gb[l]})
        exec(compile("\n".join(lines), f"<deltarule step {self.net!r}>", "exec"), env)
        return env["step"]

    def _step(self, xb: Array, yb: Array, idx) -> float:
        """One update in place; returns the batch's summed loss in ``batch`` mode (else 0)."""
        m, L, views = len(xb), len(self.W), self._views(len(xb))
        a = xb
        for l in range(L):
            z = np.matmul(a, self.WT[l], views[l][0])
            z += self.b[l]
            a = self._activate(l, z, views[l][1], m)
        batch_loss = self._batch_loss(z, a, yb, idx) if self.mode == "batch" else 0.0
        if self.a_seen is not None:
            self.a_seen[idx] = a
        d = self._output_delta(z, a, yb, self._scale[m], views[L - 1][2])
        add = np.add.reduce
        for l in range(L - 1, -1, -1):
            a_prev = views[l - 1][1] if l > 0 else xb
            if l > 0:  # dL/da_{l-1} = delta_l W_l with the W of before the update
                dprev = np.matmul(d, self.W[l], views[l - 1][2])
            if self.train_w[l]:  # d already holds eta (1/n) delta: this product is the step
                self.W[l] -= np.matmul(d.T, a_prev, self.GW[l])
            if self.train_b[l]:
                self.b[l] -= add(d, axis=0, out=self.Gb[l])
            if l > 0:
                d = self._hidden_delta(l - 1, dprev, views[l - 1])
        return batch_loss

    def _activate(self, l: int, z: Array, a: Array, m: int, r: Array | None = None,
                  s: Array | None = None) -> Array:
        name = self.acts[l].name
        if name == "sigmoid":  # 1 / (1 + e^-z): four SIMD passes (as exact as the split form, to 1 ulp)
            np.negative(z, a)  # e^-z may overflow to inf (train ignores that): 1/(1+inf) = 0
            np.exp(a, a)
            a += 1
            np.divide(1, a, a)
        elif name == "tanh":
            np.tanh(z, a)
        elif name == "relu":
            np.maximum(z, 0, out=a)
        elif name == "leaky_relu":  # max(z, 0.01 z) is z for z >= 0 and 0.01 z below
            np.multiply(z, self.dt(0.01), out=a)
            np.maximum(z, a, out=a)
        elif name == "softmax":
            r, s = (self.R[:m], self.S[:m]) if r is None else (r, s)
            np.maximum.reduce(z, axis=1, keepdims=True, out=r)
            z -= r  # softmax and its log are shift-invariant: z_L is kept shifted (max 0)
            np.exp(z, a)
            np.add.reduce(a, axis=1, keepdims=True, out=s)
            a /= s
        return a

    def _hidden_delta(self, l: int, d: Array, views) -> Array:
        """delta_l = dL/da_l * f'(z_l), in place in d."""
        name, (z, a, _, t, mask) = self.acts[l].name, views
        if name == "sigmoid":  # a (1 - a)
            np.subtract(1, a, t)
            t *= a
            d *= t
        elif name == "tanh":  # 1 - a^2
            np.multiply(a, a, t)
            np.subtract(1, t, t)
            d *= t
        elif name == "relu":  # 1 for z > 0, else 0
            d *= np.greater(z, 0, mask)
        elif name == "leaky_relu":
            t.fill(0.01)
            np.copyto(t, 1, where=np.greater(z, 0, mask))
            d *= t
        return d

    def _output_delta(self, z: Array, a: Array, yb: Array, c, d: Array) -> Array:
        """eta * delta_L of the batch loss (c = eta/n for mean, eta for sum), into d."""
        if self.fused:  # sigmoid + bce, softmax + cross-entropy: delta = (yhat - y) / n
            np.subtract(a, yb, d)
            d *= c
        else:
            delta = _loss.output_layer(self.net.loss, self.acts[-1], z, a, yb, self.net.reduction)[2]
            np.multiply(delta, self.lr, d)
        return d

    def _batch_loss(self, z: Array, a: Array, yb: Array, idx) -> float:
        """The summed loss of the batch before its update (``batch`` journal mode)."""
        m = len(yb)
        if self.fused and self.acts[-1].name == "softmax":
            # -sum y (z - lse(z)) = sum_i ln(S_i) sum_k y_ik - sum y z, z shifted by its row max
            lns = np.log(self.S[:m, 0], out=self.S[:m, 0])
            return float(lns @ self.ysum[idx]) - float(np.vdot(yb, z))
        return float(np.sum(_loss.output_layer(self.net.loss, self.acts[-1], z, a, yb, self.net.reduction)[0]))

    def _replay(self, epoch: int, order, updates: int):
        """The generic loop's checks, update by update: (epoch, k, reason) of the first failure."""
        net, lr, k = self.net, self.lr, 0
        self.updates = updates
        for k, (xb, yb, _) in enumerate(self._batches(order), start=1):
            zs, as_ = forward_arrays(self.W, self.b, self.acts, xb)
            per_ex, _, _, dWs, dbs = backward_arrays(self.W, self.acts, net.loss, net.reduction, xb, yb, zs, as_)
            if not np.isfinite(per_ex).all():
                return epoch, k, f"the loss is {_loss.reduce(per_ex, net.reduction):g}"
            new_W = [W - lr * g if t else W for W, g, t in zip(self.W, dWs, self.train_w)]
            new_b = [b - lr * g if t else b for b, g, t in zip(self.b, dbs, self.train_b)]
            if not all(np.isfinite(v).all() for v in (*new_W, *new_b)):
                return epoch, k, "the update makes a parameter NaN or inf"
            for old, new in zip((*self.W, *self.b), (*new_W, *new_b)):
                old[...] = new
            self.updates += 1
        loss = self._epoch_loss_after_replay()
        return epoch, k, f"the loss after the epoch is {loss:g}"

    def _epoch_loss_after_replay(self) -> float:
        return _loss.reduce(self._per_example(self.x, self.y), self.net.reduction)
