"""Gradient descent — batch, mini-batch and stochastic are one loop over batch sizes.

``batch`` takes all n examples per update, ``stochastic`` one, ``minibatch`` takes
``batch_size`` (the last batch of an epoch holds the remainder and is used). Examples
are taken in file order unless ``shuffle`` is set, when each epoch's order comes from
``numpy.random.default_rng(seed)`` — the same seed gives the same run, bit for bit.

Inside the loop parameters are updated in place on private copies (no per-update
objects); what goes in and what comes out are immutable :class:`~deltarule.Network`\\ s.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

import numpy as np

from . import losses as _loss
from .network import Network, backward_arrays, forward_arrays
from .params import flatten
from .trace import Step

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

Array = np.ndarray
METHODS = ("batch", "minibatch", "stochastic")
JOURNAL_LOSSES = ("epoch", "running", "batch")


@dataclass(frozen=True)
class Schedule:
    """How examples are grouped into updates: method, batch size, epochs, order.

    ``batch``: one update per epoch on all n examples; ``minibatch``: ``batch_size``
    examples per update, the last batch of an epoch holding the remainder; ``stochastic``:
    one example per update. ``shuffle`` draws each epoch's order from ``seed``.

    >>> from deltarule import Schedule
    >>> s = Schedule("minibatch", batch_size=4, epochs=3)
    >>> s.size(10), [(b.start, b.stop) for b in s.epoch_batches(10, None)]
    (4, [(0, 4), (4, 8), (8, 10)])
    """

    method: str = "batch"
    batch_size: int | None = None
    epochs: int = 1
    shuffle: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method == "minibatch" and not self.batch_size:
            raise ValueError("minibatch needs a batch_size")

    def size(self, n: int) -> int:
        """Examples per update for a data set of n examples."""
        return {"batch": n, "stochastic": 1}.get(self.method) or min(int(self.batch_size), n)

    def epoch_batches(self, n: int, rng: np.random.Generator | None) -> Iterator[Array | slice]:
        """The batches of one epoch: slices in file order, index arrays when shuffled."""
        size = self.size(n)
        if self.shuffle:
            order = rng.permutation(n)
            for s in range(0, n, size):
                yield order[s:s + size]
        else:
            for s in range(0, n, size):
                yield slice(s, min(s + size, n))  # a view: no copy of the data

    def rng(self) -> np.random.Generator | None:
        """The generator of the shuffled order (``default_rng(seed)``); None in file order."""
        return np.random.default_rng(self.seed) if self.shuffle else None


class Diverged(ArithmeticError):
    """Training produced NaN or inf; ``network`` holds the last finite parameters."""

    def __init__(self, epoch: int, update: int, learning_rate: float, network: Network, journal: "Journal",
                 reason: str = "the loss or a parameter is not finite"):
        self.epoch, self.update, self.learning_rate = epoch, update, learning_rate
        self.network, self.journal, self.reason = network, journal, reason
        super().__init__(f"training diverged at epoch {epoch}, update {update} "
                         f"(learning rate {learning_rate:g}): {reason}; "
                         f"the last finite parameters are kept")


@dataclass(frozen=True)
class Journal:
    """One row per epoch: ``epoch``, ``loss``, then one column per parameter.

    ``rows`` is a read-only (epochs [+1], columns) array; row ``epoch = 0`` (when present)
    holds the initial state. ``to_frame()`` gives the pandas DataFrame.

    >>> import deltarule as dr
    >>> journal = dr.load_problem("seed-000-neuron").train(journal_loss="running").journal
    >>> journal.columns, journal.rows.shape          # seed 000's table: 10 epochs and the start
    (('epoch', 'loss', 'w', 'b'), (11, 4))
    >>> journal.to_frame().round(4).loc[1, ["w", "b", "loss"]].tolist()
    [1.89, 0.8304, 0.2673]
    """

    columns: tuple[str, ...]
    rows: Array
    loss_mode: str = "epoch"

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def loss(self) -> Array:
        """The ``loss`` column, one value per row (epochs [+1],)."""
        return self.rows[:, 1]

    @property
    def epochs(self) -> Array:
        """The ``epoch`` column as integers (epochs [+1],)."""
        return self.rows[:, 0].astype(int)

    def to_frame(self):
        """The journal as a pandas DataFrame: one row per epoch, ``epoch`` as integers."""
        import pandas as pd  # imported where used: the core stays light

        df = pd.DataFrame(self.rows, columns=list(self.columns))
        df["epoch"] = df["epoch"].astype(int)
        return df

    def to_csv(self, path: str) -> None:
        """Write the journal as CSV, atomically (temporary file, then rename)."""
        from .io import atomic_write

        with atomic_write(path) as fh:
            self.to_frame().to_csv(fh, index=False, float_format="%.17g")

    def plot(self, ax=None, columns="loss", **kwargs):
        """Draw ``columns`` ("loss", "parameters", "all" or names) per epoch; returns the Axes.

        ``journal.plot(columns=["w", "b", "loss"])`` is seed 000's figure; see
        :func:`deltarule.plots.plot_journal` for ``logy``, ``label``, ``title``.
        """
        from .plots import plot_journal

        return plot_journal(self, ax, columns, **kwargs)

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


@dataclass(frozen=True)
class TrainResult:
    """What training returns: the start, the end, the journal and the update count.

    ``initial`` and ``network`` are the networks before and after training, ``journal``
    the :class:`Journal` (one row per epoch), ``updates`` the number of gradient steps.
    """

    initial: Network
    network: Network
    journal: Journal
    updates: int


def _finite(*arrays: Array) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`; ``checkpoint`` is the state after the last completed epoch."""

    def __init__(self, checkpoint: "Checkpoint"):
        self.checkpoint = checkpoint
        super().__init__(f"interrupted after epoch {checkpoint.epoch}")


