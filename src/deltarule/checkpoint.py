"""Checkpoints: the state of a training run after an epoch, enough to continue it exactly.

A checkpoint holds the parameters, the journal so far, the epoch and update counts, the
schedule and learning rate, the shuffle generator's ``bit_generator.state`` and a SHA-256
fingerprint of the training data. It is saved as JSON (no pickle), every float written with
``repr`` so that it reads back bit for bit, and written atomically (temporary file, fsync,
rename: :func:`deltarule.io.write_text`), so a killed process leaves the previous one whole.

    result = train(net, x, y, eta, Schedule(epochs=10), start=load_checkpoint("c.json"))

continues the run that wrote ``c.json`` exactly as if it had never stopped.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .network import Network
from .results import Journal
from .schedule import JOURNAL_LOSSES, METHODS, Schedule

FORMAT = "deltarule-checkpoint"
VERSION = 1
FIELDS = ("format", "version", "epoch", "updates", "learning_rate", "training", "journal_loss",
          "data_sha256", "rng_state", "model", "journal")


@dataclass(frozen=True)
class Checkpoint:
    """A training run after ``epoch`` epochs (``updates`` updates in all).

    ``network`` has the parameters at that moment, ``journal`` its rows so far,
    ``rng_state`` the shuffle generator's ``bit_generator.state`` (None without shuffle),
    ``data_sha256`` the fingerprint of the (x, y) it was trained on.
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

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as plain JSON data: format, version, epoch, updates, training, model, journal."""
        s = self.schedule
        return {"format": FORMAT, "version": VERSION, "epoch": self.epoch, "updates": self.updates,
                "learning_rate": float(self.learning_rate),
                "training": {"method": s.method, "batch_size": s.batch_size, "epochs": s.epochs,
                             "shuffle": s.shuffle, "seed": s.seed},
                "journal_loss": self.journal.loss_mode, "data_sha256": self.data_sha256,
                "rng_state": self.rng_state, "model": self.network.to_dict(),
                "journal": {"columns": list(self.journal.columns),
                            "rows": np.asarray(self.journal.rows, dtype=np.float64).tolist()}}

    def save(self, path: str | Path) -> None:
        """Write the checkpoint as JSON, atomically; floats are written with repr (exact)."""
        from .io import write_text

        try:
            write_text(path, json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":")) + "\n")
        except OSError as e:
            raise InputError(f"cannot write ({e.strerror})", "", str(path)) from None


def fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the training data (dtype, shape and bytes of x and y)."""
    h = hashlib.sha256()
    for a in (x, y):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by :meth:`Checkpoint.save`; refuse anything else (InputError)."""
    from .loader import read_document

    path = Path(path)
    try:
        if path.suffix.lower() != ".json":
            raise InputError("a checkpoint is a .json file", "")
        return from_dict(read_document(path))
    except InputError as e:
        raise e.in_file(str(path)) from None


def from_dict(doc: Any) -> Checkpoint:
    """The checkpoint in a parsed JSON document, validated field by field."""
    from .fields import boolean, choice, integer, mapping, matrix, number
    from .netfile import parse_network

    doc = mapping(doc, "", FIELDS)
    missing = [f for f in FIELDS if f not in doc]
    if missing:
        raise InputError(f"missing field {missing[0]!r}; is this a deltarule checkpoint?", "")
    if doc["format"] != FORMAT or doc["version"] != VERSION:
        raise InputError(f"expected {FORMAT} version {VERSION}, got {doc['format']!r} "
                         f"version {doc['version']!r}", "format")
    t = mapping(doc["training"], "training", ("method", "batch_size", "epochs", "shuffle", "seed"))
    batch_size = None if t.get("batch_size") is None else integer(t["batch_size"], "training.batch_size", 1)
    schedule = Schedule(choice(t.get("method"), "training.method", METHODS), batch_size,
                        integer(t.get("epochs"), "training.epochs", 1),
                        boolean(t.get("shuffle"), "training.shuffle"), integer(t.get("seed"), "training.seed", 0))
    if not isinstance(doc["model"], dict):
        raise InputError("expected the saved model (a mapping)", "model")
    try:
        network = parse_network(doc["model"])
    except InputError as e:
        raise InputError(e.message, f"model.{e.field}" if e.field else "model") from None
    j = mapping(doc["journal"], "journal", ("columns", "rows"))
    columns = j.get("columns")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InputError("expected a list of column names", "journal.columns")
    rows = matrix(j.get("rows"), "journal.rows", cols=len(columns)) if j.get("rows") else \
        np.empty((0, len(columns)))
    journal_loss = choice(doc["journal_loss"], "journal_loss", JOURNAL_LOSSES)
    rows.flags.writeable = False
    epoch = integer(doc["epoch"], "epoch", 0)
    if not isinstance(doc["data_sha256"], str):
        raise InputError("expected a hexadecimal digest", "data_sha256")
    return Checkpoint(network, epoch, integer(doc["updates"], "updates", 0),
                      Journal(tuple(columns), rows, journal_loss), schedule,
                      number(doc["learning_rate"], "learning_rate"),
                      _rng_state(doc["rng_state"], schedule), doc["data_sha256"])


def _rng_state(state: Any, schedule: Schedule) -> dict | None:
    if not schedule.shuffle:
        if state is not None:
            raise InputError("a shuffle state without training.shuffle", "rng_state")
        return None
    try:
        np.random.default_rng().bit_generator.state = state  # numpy validates it
    except (TypeError, ValueError, KeyError):
        raise InputError("not a valid PCG64 generator state", "rng_state") from None
    return state


class ResumeError(ValueError):
    """A checkpoint that does not belong to this network, data or schedule."""


def check_start(start: Checkpoint, network: Network, x: np.ndarray, y: np.ndarray, learning_rate: float,
                schedule: Schedule, journal_loss: str, columns: tuple[str, ...], engine: str = "") -> None:
    """Refuse (ResumeError) to resume from a checkpoint of another network, data, schedule or engine."""
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

    Each write holds the whole journal, so writing after every epoch of a long run would cost
    time quadratic in the epochs; ``interval`` (seconds) spaces the writes out in time as well.
    """

    def __init__(self, path: str | None, journal: str | None, every: int, total: int, interval: float = 0.0):
        self.path, self.journal, self.every, self.total, self.interval = path, journal, every, total, interval
        self.last = -math.inf

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
            checkpoint.save(self.path)


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
