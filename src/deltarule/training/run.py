"""``train``: pick the engine, hand it to the driver. The engines' arithmetic differs in the last
bits (summation order, fused multiply-adds in compiled code), so the choice is recorded in every
checkpoint and a resumed run takes the engine that wrote it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import fast
from ..checkpoint import Checkpoint, ResumeError
from ..limits import check_size
from ..network import Network
from ..optimization import Optimization
from ..regularization import penalty
from ..results import EpochEnd, TrainResult
from ..schedule import JOURNAL_LOSSES, Schedule
from .driver import Driver
from .loop import GenericRun
from .threads import policy

if TYPE_CHECKING:
    from ..early_stopping import EarlyStopping
    from ..optimizers import Optimizer
    from ..schedules import LearningRateSchedule

ENGINES = ("generic", "buffered", "scalar")
Array = np.ndarray


class FastRun:
    """A run of :mod:`deltarule.fast` (``_BufferedRun`` or ``_ScalarRun``) as a driver engine."""

    own_extras = False

    def __init__(self, name: str, network: Network, x: Array, y: Array, learning_rate, schedule, journal_loss,
                 optimization: Optimization = Optimization(), state: dict | None = None):
        self.name, self.net, self.x, self.y, self.l2 = name, network, x, y, optimization.l2
        lr = network.dtype.type(learning_rate)
        if name == "scalar":
            self.run = fast._ScalarRun(network, x, y, lr, schedule, journal_loss, optimization, state,
                                       base_lr=learning_rate)
        else:  # the base rate as given: the optimizer computes with it as the generic loop does
            self.run = fast._BufferedRun(network, x, y, lr, schedule, journal_loss, optimization, state,
                                         base_lr=learning_rate)

    @property
    def state(self) -> dict | None:
        """The optimizer state after the last update (a fresh copy), None for plain descent."""
        return getattr(self.run, "state", None)

    def state_at(self, epoch: int) -> dict | None:
        """The state after ``epoch`` of the last chunk (the compiled engine runs many a chunk)."""
        at = getattr(self.run, "state_at", None)
        return self.state if at is None else at(epoch)

    @property
    def updates(self) -> int:
        return self.run.updates

    @updates.setter
    def updates(self, value: int) -> None:
        self.run.updates = value

    def chunk_epochs(self) -> int:
        return self.run.chunk_epochs()

    def params(self) -> Array:
        return self.run.params()

    def initial(self):
        """Row 0 from the engine's own forward pass (buffered) or the generic one (scalar)."""
        from .. import losses

        p0 = self.net.parameters()
        if self.name == "buffered":  # the epoch journal's own pass
            loss0, a0 = self.run.journal_loss()
            return np.concatenate([[0, loss0], p0]), a0
        per0, a0 = fast.eval_outputs(self.net, self.x, self.y)
        loss0 = losses.reduce(per0, self.net.reduction) + penalty([lay.W for lay in self.net.layers], self.l2)
        return np.concatenate([[0, loss0], p0]), a0

    def epochs(self, e0: int, e1: int, orders):
        return self.run.epochs(e0, e1, orders)


def choose(network: Network, n: int, schedule: Schedule, journal_loss: str, engine: str | None,
           start: Checkpoint | None, optimization: Optimization = Optimization()) -> str:
    """The engine's name: the checkpoint's when resuming (ResumeError when this install lacks it),
    else ``engine`` when given, else :func:`deltarule.fast.engine_for`'s choice or ``generic``.
    An optimizer, rate schedule or L2 other than plain descent runs on the compiled engine where
    plain descent would and the optimizer has a float kernel (sgd), else on the buffered engine,
    unless ``generic`` is asked for or :func:`deltarule.fast.refusal` gives a reason."""
    if not optimization.plain:
        return _optimizing(network, n, schedule, journal_loss, engine, start, optimization)
    if start is not None and start.engine and engine is None:
        engine = start.engine
        if engine not in ENGINES:
            raise ResumeError(f"the checkpoint was written by the {engine} engine; resume it there")
        if engine == "scalar" and fast._numba() is None:
            raise ResumeError("the checkpoint was written by the compiled engine, which needs numba "
                              "(pip install numba): other engines differ from it in the last bits")
    if engine is None:
        return fast.engine_for(network, n, schedule, journal_loss) or "generic"
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine != "generic" and not fast._supported(network, journal_loss):
        return "generic"
    if engine == "scalar" and fast.mode_keeps_outputs(network, journal_loss):
        return "buffered"  # the compiled loop does not keep the outputs of the training passes
    return engine


def _optimizing(network: Network, n: int, schedule: Schedule, journal_loss: str, engine: str | None,
                start: Checkpoint | None, optimization: Optimization) -> str:
    """The engine of a run that is not plain descent: the checkpoint's unless ``engine`` is given,
    else generic when asked or refused by the buffered engine, else the compiled one where it would
    run plain descent and the optimizer has a float kernel (``Optimizer.scalar``), else buffered."""
    if start is not None and start.engine and engine is None:
        if start.engine == "scalar" and not _has_kernel(optimization):
            raise ResumeError("the checkpoint was written by the scalar engine, which runs plain "
                              "gradient descent and sgd only")
        if start.engine not in ENGINES:
            raise ResumeError(f"the checkpoint was written by the {start.engine} engine; resume it there")
        return start.engine
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "generic" or fast.refusal(network, journal_loss, optimization) is not None:
        return "generic"
    return "scalar" if _compiled(network, n, schedule, journal_loss, engine, optimization) else "buffered"