class EpochEnd(NamedTuple):
    """What ``on_epoch`` receives after each completed epoch; ``checkpoint()`` builds the
    :class:`~deltarule.checkpoint.Checkpoint` of this moment (only when asked: it copies the journal)."""

    epoch: int
    loss: float
    updates: int
    checkpoint: Callable[[], "Checkpoint"]


@np.errstate(over="ignore", invalid="ignore")  # overflow and NaN are detected below, not warned about
def train(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(), *,
          journal_loss: str = "epoch", initial_row: bool = True,
          callback: Callable[[int, float], None] | None = None,
          start: "Checkpoint | None" = None, on_epoch: Callable[[EpochEnd], None] | None = None,
          validation: tuple[Any, Any] | None = None) -> TrainResult:
    """Gradient descent on (x, y) following ``schedule``; returns a :class:`TrainResult`.

    ``journal_loss="epoch"`` (the contract) records the loss over all examples with the
    parameters at the end of each epoch; ``"running"`` records, as seed 000's table does,
    the loss of each batch right after its update, accumulated over the epoch and reduced
    over the n examples. ``callback(epoch, loss)`` is called after every epoch.
    ``start`` (a :class:`~deltarule.checkpoint.Checkpoint` of this network, data and schedule)
    continues a run exactly where it stopped: parameters, journal, update count and the
    shuffle generator's state; ``schedule.epochs`` is then the total. ``on_epoch(EpochEnd)``
    is called after every epoch (to write checkpoints). The run goes to a fast engine when one
    applies (:mod:`deltarule.fast`), chosen from the problem and the whole schedule, hooks or not:
    so a checkpointed and resumed run is bit-identical to a straight one. :func:`generic` is the
    reference loop.
    Raises :class:`Diverged` (with the last finite parameters) as soon as a loss or a
    parameter is NaN or inf, and :class:`Interrupted` (with the last epoch's checkpoint) on Ctrl-C.
    Classifiers get an ``accuracy`` column after the parameters; ``validation=(x_val, y_val)``
    adds ``val_loss`` (and ``val_accuracy``) on those held-out examples (:mod:`deltarule.metrics`).

    Shapes: x (n, d) and y (n, K), one example per row. Each update is
    ``W_l <- W_l - learning_rate * dW_l`` and ``b_l <- b_l - learning_rate * db_l``.

    >>> import deltarule as dr
    >>> p = dr.load_problem("seed-000-neuron")
    >>> r = dr.train(p.network, p.x, p.y, 0.9, dr.Schedule("stochastic", epochs=10))
    >>> r.updates, round(float(r.journal.loss[-1]), 4), r.network.parameters().round(4).tolist()
    (60, 0.0348, [-0.1935, -0.4938])
    """
    if journal_loss not in JOURNAL_LOSSES:
        raise ValueError(f"journal_loss must be one of {JOURNAL_LOSSES}")
    from . import fast

    # a compiled or buffered engine when one applies (fast.py), checkpointed or resumed runs
    # included: the engine depends on the problem and the whole schedule, never on the hooks
    result = fast.train(network, x, y, learning_rate, schedule, journal_loss=journal_loss,
                        initial_row=initial_row, callback=callback, validation=validation,
                        start=start, on_epoch=on_epoch)
    if result is not None:
        return result
    return generic(network, x, y, learning_rate, schedule, journal_loss=journal_loss, initial_row=initial_row,
                   callback=callback, start=start, on_epoch=on_epoch, validation=validation)


