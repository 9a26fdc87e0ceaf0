"""The one training driver: what every engine's run shares, written once.

An engine (the generic loop, the buffered numpy loop, the compiled scalar loop, PyTorch) only
does arithmetic: it runs epochs ``e0 .. e1-1`` and hands back one journal row per completed
epoch. The :class:`Driver` does the bookkeeping around it: the shuffled orders (drawn here, one
``rng.permutation(n)`` per epoch, so every engine sees the same batches), the journal (one
growing table: a checkpoint's journal is a view, not a copy), the extra columns (accuracy,
held-out loss), ``callback`` and ``on_epoch`` after every epoch in order, checkpoints,
:class:`~deltarule.results.Diverged` and, on Ctrl-C, :class:`~deltarule.results.Interrupted`
with the last completed epoch's checkpoint.

The engine protocol (duck-typed)::

    name: str                   # "generic", "buffered", "scalar", "torch": recorded in checkpoints
    updates: int                # gradient steps so far (the driver sets it when resuming)
    own_extras: bool            # rows already hold the extra columns (else the driver adds them)
    chunk_epochs() -> int       # epochs per call of epochs(): hooks run between calls
    params() -> (P,)            # the parameters now (the last finite ones after a failure)
    initial() -> (row, a)       # row 0: [0, loss, parameters...], the outputs on x (or None)
    epochs(e0, e1, orders) -> (rows (m, 2 + P), outputs [a or None] * m, failure)
        # orders: (e1 - e0, n) shuffled orders or None (file order); failure: None, or
        # (epoch, update, reason) after the m completed epochs, parameters left at the last finite
"""
from __future__ import annotations

from functools import cached_property, lru_cache
from typing import Any, Callable

import numpy as np

from .. import losses as _loss
from .. import metrics as _metrics
from ..checkpoint import Checkpoint, check_start, fingerprint
from ..early_stopping import EarlyStopping, Watch
from ..fast import eval_outputs
from ..network import Network
from ..optimization import Optimization
from ..results import Diverged, EpochEnd, Interrupted, Journal, TrainResult

Array = np.ndarray


@lru_cache(maxsize=32)
def parameter_names(sizes: tuple[int, ...]) -> tuple[str, ...]:
    """``Network.parameter_names`` by string concatenation, cached per shape (a 784-256-10
    network has 203,530 columns: formatting each name costs more than a training epoch)."""
    if sizes == (1, 1):
        return ("w", "b")
    names: list[str] = []
    for l, (fan, units) in enumerate(zip(sizes, sizes[1:]), start=1):
        cols = [f"{j}]" for j in range(1, fan + 1)]
        for i in range(1, units + 1):
            row = f"W{l}[{i},"
            names += [row + c for c in cols]
        names += [f"b{l}[{i}]" for i in range(1, units + 1)]
    return tuple(names)


def extras_of(network: Network, x: Array, y: Array, validation):
    """The journal's columns after the parameters (accuracy, val_loss, val_accuracy):
    ``extras(params, outputs_on_x or None) -> list``, and their names."""
    kind = _metrics.classifier(network)
    val = None if validation is None else tuple(np.ascontiguousarray(v, dtype=network.dtype) for v in validation)
    names = _metrics.extra_columns(network, val is not None)
    # the targets' classes, once a run (not once an epoch)
    truths = tuple(None if t is None or not kind else _metrics.predicted_classes(t, kind)
                   for t in (y, None if val is None else val[1]))

    def extras(params: Array, a: Array | None) -> list[float]:
        if not names:
            return []
        if val is None and a is not None:  # the outputs are given: no network to build
            return _metrics.extra_values(kind, a, y, None, truths)
        net = network.with_parameters(params)
        if kind and a is None:
            a = eval_outputs(net, x, y)[1]
        v = None
        if val is not None:
            per_val, a_val = eval_outputs(net, *val)
            v = (_loss.reduce(per_val, net.reduction), a_val, val[1])
        return _metrics.extra_values(kind, a, y, v, truths)

    return extras, names


class Table:
    """The journal's rows in one array allocated for the whole run: adding rows copies only
    them, and the journal up to any row is a read-only view (no copy per checkpoint)."""

    def __init__(self, capacity: int, width: int):
        self.buf, self.count = np.empty((max(capacity, 1), width)), 0

    def add(self, rows: Array) -> None:
        need = self.count + len(rows)
        if need > len(self.buf):  # more rows than planned (an engine that overran): grow
            grown = np.empty((max(need, 2 * len(self.buf)), self.buf.shape[1]))
            grown[:self.count] = self.buf[:self.count]
            self.buf = grown
        self.buf[self.count:need] = rows
        self.count = need

    def view(self, count: int) -> Array:
        rows = self.buf[:count]
        rows.flags.writeable = False
        return rows