def _has_kernel(optimization: Optimization) -> bool:
    """True when the compiled loop has this optimizer's float kernel (plain SGD when none is set)."""
    return optimization.optimizer is None or type(optimization.optimizer).scalar is not None


def _compiled(network: Network, n: int, schedule: Schedule, journal_loss: str, engine: str | None,
              optimization: Optimization) -> bool:
    """An optimizing run goes on the compiled engine when asked, or where plain descent would,
    if the optimizer has a float kernel (the loop does not keep a classifier's batch outputs)."""
    if engine not in (None, "scalar") or not _has_kernel(optimization) or fast._numba() is None:
        return False
    wanted = engine or fast.engine_for(network, n, schedule, journal_loss)
    return wanted == "scalar" and not fast.mode_keeps_outputs(network, journal_loss)


def _optimization(optimizer, lr_schedule, l2) -> Optimization:
    """``train``'s optimizer=, lr_schedule=, l2= checked: registry objects (or None) and a finite λ >= 0;
    a ValueError naming the argument, not an AttributeError inside an engine or ascent on the penalty."""
    from .. import optimizers, schedules

    for name, v, kind in (("optimizer", optimizer, optimizers.Optimizer),
                          ("lr_schedule", lr_schedule, schedules.LearningRateSchedule)):
        if v is not None and not isinstance(v, kind):
            raise ValueError(f"{name} must be a {kind.__module__}.{kind.__name__} (e.g. {kind.__module__}."
                             f"get(name, ...)) or None, got {v!r}")
    lam = float(l2)
    if not lam >= 0 or lam == float("inf"):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return Optimization(optimizer, lr_schedule, lam)


def train(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(), *,
          journal_loss: str = "epoch", initial_row: bool = True,
          callback: Callable[[int, float], None] | None = None,
          start: Checkpoint | None = None, on_epoch: Callable[[EpochEnd], None] | None = None,
          validation: tuple[Any, Any] | None = None, engine: str | None = None,
          optimizer: Optimizer | None = None, lr_schedule: LearningRateSchedule | None = None,
          l2: float = 0.0, early_stopping: EarlyStopping | None = None,
          optimizer_state: dict | None = None) -> TrainResult:
    """Gradient descent on (x, y) following ``schedule``; returns a :class:`TrainResult`.

    ``journal_loss="epoch"`` (the contract) records the loss over all examples with the
    parameters at the end of each epoch; ``"running"`` records, as seed 000's table does,
    the loss of each batch right after its update, accumulated over the epoch and reduced
    over the n examples; ``"batch"`` each batch's loss before its update. ``callback(epoch, loss)``
    is called after every epoch, ``on_epoch(EpochEnd)`` too (to write checkpoints).
    ``start`` (a :class:`~deltarule.checkpoint.Checkpoint` of this network, data and schedule)
    continues a run exactly where it stopped: parameters, journal, update count and the
    shuffle generator's state; ``schedule.epochs`` is then the total.
    ``engine``: ``"generic"`` (the reference loop), ``"buffered"`` or ``"scalar"``
    (:mod:`deltarule.fast`); by default the fastest that applies, chosen from the problem and the
    whole schedule, never from the hooks, so a checkpointed run does a straight run's arithmetic;
    a resumed run takes the engine recorded in its checkpoint.
    ``optimizer`` (:mod:`deltarule.optimizers`; None: plain descent), ``lr_schedule``
    (:mod:`deltarule.schedules`, η_e per epoch; None: constant; the journal then gains a
    ``learning_rate`` column) and ``l2`` (λ: the loss gains (λ/2)·Σ‖W_l‖², dW_l gains λW_l) run
    :func:`deltarule.descent.descent_step`'s rule on the buffered engine (its in-place kernels,
    ``Optimizer.update_into``; the generic one when asked or when ``fast.refusal`` says why not);
    the defaults give plain
    gradient descent bit for bit. A checkpoint then carries the optimizer state.
    ``early_stopping`` (:class:`~deltarule.early_stopping.EarlyStopping`, needs ``validation``)
    stops on the validation loss; the result's ``stopped`` says at which epoch and why.
    ``optimizer_state`` (``{"vW1": ..., "t": ...}`` as a checkpoint's ``state``): the optimizer's
    state to start from instead of zeros, to continue on other data (scikit-learn's ``partial_fit``).
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
    x = np.ascontiguousarray(x, dtype=network.dtype)
    y = np.ascontiguousarray(y, dtype=network.dtype)
    check_size(network, len(x), schedule, "epochs")  # 10**12 epochs: refused, not a 146 TiB journal
    optimization = _optimization(optimizer, lr_schedule, l2)
    name = choose(network, len(x), schedule, journal_loss, engine, start, optimization)

    def make(first: Network, state: dict | None = optimizer_state):
        if name == "generic":
            return GenericRun(first, x, y, learning_rate, schedule, journal_loss, optimization, state)
        return FastRun(name, first, x, y, learning_rate, schedule, journal_loss, optimization, state)

    driver = Driver(network, x, y, learning_rate, schedule, journal_loss, validation, make, name, start,
                    optimization, early_stopping)
    with policy(network.sizes, schedule.size(len(x)), len(x)):  # small products on one BLAS thread
        if start is None and initial_row:
            driver.initial_row()
        return driver.run(callback, on_epoch)


def generic(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(),
            **kwargs) -> TrainResult:
    """:func:`train` on the generic loop: the reference the fast engines are tested against, and
    the fallback for what they do not support. Same arguments, same result, to rounding."""
    return train(network, x, y, learning_rate, schedule, engine="generic", **kwargs)