@np.errstate(over="ignore", invalid="ignore")  # overflow and NaN are detected below, not warned about
def generic(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(), *,
            journal_loss: str = "epoch", initial_row: bool = True,
            callback: Callable[[int, float], None] | None = None,
            start: "Checkpoint | None" = None, on_epoch: Callable[[EpochEnd], None] | None = None,
            validation: tuple[Any, Any] | None = None) -> TrainResult:
    """:func:`train` on the generic loop: the reference the fast engines are tested against, and
    the fallback for what they do not support. Same arguments, same result, to rounding."""
    if journal_loss not in JOURNAL_LOSSES:
        raise ValueError(f"journal_loss must be one of {JOURNAL_LOSSES}")
    dt = network.dtype
    x = np.ascontiguousarray(x, dtype=dt)
    y = np.ascontiguousarray(y, dtype=dt)
    n = len(x)
    loss, reduction = network.loss, network.reduction
    acts = [lay.activation for lay in network.layers]
    first = network if start is None else start.network
    Ws = [lay.W.copy() for lay in first.layers]  # private, writable
    bs = [lay.b.copy() for lay in first.layers]
    train_w = [lay.train_weights for lay in network.layers]
    train_b = [lay.train_biases for lay in network.layers]
    rng = schedule.rng()

    def outputs(xb: Array, yb: Array) -> tuple[Array, Array]:
        zs, as_ = forward_arrays(Ws, bs, acts, xb)
        return _loss.output_layer(loss, acts[-1], zs[-1], as_[-1], yb, reduction)[0], as_[-1]

    def batch_loss(xb: Array, yb: Array) -> Array:
        return outputs(xb, yb)[0]

    from . import metrics as _metrics

    kind = _metrics.classifier(network)
    val = None if validation is None else tuple(np.ascontiguousarray(v, dtype=dt) for v in validation)

    def extras(a: Array | None) -> list[float]:
        """accuracy, val_loss, val_accuracy; ``a``: the outputs on x when already computed."""
        if not (kind or val is not None):
            return []
        if kind and a is None:
            a = outputs(x, y)[1]
        v = None
        if val is not None:
            per_val, a_val = outputs(*val)
            v = (_loss.reduce(per_val, reduction), a_val, val[1])
        return _metrics.extra_values(kind, a, y, v)

    def snapshot() -> Network:
        return network.with_parameters(flatten(Ws, bs))

    columns = ("epoch", "loss", *network.parameter_names(), *_metrics.extra_columns(network, val is not None))

    def journal_of(count: int) -> Journal:
        return Journal(columns, np.array(rows[:count]).reshape(-1, len(columns)), journal_loss)

    def checkpoint_of(state: tuple) -> "Checkpoint":
        from .checkpoint import Checkpoint, fingerprint

        epoch_, updates_, params_, rng_state_, count_ = state
        return Checkpoint(network.with_parameters(params_), epoch_, updates_, journal_of(count_), schedule,
                          learning_rate, rng_state_, fingerprint(x, y))

    rows: list[Array] = []
    updates = 0
    if start is not None:
        from .checkpoint import check_start

        check_start(start, network, x, y, learning_rate, schedule, journal_loss, columns)
        rows, updates = list(start.journal.rows), start.updates
        if rng is not None:
            rng.bit_generator.state = start.rng_state
    elif initial_row:
        per0, a0 = outputs(x, y)
        rows.append(np.concatenate([[0, _loss.reduce(per0, reduction)], network.parameters(), extras(a0)]))
    begin = 1 if start is None else start.epoch + 1
    # the last completed epoch, bound in one assignment so that Ctrl-C never sees half of it
    done = (begin - 1, updates, first.parameters(), rng.bit_generator.state if rng else None, len(rows))
    a_seen = np.empty(y.shape, dt) if journal_loss == "batch" and kind else None
    try:
        for epoch in range(begin, schedule.epochs + 1):
            running, k = 0.0, 0
            for k, idx in enumerate(schedule.epoch_batches(n, rng), start=1):
                xb, yb = x[idx], y[idx]
                zs, as_ = forward_arrays(Ws, bs, acts, xb)
                per_ex, _, _, dWs, dbs = backward_arrays(Ws, acts, loss, reduction, xb, yb, zs, as_)
                if not np.isfinite(per_ex).all():
                    raise Diverged(epoch, k, learning_rate, snapshot(), journal_of(len(rows)),
                                   f"the loss is {_loss.reduce(per_ex, reduction):g}")
                new_W = [W - learning_rate * g if t else W for W, g, t in zip(Ws, dWs, train_w)]
                new_b = [b - learning_rate * g if t else b for b, g, t in zip(bs, dbs, train_b)]
                if not _finite(*new_W, *new_b):  # keep the last finite parameters: commit only finite ones
                    raise Diverged(epoch, k, learning_rate, snapshot(), journal_of(len(rows)),
                                   "the update makes a parameter NaN or inf")
                Ws[:], bs[:] = new_W, new_b
                updates += 1
                if journal_loss == "running":
                    running += float(np.sum(batch_loss(xb, yb)))
                elif journal_loss == "batch":  # each batch's loss before its update, as PyTorch loops log it
                    running += float(np.sum(per_ex))
                    if kind:  # and its outputs, for the accuracy: no extra pass over the data
                        a_seen[idx] = as_[-1]
            a_full = a_seen if journal_loss == "batch" and kind else None
            if journal_loss in ("running", "batch"):
                epoch_loss = running / n if reduction == "mean" else running
            else:
                per_full, a_full = outputs(x, y)
                epoch_loss = _loss.reduce(per_full, reduction)
            if not np.isfinite(epoch_loss):
                raise Diverged(epoch, k, learning_rate, snapshot(), journal_of(len(rows)),
                               f"the loss after the epoch is {epoch_loss:g}")
            params = flatten(Ws, bs)
            rows.append(np.concatenate([[epoch, epoch_loss], params, extras(a_full)]))
            done = (epoch, updates, params, rng.bit_generator.state if rng else None, len(rows))
            if callback is not None:
                callback(epoch, epoch_loss)
            if on_epoch is not None:
                on_epoch(EpochEnd(epoch, epoch_loss, updates, lambda state=done: checkpoint_of(state)))
    except KeyboardInterrupt as e:
        if isinstance(e, Interrupted):
            raise
        raise Interrupted(checkpoint_of(done)) from None
    table = np.array(rows).reshape(-1, len(columns))
    table.flags.writeable = False
    return TrainResult(network, snapshot(), Journal(columns, table, journal_loss), updates)


def steps(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(),
          count: int = 1) -> list[Step]:
    """The first ``count`` updates of ``schedule`` as full :class:`Step` records (for solve).

    Epochs follow one another as in :func:`train`, so ``count`` may exceed one epoch.
    Each step keeps the trace before its update and the network after it.

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
    while len(out) < count:
        for idx in schedule.epoch_batches(n, rng):
            ex = np.arange(n)[idx]
            step = network.step(x[ex], y[ex], learning_rate, examples=ex)
            out.append(step)
            network = step.after
            if len(out) == count:
                break
    return out
