"""The ``data:`` field of a problem: inline rows, or a CSV / NPZ file beside the problem.

Inline::

    data: {inputs: [[0.05, 0.10]], targets: [[0.50]]}   # one row per example
    data: {inputs: [3.5, 0.35], targets: [0.5, 0.5]}    # a flat list when the width is 1

From a file (resolved relative to the problem file)::

    data: {file: train.csv, targets: [label], one_hot: true}   # other columns are inputs
    data: {file: train.npz}                                    # arrays 'inputs' and 'targets'

``one_hot: true`` turns one integer label per example (0..K-1) into one-hot target rows.
"""
from __future__ import annotations

import array
import csv
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import examples
from .errors import InputError
from .fields import _kind, _plural, boolean, gib, mapping, matrix, number, vector
from .limits import MAX_CSV_BYTES, MAX_EXAMPLES_BYTES

if TYPE_CHECKING:  # a type only: data reads fields, it needs no network code
    from .network import Network

DATA_FIELDS = ("inputs", "targets", "file", "one_hot")


def _rows(v: Any, path: str, width: int, what: str) -> np.ndarray:
    """Rows of ``width`` numbers; a flat list is accepted when width is 1."""
    if isinstance(v, list) and v and width == 1 and not any(isinstance(r, list) for r in v):
        return vector(v, path).reshape(-1, 1)
    if isinstance(v, list) and v and not isinstance(v[0], list) and width != 1:
        raise InputError(f"expected rows of {width} numbers ({what}), one row per example, "
                         f"got a flat list", path)
    return matrix(v, path, cols=width)


def _one_hot(labels: np.ndarray, k: int, path: str) -> np.ndarray:
    if labels.ndim == 2:
        if labels.shape[1] != 1:
            raise InputError(f"one_hot needs one label per example, got rows of {labels.shape[1]}", path)
        labels = labels[:, 0]
    bad = (labels != np.round(labels)) | (labels < 0) | (labels >= k)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"one_hot labels must be whole numbers 0..{k - 1} (the output has {k} units), "
                         f"got {labels[i]:g} in example {i + 1}", path)
    return np.eye(k)[labels.astype(int)]


def check_targets(y: np.ndarray, network: Network, path: str) -> None:
    """Refuse targets (n, K) the network's loss cannot take: bce needs 0 <= y <= 1, cross_entropy
    probability rows (non-negative, each summing to 1)."""
    loss = network.loss.name
    if loss == "bce" and ((y < 0) | (y > 1)).any():
        i = int(np.argmax(((y < 0) | (y > 1)).any(axis=1)))
        bad = y[i][(y[i] < 0) | (y[i] > 1)][0]
        raise InputError(f"bce needs targets between 0 and 1, got {bad:g} in example {i + 1}", path)
    if loss == "cross_entropy":
        if (y < 0).any() or not np.allclose(y.sum(axis=1), 1.0, atol=1e-6):
            i = int(np.argmax((y < 0).any(axis=1) | ~np.isclose(y.sum(axis=1), 1.0, atol=1e-6)))
            raise InputError(f"cross_entropy needs probability rows (non-negative, summing to 1); "
                             f"row {i + 1} sums to {y[i].sum():g}", path)


def parse_data(spec: Any, network: Network, base_dir: Path) -> tuple[np.ndarray, np.ndarray, bool]:
    """(inputs (n, d), targets (n, K), one_hot) from the ``data:`` field."""
    spec = mapping(spec, "data", DATA_FIELDS)
    d, k = network.sizes[0], network.sizes[-1]
    one_hot = boolean(spec.get("one_hot", False), "data.one_hot")
    if "file" in spec:
        x, y = _from_file(spec, base_dir, d, k, one_hot)
    else:
        for f in ("inputs", "targets"):
            if f not in spec:
                raise InputError(f"missing field '{f}' (or give 'file')", "data")
        x = _rows(spec["inputs"], "data.inputs", d, f"the first layer takes {d} inputs")
        if one_hot:
            t = spec["targets"]
            labels = np.array([number(v, f"data.targets[{i}]") for i, v in enumerate(t)]) \
                if isinstance(t, list) else None
            if labels is None:
                raise InputError(f"expected a list of integer labels, got {_kind(t)}", "data.targets")
            y = _one_hot(labels, k, "data.targets")
        else:
            y = _rows(spec["targets"], "data.targets", k, f"the output layer has {k} units")
        if len(x) != len(y):
            raise InputError(f"{_plural(len(x), 'input row')} but {_plural(len(y), 'target row')}", "data.targets")
    check_targets(y, network, "data.targets")
    return x, y, one_hot


def _builtin_hint(name: str) -> str:
    """Where a built-in example's data file comes from, when that is the file missing."""
    if name.endswith((".csv", ".npz")):
        for example in examples.names():
            if name in examples.text(example):
                return f"; it comes with a built-in example: deltarule examples {example} --save DIR"
    return ""


