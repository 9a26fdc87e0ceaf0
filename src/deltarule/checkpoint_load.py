"""Reading a checkpoint (:mod:`deltarule.checkpoint`), validated as strictly as a problem file.

Field by field (every field known, every value of its type and range), then for consistency:
the ``sha256`` seal over the header (any edit of the file), the journal file against its digest,
one journal row per epoch numbered 0 (or 1) .. epoch, the update count equal to epochs x batches
per epoch, a learning rate > 0 and finite, the model's parameters equal to the journal's last row.
Every refusal is an :class:`~deltarule.errors.InputError` naming the file and the field.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint_state as _state
from .checkpoint import ENGINE_NAMES, FORMAT, JOURNAL_DTYPE, VERSION, Checkpoint, canonical
from .errors import InputError
from .fields import boolean, choice, integer, mapping, number
from .loader import read_document
from .metrics import extra_columns
from .netfile import parse_network
from .network import Network
from .reader import open_regular
from .results import Journal
from .schedule import JOURNAL_LOSSES, METHODS, Schedule

REQUIRED = ("format", "version", "epoch", "updates", "examples", "learning_rate", "training", "journal_loss",
            "data_sha256", "rng_state", "engine", "model", "journal", "sha256")
FIELDS = REQUIRED + _state.FIELDS  # the optimizer's: only in a checkpoint of a run that is not plain
MODEL_FIELDS = ("layers", "loss", "reduction", "dtype")
MODEL_LAYER_FIELDS = ("weights", "biases", "activation", "train_weights", "train_biases")
HEX64 = re.compile(r"[0-9a-f]{64}")


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by :meth:`Checkpoint.save`; refuse anything else (InputError)."""
    path = Path(path)
    try:
        if path.suffix.lower() != ".json":
            raise InputError("a checkpoint is a .json file", "")
        return from_document(read_document(path), path.parent)
    except InputError as e:
        raise e.in_file(str(path)) from None


def from_document(doc: Any, folder: Path) -> Checkpoint:
    """The checkpoint in a parsed header (its journal file in ``folder``), validated."""
    if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("version", VERSION) != VERSION:
        raise InputError(f"expected version {VERSION}, got {doc.get('version')!r} (a checkpoint of another "
                         f"deltarule version: start the run again)", "version")
    doc = mapping(doc, "", FIELDS)
    missing = [f for f in REQUIRED if f not in doc]
    if missing:
        raise InputError(f"missing field {missing[0]!r}; is this a deltarule checkpoint?", "")
    if doc["format"] != FORMAT:
        raise InputError(f"expected {FORMAT!r}, got {doc['format']!r}", "format")
    _check_seal(doc)
    schedule, network = _schedule(doc["training"]), _model(doc["model"])
    settings, state, rate_column = _state.read(doc, network)
    journal = _journal(doc["journal"], doc["journal_loss"], network, folder, rate_column)
    checkpoint = Checkpoint(network, integer(doc["epoch"], "epoch", 0), integer(doc["updates"], "updates", 0),
                            journal, schedule, number(doc["learning_rate"], "learning_rate"),
                            _rng_state(doc["rng_state"], schedule), _digest(doc["data_sha256"], "data_sha256"),
                            _engine(doc["engine"]), integer(doc["examples"], "examples", 1), settings, state)
    _consistent(checkpoint)
    _state.check_steps(state, checkpoint.updates)
    return checkpoint


def _check_seal(doc: dict) -> None:
    """The header's ``sha256`` is the digest of the rest of it: else the file was edited."""
    body = {k: v for k, v in doc.items() if k != "sha256"}
    try:
        text = canonical(body)
    except ValueError:  # a number JSON cannot write back (1e999 read as inf)
        raise InputError("a number in the checkpoint is not finite", "") from None
    if not isinstance(doc["sha256"], str) or hashlib.sha256(text.encode()).hexdigest() != doc["sha256"]:
        raise InputError("does not match the checkpoint's contents: the file was edited or damaged", "sha256")


def _digest(v: Any, field: str) -> str:
    if not isinstance(v, str) or not HEX64.fullmatch(v):
        raise InputError("expected a SHA-256 digest (64 lowercase hexadecimal digits)", field)
    return v


def _engine(v: Any) -> str:
    """The engine that wrote the checkpoint ("" when none was recorded: any may resume it)."""
    return "" if v == "" else choice(v, "engine", ENGINE_NAMES)


def _schedule(t: Any) -> Schedule:
    t = mapping(t, "training", ("method", "batch_size", "epochs", "shuffle", "seed"))
    for f in ("method", "batch_size", "epochs", "shuffle", "seed"):
        if f not in t:
            raise InputError("missing", f"training.{f}")
    method = choice(t["method"], "training.method", METHODS)
    batch_size = None if t["batch_size"] is None else integer(t["batch_size"], "training.batch_size", 1)
    if method == "minibatch" and batch_size is None:
        raise InputError("minibatch needs a batch size", "training.batch_size")
    return Schedule(method, batch_size, integer(t["epochs"], "training.epochs", 1),
                    boolean(t["shuffle"], "training.shuffle"), integer(t["seed"], "training.seed", 0))


