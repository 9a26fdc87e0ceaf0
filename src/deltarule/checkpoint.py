"""Checkpoints: the state of a training run after an epoch, enough to continue it exactly.

A checkpoint is two files, neither of them pickle:

* ``PATH`` (``run.json``), a JSON header: epoch and update counts, the number of examples, the
  schedule and learning rate, the shuffle generator's ``bit_generator.state``, the engine that
  wrote it, a SHA-256 fingerprint of the training data, the model (every float written with
  ``repr``, so it reads back bit for bit), the journal's row count, file name, SHA-256 and its
  columns after epoch, loss and the parameters (accuracy, val_loss, ...), and ``sha256``: the SHA-256 of the rest of the header (sorted keys, no spaces), which
  covers the journal through its digest, so any edit is detected.
* ``PATH.<8 hex>.journal`` beside it: the journal rows, raw little-endian float64, row after row.
  A run's saver writes it whole once, then appends only the new rows at each save (the header is
  rewritten; the journal never is), so a save costs the rows since the last one, not the whole
  journal (one row of a 784-256-10 network is 1.6 MB). Rows past the header's count (a save
  killed between the two writes) are ignored on reading.

The header is written atomically after the rows it counts (temporary file, fsync, rename:
:func:`deltarule.io.write_text`); a new journal file gets a new name and the old one is removed
only once no header names it; so a killed process leaves the previous checkpoint whole.
Reading and validating a checkpoint is :func:`deltarule.checkpoint_load.load_checkpoint`.

    result = train(net, x, y, eta, Schedule(epochs=10), start=load_checkpoint("c.json"))

continues the run that wrote ``c.json`` exactly as if it had never stopped (on the engine that
wrote it: engines differ in the last bits).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .io import write_bytes, write_text
from .network import Network
from .results import Journal
from .schedule import Schedule

FORMAT = "deltarule-checkpoint"
VERSION = 2
ENGINE_NAMES = ("generic", "buffered", "scalar", "torch")
JOURNAL_DTYPE = np.dtype("<f8")


@dataclass(frozen=True)
class Checkpoint:
    """A training run after ``epoch`` epochs (``updates`` updates in all).

    ``network`` has the parameters at that moment, ``journal`` its rows so far,
    ``rng_state`` the shuffle generator's ``bit_generator.state`` (None without shuffle),
    ``data_sha256`` the fingerprint of the (x, y) it was trained on, ``examples`` their number,
    ``engine`` the engine that ran it (``generic``, ``buffered``, ``scalar``, ``torch``).
    ``optimization`` the problem-file settings of a run that is not plain descent
    (``{"optimizer": {...}, "learning_rate_schedule": {...}, "regularization": {...}}``, empty when
    plain) and ``state`` its optimizer state after that epoch (``{"vW1": array, ..., "t": int}``,
    None when plain): the header then holds both, under ``optimization`` and ``optimizer_state``.
    """

    network: Network
    epoch: int
    updates: int
    journal: Journal
    schedule: Schedule
    learning_rate: float
    rng_state: dict | None = None
    data_sha256: str = ""
    engine: str = ""
    examples: int = 0
    optimization: dict | None = None
    state: dict | None = None

    def header(self, journal_file: str, journal_sha256: str) -> dict[str, Any]:
        """The JSON header (without its ``sha256``) for a journal written to ``journal_file``."""
        s = self.schedule
        return {"format": FORMAT, "version": VERSION, "epoch": self.epoch, "updates": self.updates,
                "examples": self.examples, "learning_rate": float(self.learning_rate),
                "training": {"method": s.method, "batch_size": s.batch_size, "epochs": s.epochs,
                             "shuffle": s.shuffle, "seed": s.seed},
                "journal_loss": self.journal.loss_mode, "data_sha256": self.data_sha256,
                "rng_state": self.rng_state, "engine": self.engine, "model": self.network.to_dict(),
                "journal": {"extra_columns": list(self.journal.columns[2 + self.network.parameters().size:]),
                            "rows": len(self.journal), "file": journal_file, "sha256": journal_sha256},
                **self.optimizer_fields()}

    def optimizer_fields(self) -> dict[str, Any]:
        """The optimizer's header fields (none for plain descent, whose header is as before)."""
        if not self.optimization and self.state is None:
            return {}
        state = {k: (int(v) if k == "t" else np.asarray(v).tolist()) for k, v in (self.state or {"t": 0}).items()}
        return {"optimization": self.optimization or {}, "optimizer_state": state}

    def save(self, path: str | Path, journal: "JournalFile | None" = None) -> None:
        """Write the checkpoint: the journal rows (appended to ``journal`` when given, the file a
        :class:`Saver` keeps for its run), then the header atomically; an OSError is an InputError."""
        journal = journal or JournalFile(path)
        fresh = journal.name is None
        try:
            name, digest = journal.write(self.journal.rows)
            write_text(path, seal(self.header(name, digest)))
        except OSError as e:
            raise InputError(f"cannot write ({e.strerror})", "", str(e.filename or path)) from None
        if fresh:
            journal.clean()