def _from_file(spec: dict, base_dir: Path, d: int, k: int, one_hot: bool):
    name = spec["file"]
    if not isinstance(name, str) or not name:
        raise InputError(f"expected a file name, got {_kind(name)}", "data.file")
    path = (base_dir / name)
    if not path.is_file():
        raise InputError(f"no such data file ({path}){_builtin_hint(name)}", "data.file")
    suffix = path.suffix.lower()
    size = path.stat().st_size
    limit = MAX_CSV_BYTES if suffix == ".csv" else MAX_EXAMPLES_BYTES
    if size > limit:  # before reading a byte of it
        raise InputError(f"data file is {size / 2**30:.3g} GiB; the limit is {limit / 2**30:.0f} GiB"
                         + (" for CSV (up to 4 GiB as numbers; use .npz for more)" if suffix == ".csv" else ""),
                         "data.file")
    if suffix == ".npz":
        x, y = _read_npz(path)
    elif suffix == ".csv":
        x, y = _read_csv(path, spec, d)
    else:
        raise InputError("data files must be .csv or .npz", "data.file")
    where = str(path)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if one_hot:
        y = _one_hot(y.reshape(len(y), -1), k, "data.targets")
    elif y.ndim == 1:
        y = y.reshape(-1, 1)
    if x.shape[1] != d:
        raise InputError(f"{x.shape[1]} input columns, but the first layer takes {d} inputs", "inputs", where)
    if y.shape[1] != k:
        raise InputError(f"{y.shape[1]} target columns, but the output layer has {k} units", "targets", where)
    if len(x) != len(y) or len(x) == 0:
        raise InputError(f"{_plural(len(x), 'input row')} but {_plural(len(y), 'target row')}", "targets", where)
    return x, y


def _check_npz_size(z, name: str, file: str) -> None:
    """Refuse an array whose header declares more than MAX_EXAMPLES_BYTES (a zip bomb too)."""
    with z.zip.open(f"{name}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        shape, _, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)(fh)
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if count * 8 > MAX_EXAMPLES_BYTES:
        raise InputError(f"{' x '.join(map(str, shape))} numbers would need {gib(count * 8)} as float64; "
                         f"the limit is {MAX_EXAMPLES_BYTES / 2**30:.0f} GiB", name, file)


def _read_npz(path: Path):
    try:
        with np.load(path, allow_pickle=False) as z:  # no pickle, ever
            missing = [a for a in ("inputs", "targets") if a not in z.files]
            if missing:
                raise InputError(f"missing array '{missing[0]}' (has {', '.join(z.files) or 'none'})", "",
                                 str(path))
            for a in ("inputs", "targets"):  # the header's shape, before any array is read
                _check_npz_size(z, a, str(path))
            x, y = np.asarray(z["inputs"], dtype=np.float64), np.asarray(z["targets"], dtype=np.float64)
    except InputError:
        raise
    except (ValueError, OSError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(f"not a readable .npz file ({str(e)[:200]})", "", str(path)) from None
    for a, arr in (("inputs", x), ("targets", y)):
        if arr.ndim not in (1, 2) or not np.isfinite(arr).all():
            raise InputError("must be a 1-D or 2-D array of finite numbers", a, str(path))
    return x, y


def _csv_row(row: list[str], header: list[str], cols: list[int], line: int, file: str) -> list[float]:
    if len(row) != len(header):
        raise InputError(f"expected {len(header)} values, got {len(row)}", f"line {line}", file)
    out = []
    for j in cols:
        try:
            v = float(row[j])
        except ValueError:
            v = float("nan")
        if not np.isfinite(v):
            raise InputError(f"expected a finite number, got {row[j][:40]!r}",
                             f"line {line}, column {header[j]!r}", file)
        out.append(v)
    return out


def _read_csv(path: Path, spec: dict, d: int):
    file = str(path)
    targets = spec.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise InputError("expected a list of target column names, e.g. [label]", "data.targets")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            if not header:
                raise InputError("empty file (expected a header row)", "", file)
            for t in targets:
                if t not in header:
                    raise InputError(f"no column {t!r} (columns: {', '.join(header)})", "data.targets")
            inputs = spec.get("inputs") or [h for h in header if h not in targets]
            if not isinstance(inputs, list) or not all(isinstance(c, str) for c in inputs):
                raise InputError("with a file, expected a list of input column names, e.g. [x1, x2]",
                                 "data.inputs")
            for c in inputs:
                if c not in header:
                    raise InputError(f"no column {c!r} (columns: {', '.join(header)})", "data.inputs")
            cols = [header.index(c) for c in inputs] + [header.index(t) for t in targets]
            values = array.array("d")  # 8 bytes a number as it is read: no list of rows in memory
            for line, row in enumerate(reader, start=2):
                if not row:  # a blank line
                    continue
                values.extend(_csv_row(row, header, cols, line, file))
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"not a readable CSV file ({str(e)[:200]})", "", file) from None
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror})", "", file) from None
    table = np.frombuffer(values, dtype=np.float64).reshape(-1, len(cols))
    return table[:, :len(inputs)], table[:, len(inputs):]
