"""What training gives back: the journal, the result, and the two ways a run stops early.

Shared by the training driver, every engine, checkpoints and the commands, so that none of
them imports another for its types. :class:`Journal` (one row per epoch), :class:`TrainResult`,
:class:`Diverged` (NaN or inf; the last finite parameters), :class:`Interrupted` (Ctrl-C; the
last completed epoch's checkpoint), :class:`EpochEnd` (what ``on_epoch`` receives).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .checkpoint import Checkpoint
    from .network import Network

Array = np.ndarray
_PARAMETER = re.compile(r"^(W\d+\[\d+,\d+\]|b\d+\[\d+\]|w|b)$")  # deltarule.params' names


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
        """Write the journal as CSV, atomically (temporary file, then rename): ``epoch`` as an
        integer, every other number in the shortest form that reads back exactly (``repr(float)``:
        0.8304130864066092, not 0.83041308640660916)."""
        import csv

        from .io import atomic_write

        with atomic_write(path) as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(self.columns)
            for row in self.rows.tolist():  # Python floats: repr is the shortest exact decimal
                w.writerow([int(row[0]), *(repr(v) if v == v else "" for v in row[1:])])  # NaN: empty, as pandas

    def without_parameters(self) -> "Journal":
        """The journal without its parameter columns: ``epoch``, ``loss`` and the further columns
        (``train --journal-params none``; a 1,000-parameter network's metrics stay readable)."""
        keep = [j for j, c in enumerate(self.columns) if not _PARAMETER.match(c)]
        rows = self.rows[:, keep]
        rows.flags.writeable = False
        return Journal(tuple(self.columns[j] for j in keep), rows, self.loss_mode)

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
    the :class:`Journal` (one row per epoch), ``updates`` the number of gradient steps,
    ``stopped`` why early stopping ended the run (at which epoch; empty when it ran every epoch),
    ``kept_epoch`` the epoch whose parameters ``network`` holds when early stopping restored the
    best one (None: the last epoch's).
    """

    initial: Network
    network: Network
    journal: Journal
    updates: int
    stopped: str = ""
    kept_epoch: int | None = None


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