def seal(header: dict) -> str:
    """The header as JSON text with its ``sha256``: the digest of the header's canonical form
    (sorted keys, no spaces, floats by repr), which :func:`unsealed` recomputes on reading."""
    text = canonical(header)
    return text[:-1] + f',"sha256":"{hashlib.sha256(text.encode()).hexdigest()}"}}\n'


def canonical(header: dict) -> str:
    """Sorted keys, no spaces, floats by repr: the same text for the same header, however read."""
    return json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False)


class JournalFile:
    """The journal file of a checkpoint at ``path``: ``PATH.<8 hex>.journal``, written whole the
    first time (under a new name), then appended to; ``write`` returns (name, SHA-256 of the rows)."""

    def __init__(self, path: str | Path):
        self.path, self.name, self.count, self.hash = Path(path), None, 0, hashlib.sha256()

    def write(self, rows: np.ndarray) -> tuple[str, str]:
        """Write ``rows`` (the whole journal so far): only those past the last write, unless this is
        the first write or the journal got shorter (then a new file). Returns (file name, SHA-256)."""
        rows = np.ascontiguousarray(rows, JOURNAL_DTYPE)
        if self.name is None or len(rows) < self.count:
            name, data = f"{self.path.name}.{secrets.token_hex(4)}.journal", rows.tobytes()
            write_bytes(self.path.parent / name, data)
            self.name, self.count, self.hash = name, len(rows), hashlib.sha256(data)
        elif len(rows) > self.count:  # only the new rows: past the header's count, never over it
            data = rows[self.count:].tobytes()
            with open(self.path.parent / self.name, "r+b") as fh:
                fh.seek(self.count * rows.shape[1] * JOURNAL_DTYPE.itemsize)
                fh.write(data)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            self.count = len(rows)
            self.hash.update(data)
        return self.name, self.hash.hexdigest()

    def clean(self) -> None:
        """Remove this checkpoint's other journal files (left by earlier runs or killed ones)."""
        pattern = re.compile(re.escape(self.path.name) + r"\.[0-9a-f]{8}\.journal")
        try:
            names = os.listdir(self.path.parent)
        except OSError:
            return
        for name in names:
            if name != self.name and pattern.fullmatch(name):
                try:
                    os.unlink(self.path.parent / name)
                except OSError:
                    pass  # another process's, or gone: nothing depends on it


def fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the training data (dtype, shape and bytes of x and y)."""
    h = hashlib.sha256()
    for a in (x, y):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


class ResumeError(ValueError):
    """A checkpoint that does not belong to this network, data or schedule."""


def check_start(start: Checkpoint, network: Network, x: np.ndarray, y: np.ndarray, learning_rate: float,
                schedule: Schedule, journal_loss: str, columns: tuple[str, ...], engine: str = "",
                optimization: dict | None = None) -> None:
    """Refuse (ResumeError) to resume from a checkpoint of another network, data, schedule, engine
    or optimization (``optimization``: the run's settings, as :meth:`Optimization.settings`)."""
    if (start.optimization or {}) != (optimization or {}):
        raise ResumeError(f"the checkpoint was trained with {start.optimization or 'plain gradient descent'}, "
                          f"not {optimization or 'plain gradient descent'}")
    theirs, ours = start.network, network
    if _shape(theirs) != _shape(ours):
        raise ResumeError(f"the checkpoint is of another network: {theirs!r} ({theirs.dtype}), "
                         f"not {ours!r} ({ours.dtype})")
    if start.data_sha256 != fingerprint(x, y):
        raise ResumeError("the checkpoint was trained on other data")
    a, b, n = start.schedule, schedule, len(x)
    if (a.method, a.size(n), a.shuffle, a.seed if a.shuffle else 0) != \
            (b.method, b.size(n), b.shuffle, b.seed if b.shuffle else 0):
        raise ResumeError(f"the checkpoint was trained with {describe(a)}, not {describe(b)}")
    if start.learning_rate != learning_rate:
        raise ResumeError(f"the checkpoint was trained with learning rate {start.learning_rate!r}, "
                         f"not {learning_rate!r}")
    _check_run(start, schedule, journal_loss, columns, engine)


def _shape(net: Network) -> tuple:
    return net.sizes, net.loss.name, net.reduction, net.dtype, [lay.activation.name for lay in net.layers]


def _check_run(start: Checkpoint, schedule: Schedule, journal_loss: str, columns: tuple[str, ...],
               engine: str) -> None:
    """The journal, the epochs, the shuffle state and the engine of a resumed run."""
    if start.journal.loss_mode != journal_loss or tuple(start.journal.columns) != tuple(columns):
        raise ResumeError(f"the checkpoint's journal ({start.journal.loss_mode} loss, "
                         f"{len(start.journal.columns)} columns) is not this run's "
                         f"({journal_loss} loss, {len(columns)} columns)")
    if start.epoch > schedule.epochs:
        raise ResumeError(f"the checkpoint is already at epoch {start.epoch}, past the {schedule.epochs} "
                         f"epochs asked for")
    if schedule.shuffle and start.rng_state is None:
        raise ResumeError("the checkpoint has no shuffle state")
    if start.engine and engine and start.engine != engine:
        raise ResumeError(f"the checkpoint was written by the {start.engine} engine, not the {engine} one "
                          f"(engines differ in the last bits: resume on the engine that wrote it)")


def describe(s: Schedule) -> str:
    """The schedule in words: ``minibatch of 2, shuffled (seed 1)``."""
    size = f" of {s.batch_size}" if s.method == "minibatch" else ""
    order = f", shuffled (seed {s.seed})" if s.shuffle else ", in file order"
    return f"{s.method}{size}{order}"


# -- the command line's side: when to write, and what to say on Ctrl-C ---------------------------
class Saver:
    """``on_epoch`` for ``deltarule train``: after every ``every`` epochs, and after the last,
    the journal CSV (when ``journal``) and then the checkpoint (when ``path``), each atomically.
    So the journal on disk always holds exactly one row per completed epoch.

    A checkpoint appends only the new journal rows, but the CSV holds the whole journal, so writing
    it after every epoch of a long run would cost time quadratic in the epochs; ``interval``
    (seconds) spaces the writes out in time as well.
    """

    def __init__(self, path: str | None, journal: str | None, every: int, total: int, interval: float = 0.0):
        self.path, self.journal, self.every, self.total, self.interval = path, journal, every, total, interval
        self.last = -math.inf
        self.file = JournalFile(path) if path else None  # the run's journal file, appended to

    def __call__(self, end) -> None:
        if end.epoch != self.total and (end.epoch % self.every or time.monotonic() - self.last < self.interval):
            return
        self.write(end.checkpoint())
        self.last = time.monotonic()

    def write(self, checkpoint: Checkpoint) -> None:
        """Write the journal CSV (when ``journal``), then the checkpoint (when ``path``): wherever
        a checkpoint is, its journal is too, at most one write ahead."""
        if self.journal:
            write_journal(checkpoint.journal, self.journal)
        if self.path:
            checkpoint.save(self.path, self.file)


def write_journal(journal: Journal, path: str) -> None:
    """``journal.to_csv(path)`` (atomic), an unwritable path reported as an InputError."""
    try:
        journal.to_csv(path)
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", "", path) from None


def save_on_interrupt(saver: Saver, checkpoint: Checkpoint) -> None:
    """Write what a Ctrl-C leaves, with further Ctrl-C ignored until it is written."""
    import signal

    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be changed here
        previous = None
    try:
        saver.write(checkpoint)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