class Driver:
    """One run of ``engine`` from ``start`` (a Checkpoint) or from ``network``'s parameters."""

    def __init__(self, network: Network, x: Array, y: Array, learning_rate, schedule, journal_loss: str,
                 validation, make_engine: Callable[..., Any], engine: str, start: Checkpoint | None = None,
                 optimization: Optimization = Optimization(), early_stopping: EarlyStopping | None = None):
        self.net, self.x, self.y, self.lr, self.schedule = network, x, y, learning_rate, schedule
        self.extras, names = extras_of(network, x, y, validation)
        sched = optimization.lr_schedule
        self.lr_schedule = None if sched is None or sched.name == "constant" else sched
        if self.lr_schedule is not None:  # η of each epoch (row 0: the first epoch's)
            names = (*names, "learning_rate")
        self.columns = ("epoch", "loss", *parameter_names(network.sizes), *names)
        self.mode, self.rng, self.P = journal_loss, schedule.rng(), network.parameters().size
        self.per_epoch = -(-len(x) // schedule.size(len(x))) if len(x) else 0  # updates in an epoch
        self.begin, first, self.settings = 1, network, optimization.settings()
        if start is not None:
            check_start(start, network, x, y, learning_rate, schedule, journal_loss, self.columns, engine,
                        self.settings)
            first, self.begin = network.with_parameters(start.network.parameters()), start.epoch + 1
        self.table = Table(schedule.epochs + 1, len(self.columns))
        self.watch = None if early_stopping is None else Watch(early_stopping, self.columns, self.P)
        resumed = None if start is None else start.state
        self.engine = make_engine(first) if resumed is None else make_engine(first, resumed)
        self.engine.updates = 0
        if start is not None:
            self.table.add(np.asarray(start.journal.rows, np.float64).reshape(-1, len(self.columns)))
            if self.watch is not None:  # the best so far, from the journal: as a straight run has it
                self.watch.scan(self.table.view(self.table.count))
            self.engine.updates = start.updates
            if self.rng is not None:
                self.rng.bit_generator.state = start.rng_state
        # the last completed epoch (epoch, updates, parameters, shuffle state, journal rows,
        # optimizer state), bound in one assignment so that Ctrl-C never sees half of it
        self.done = (self.begin - 1, self.engine.updates, first.parameters(),
                     self.rng.bit_generator.state if self.rng else None, self.table.count, self.opt_state())

    @cached_property
    def data_sha256(self) -> str:
        return fingerprint(self.x, self.y)  # once per run: hashing the data costs a pass over it

    def journal(self, count: int) -> Journal:
        return Journal(self.columns, self.table.view(count), self.mode)

    def opt_state(self, epoch: int | None = None) -> dict | None:
        """The engine's optimizer state now (a dict replaced, never changed, by each step), or None;
        with ``epoch``, after that epoch of the last chunk where the engine keeps each (``state_at``)."""
        at = getattr(self.engine, "state_at", None)
        if epoch is not None and at is not None:
            return at(epoch)
        return getattr(self.engine, "state", None)

    def checkpoint(self, state: tuple) -> Checkpoint:
        """The Checkpoint of a ``done`` state."""
        epoch, updates, params, rng_state, count, opt_state = state
        return Checkpoint(self.net.with_parameters(params), epoch, updates, self.journal(count), self.schedule,
                          self.lr, rng_state, self.data_sha256, self.engine.name, len(self.x),
                          self.settings or None, opt_state)

    def complete(self, rows: Array, outputs: list) -> Array:
        """Rows with the extra columns added (when the engine did not add them)."""
        if len(self.columns) > 2 + self.P and not getattr(self.engine, "own_extras", False):
            rows = np.array([np.concatenate([row, self.extras(row[2:], a), self.rate(row[0])])
                             for row, a in zip(rows, outputs)])
        return np.asarray(rows, np.float64).reshape(-1, len(self.columns))

    def rate(self, epoch: float) -> list[float]:
        """The ``learning_rate`` column's value for a row of ``epoch`` (empty without a schedule)."""
        if self.lr_schedule is None:
            return []
        return [self.lr_schedule.rate(max(int(epoch) - 1, 0), float(self.lr), len(self.x))]

    @np.errstate(over="ignore", invalid="ignore")
    def initial_row(self) -> None:
        """Row 0: the loss (and extras) of the starting parameters."""
        row, a = self.engine.initial()
        self.table.add(self.complete(np.asarray(row)[None], [a]))
        self.done = self.done[:4] + (self.table.count,) + self.done[5:]

    @np.errstate(over="ignore", invalid="ignore")  # NaN and inf are detected, not warned about
    def run(self, callback=None, on_epoch=None) -> TrainResult:
        """Every epoch from ``begin`` to ``schedule.epochs``, chunk by chunk; the TrainResult."""
        epochs, chunk = self.schedule.epochs, max(1, self.engine.chunk_epochs())
        try:
            for e0 in range(self.begin, epochs + 1, chunk):
                if self.chunk(e0, min(e0 + chunk, epochs + 1), callback, on_epoch):
                    break
        except KeyboardInterrupt as e:  # the checkpoint of the last completed epoch
            if isinstance(e, Interrupted):
                raise
            raise Interrupted(self.checkpoint(self.done)) from None
        if self.watch is not None and self.watch.stopped:  # the stopping epoch's, or the best one's
            final = self.net.with_parameters(self.watch.final(np.array(self.done[2])))
            return TrainResult(self.net, final, self.journal(self.table.count), self.done[1], self.watch.stopped,
                               self.watch.kept_epoch)
        final = self.net.with_parameters(self.engine.params())
        return TrainResult(self.net, final, self.journal(self.table.count), self.engine.updates)

    def chunk(self, e0: int, e1: int, callback, on_epoch) -> bool:
        """Epochs e0 .. e1-1 on the engine, then the hooks of each completed one; Diverged last.
        True when early stopping ends the run (the chunk's rows after the stopping epoch dropped)."""
        updates, (orders, states) = self.engine.updates, self.orders(e1 - e0, on_epoch is not None)
        rows, outputs, failure = self.engine.epochs(e0, e1, orders)
        rows = self.complete(rows, outputs)
        stop = None if self.watch is None else self.watch.scan(rows)
        if stop is not None:
            rows, failure = rows[:stop + 1], None
        self.table.add(rows)
        self.ended(rows, updates, states, callback, on_epoch)
        if stop is not None:
            return True
        if failure is not None:
            epoch, k, reason = failure
            lr = self.rate(epoch)[0] if self.lr_schedule is not None else float(self.lr)  # that epoch's η
            raise Diverged(epoch, k, lr, self.net.with_parameters(self.engine.params()),
                           self.journal(self.table.count), reason)
        return False

    def orders(self, count: int, every: bool):
        """The shuffled orders of ``count`` epochs (None in file order) and the generator's state
        after each epoch's draw: all of them when ``every``, else only the last (for Ctrl-C)."""
        rng = self.rng
        if rng is None:
            return None, [None] * count
        orders, states = np.empty((count, len(self.x)), np.int64), [None] * count
        for e in range(count):
            orders[e] = rng.permutation(len(self.x))
            if every or e == count - 1:
                states[e] = rng.bit_generator.state
        return orders, states

    def ended(self, rows: Array, updates: int, states: list, callback, on_epoch) -> None:
        """After a chunk: ``callback`` and ``on_epoch`` for each of its completed epochs, in order,
        ``done`` (and the EpochEnd) with that epoch's own parameters, updates, shuffle state, journal."""
        def state(i: int) -> tuple:
            row = rows[i]
            # the optimizer state after this epoch (the engine's now when it runs one epoch a chunk)
            return (int(row[0]), updates + (i + 1) * self.per_epoch, row[2:2 + self.P], states[i],
                    self.table.count - len(rows) + i + 1, self.opt_state(int(row[0])))

        if on_epoch is None:  # no checkpoints asked for: Ctrl-C may take the chunk's last epoch
            if len(rows):
                self.done = state(len(rows) - 1)
            if callback is not None:
                for row in rows:
                    callback(int(row[0]), float(row[1]))
            return
        for i, row in enumerate(rows):
            self.done = done = state(i)
            if callback is not None:
                callback(int(row[0]), float(row[1]))
            on_epoch(EpochEnd(done[0], float(row[1]), done[1], lambda s=done: self.checkpoint(s)))