def _model(model: Any) -> Network:
    """The saved model: only the fields a saved model has, every layer's weights and biases given."""
    model = mapping(model, "model", MODEL_FIELDS)
    try:
        layers = model.get("layers")
        for l, layer in enumerate(layers if isinstance(layers, list) else []):  # else parse_network says
            layer = mapping(layer, f"layers[{l + 1}]", MODEL_LAYER_FIELDS)
            for f in ("weights", "biases", "activation"):
                if f not in layer:
                    raise InputError("missing in a saved model", f"layers[{l + 1}].{f}")
        return parse_network(model)
    except InputError as e:
        raise InputError(e.message, f"model.{e.field}" if e.field else "model") from None


def _journal(j: Any, mode: Any, network: Network, folder: Path, rate_column: bool = False) -> Journal:
    """The journal: epoch, loss, the model's parameters and its extra columns; the rows from its file."""
    fields = ("extra_columns", "rows", "file", "sha256")
    j = mapping(j, "journal", fields)
    for f in fields:
        if f not in j:
            raise InputError("missing", f"journal.{f}")
    extras, rows = j["extra_columns"], integer(j["rows"], "journal.rows", 0)
    rate = ["learning_rate"] if rate_column else []  # a run with a learning-rate schedule
    allowed = (list(extra_columns(network)) + rate, list(extra_columns(network, True)) + rate)
    if extras not in allowed:
        raise InputError(f"expected {' or '.join(repr(a) for a in allowed)} for this model", "journal.extra_columns")
    columns = ("epoch", "loss", *network.parameter_names(), *extras)
    table = _rows(folder, j["file"], rows, len(columns), _digest(j["sha256"], "journal.sha256"))
    return Journal(tuple(columns), table, choice(mode, "journal_loss", JOURNAL_LOSSES))


def _rows(folder: Path, name: Any, count: int, width: int, digest: str) -> np.ndarray:
    """The first ``count`` rows of the journal file ``name`` beside the header, checked against ``digest``."""
    if not isinstance(name, str) or not name.endswith(".journal") or os.sep in name or "/" in name or \
            name.startswith("."):
        raise InputError("expected the name of the journal file beside the checkpoint", "journal.file")
    need = count * width * JOURNAL_DTYPE.itemsize
    try:
        with open_regular(folder / name) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < need:
                raise InputError(f"{name} holds {size // max(width * 8, 1)} rows, the header counts {count}",
                                 "journal.rows")
            data = fh.read(need)
    except InputError as e:
        if e.field:
            raise
        missing = " (copy it with the checkpoint)" if e.message == "no such file" else ""
        raise InputError(f"the journal file {name}: {e.message}{missing}", "journal.file") from None
    except OSError as e:
        raise InputError(f"cannot read {name} ({e.strerror})", "journal.file") from None
    if len(data) != need or hashlib.sha256(data).hexdigest() != digest:
        raise InputError(f"the rows of {name} do not match the checkpoint's digest", "journal.sha256")
    rows = np.frombuffer(data, JOURNAL_DTYPE).reshape(count, width).astype(np.float64)
    if not np.isfinite(rows).all():
        raise InputError("a journal row is not finite", "journal.rows")
    rows.flags.writeable = False
    return rows


def _rng_state(state: Any, schedule: Schedule) -> dict | None:
    if not schedule.shuffle:
        if state is not None:
            raise InputError("a shuffle state without training.shuffle", "rng_state")
        return None
    mapping(state, "rng_state", ("bit_generator", "state", "has_uint32", "uinteger"))
    try:
        np.random.default_rng().bit_generator.state = state  # numpy validates it
    except (TypeError, ValueError, KeyError, OverflowError, AttributeError):
        raise InputError("not a valid PCG64 generator state", "rng_state") from None
    return state


def _consistent(c: Checkpoint) -> None:
    """Epoch against the schedule and the journal, updates against epochs x batches, the learning
    rate, and the model against the journal's last row."""
    if not (math.isfinite(c.learning_rate) and c.learning_rate > 0):
        raise InputError(f"must be a finite number > 0, got {c.learning_rate!r}", "learning_rate")
    if c.epoch > c.schedule.epochs:
        raise InputError(f"epoch {c.epoch} is past training.epochs {c.schedule.epochs}", "epoch")
    epochs = c.journal.rows[:, 0]
    first = 0 if len(epochs) == c.epoch + 1 else 1
    if len(epochs) - 1 + first != c.epoch or not np.array_equal(epochs, np.arange(first, c.epoch + 1)):
        raise InputError(f"expected one row per epoch up to epoch {c.epoch} (and the start), "
                         f"got {len(epochs)} rows", "journal.rows")
    per_epoch = -(-c.examples // c.schedule.size(c.examples))
    if c.updates != c.epoch * per_epoch:
        raise InputError(f"{c.updates} updates for {c.epoch} epochs of {per_epoch} batches "
                         f"(expected {c.epoch * per_epoch})", "updates")
    P = c.network.parameters().size
    if len(epochs) and not np.array_equal(c.journal.rows[-1, 2:2 + P], c.network.parameters()):
        raise InputError(f"the parameters differ from the journal's row of epoch {c.epoch}", "model")
