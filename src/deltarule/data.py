"""The ``data:`` field of a problem: inline rows, or a CSV / NPZ file beside the problem.

Inline::

    data: {inputs: [[0.05, 0.10]], targets: [[0.50]]}   # one row per example
    data: {inputs: [3.5, 0.35], targets: [0.5, 0.5]}    # a flat list when the width is 1

From a file (resolved relative to the problem file)::

    data: {file: train.csv, targets: [label], one_hot: true}   # other columns are inputs
    data: {file: train.npz}                                    # arrays 'inputs' and 'targets'

A target column of text (``setosa``, ``versicolor``, ...) is class labels: one-hot without ``one_hot: true``,
the classes in sorted order (or in the order of the file's ``classes:`` list), kept in a saved model.
A numeric target column is class labels (one whole number per example) with ``one_hot: true``, with
``classes:``, or when the output has several units and the data gives one target column: labels
0..K-1 (0/1 for one sigmoid output) are the output units themselves, as they always were; other
whole numbers (1, 2, 3; -1 and 1; 10 and 20) are class names, sorted by value, kept as ``classes``
(:func:`integer_labels`).
"""
from __future__ import annotations

import array
import csv
import io
import math
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from . import examples
from .errors import InputError
from .fields import _kind, _plural, boolean, gib, mapping, matrix, number, plain, vector
from .limits import MAX_CSV_BYTES, MAX_EXAMPLES_BYTES
from .reader import limit_stream, open_regular

if TYPE_CHECKING:  # a type only: data reads fields, it needs no network code
    from .network import Network

DATA_FIELDS = ("inputs", "targets", "file", "one_hot")


def _rows(v: Any, path: str, width: int, what: str) -> np.ndarray:
    """Rows of ``width`` numbers; a flat list is accepted when width is 1 (numpy arrays as lists)."""
    v = plain(v)
    if isinstance(v, list):
        v = [plain(r) for r in v]
    if isinstance(v, list) and v and width == 1 and not any(isinstance(r, list) for r in v):
        return vector(v, path).reshape(-1, 1)
    if isinstance(v, list) and v and not isinstance(v[0], list) and width != 1:
        raise InputError(f"expected rows of {width} numbers ({what}), one row per example, "
                         f"got a flat list", path)
    return matrix(v, path, cols=width)


def integer_labels(labels: np.ndarray, k: int, classes: list[str] | None, path: str,
                   file: str = "") -> tuple[np.ndarray, list[str] | None]:
    """(targets (n, k), class names or None) from one whole-number label per example.

    Labels that ``classes`` names (as text: ``-1``, ``10``) are those classes; else labels 0..k-1
    (0 and 1 for one sigmoid output) are the output units themselves, as before (no names); any
    other whole numbers (1, 2, 3; -1 and 1; 10 and 20) are class names, sorted by value.
    """
    labels = _whole_numbers(labels, path, file)
    names = [f"{v:.0f}" for v in labels.tolist()]
    if classes and set(names) <= set(classes):
        return encode_labels(names, k, classes, path, file)
    units = max(k, 2)  # one sigmoid output: classes 0 and 1
    if ((labels >= 0) & (labels < units)).all():
        return (labels.reshape(-1, 1) if k == 1 else np.eye(k)[labels.astype(int)]), None
    found = [f"{v:.0f}" for v in sorted(set(labels.tolist()))]
    if classes:
        unknown = next(c for c in found if c not in classes)
        raise InputError(f"label {unknown[:40]!r} is not one of the classes ({', '.join(classes)[:200]})", path, file)
    if len(found) != k and not (k == 1 and len(found) == 2):
        raise InputError(f"labels {', '.join(found)[:200]} are {len(found)} classes, but the output layer has {k} "
                         f"unit{'s' if k != 1 else ''} (labels 0..{units - 1} name the units themselves; other "
                         f"whole numbers are class names)", path, file)
    return encode_labels(names, k, found, path, file)


def _whole_numbers(labels: np.ndarray, path: str, file: str) -> np.ndarray:
    """One whole number per example, (n,) from (n,) or (n, 1); anything else refused in one line."""
    if labels.ndim == 2:
        if labels.shape[1] != 1:
            raise InputError(f"class labels need one label per example, got rows of {labels.shape[1]}", path, file)
        labels = labels[:, 0]
    bad = labels != np.round(labels)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"class labels must be whole numbers, got {labels[i]:g} in example {i + 1}", path, file)
    return labels


def _labels_wanted(y: np.ndarray, k: int, one_hot: bool, classes: list[str] | None) -> bool:
    """Whether numeric targets are class labels: ``one_hot: true``; or one target column of whole numbers
    where the output has several units; or one column with ``classes:`` given, outside 0..1 (one sigmoid
    output). Anything else is targets as they stand (and a column too few is refused as such)."""
    if one_hot:
        return True
    column = y.ndim == 1 or y.shape[1] == 1
    if not column:
        return False
    if k > 1:
        return bool(classes) or bool((y == np.round(y)).all())
    return bool(classes) and bool(((y < 0) | (y > 1)).any())


def check_targets(y: np.ndarray, network: Network, path: str) -> None:
    """Refuse targets (n, K) the network's loss cannot take (``Loss.targets``): ``unit`` needs
    0 <= y <= 1 (bce), ``distribution`` probability rows, non-negative, each summing to 1
    (cross_entropy)."""
    loss = network.loss
    if loss.targets == "unit" and ((y < 0) | (y > 1)).any():
        i = int(np.argmax(((y < 0) | (y > 1)).any(axis=1)))
        bad = y[i][(y[i] < 0) | (y[i] > 1)][0]
        hint = " (whole numbers are class labels with one_hot: true)" if (y == np.round(y)).all() else ""
        raise InputError(f"{loss.name} needs targets between 0 and 1, got {bad:g} in example {i + 1}{hint}", path)
    if loss.targets == "distribution":
        if (y < 0).any() or not np.allclose(y.sum(axis=1), 1.0, atol=1e-6):
            i = int(np.argmax((y < 0).any(axis=1) | ~np.isclose(y.sum(axis=1), 1.0, atol=1e-6)))
            raise InputError(f"{loss.name} needs probability rows (non-negative, summing to 1); "
                             f"row {i + 1} sums to {y[i].sum():g}", path)


def parse_data(spec: Any, network: Network, base_dir: Path, allow_outside: bool = False,
               classes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, bool, dict]:
    """(inputs (n, d), targets (n, K), one_hot, info) from the ``data:`` field (a file in ``base_dir``,
    or below it, unless ``allow_outside``: see :func:`data_path`). Text labels in the targets imply
    one-hot (:func:`encode_labels`); ``info`` holds ``classes`` (the label names, or None) and a
    CSV's ``inputs`` and ``targets`` column names (None for other data)."""
    spec = mapping(spec, "data", DATA_FIELDS)
    d, k = network.sizes[0], network.sizes[-1]
    one_hot = boolean(spec.get("one_hot", False), "data.one_hot")
    info: dict = {"classes": None, "inputs": None, "targets": None}
    if "file" in spec:
        x, y = _from_file(spec, base_dir, d, k, one_hot, allow_outside, info, classes)
    else:
        for f in ("inputs", "targets"):
            if f not in spec:
                raise InputError(f"missing field '{f}' (or give 'file')", "data")
        x = _rows(spec["inputs"], "data.inputs", d, f"the first layer takes {d} inputs")
        y, one_hot = _inline_targets(spec["targets"], k, one_hot, classes, info)
        if len(x) != len(y):
            raise InputError(f"{_plural(len(x), 'input row')} but {_plural(len(y), 'target row')}", "data.targets")
    check_targets(y, network, "data.targets")
    return x, y, one_hot, info


def _inline_targets(t: Any, k: int, one_hot: bool, classes: list[str] | None, info: dict) -> tuple:
    """(targets (n, k), one_hot) from inline ``targets``: text labels, whole-number labels
    (:func:`_labels_wanted`: a flat list of numbers), or rows of k numbers."""
    t = plain(t)
    if isinstance(t, list) and t and all(isinstance(v, str) for v in t):
        y, info["classes"] = encode_labels(t, k, classes, "data.targets")
        return y, True
    flat = isinstance(t, list) and bool(t) and (one_hot or not any(isinstance(plain(v), list) for v in t))
    if one_hot and not flat:
        raise InputError(f"expected a list of integer labels, got {_kind(t)}", "data.targets")
    if flat:
        labels = np.array([number(v, f"data.targets[{i}]") for i, v in enumerate(t, start=1)])
        if _labels_wanted(labels, k, one_hot, classes):
            y, names = integer_labels(labels, k, classes, "data.targets")
            info["classes"] = names or info.get("classes")
            return y, True
    return _rows(t, "data.targets", k, f"the output layer has {k} units"), one_hot


def _builtin_hint(name: str) -> str:
    """Where a built-in example's data file comes from, when that is the file missing."""
    if name.endswith((".csv", ".npz")):
        for example in examples.names():
            if name in examples.text(example):
                return f"; it comes with a built-in example: deltarule examples {example} --save DIR"
    return ""


def data_path(name: Any, base_dir: Path, allow_outside: bool = False, field: str = "data.file") -> Path:
    """The file a problem's ``data.file`` names: relative to the problem file's folder and inside
    it (``..`` and symlinks resolved) unless ``allow_outside``. The refusal never opens the file."""
    if not isinstance(name, str) or not name:
        raise InputError(f"expected a file name, got {_kind(name)}", field)
    path = Path(base_dir) / name
    if allow_outside:
        return path
    why = " (pass --allow-outside, or allow_outside=True, to read it anyway)"
    if Path(name).is_absolute():
        raise InputError("an absolute path; a data file must lie in the problem file's folder" + why, field)
    try:
        inside = path.resolve().is_relative_to(Path(base_dir).resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name the system refuses
        inside = False
    if not inside:
        raise InputError("outside the problem file's folder (after '..' and symbolic links)" + why, field)
    return path


def _from_file(spec: dict, base_dir: Path, d: int, k: int, one_hot: bool, allow_outside: bool = False,
               info: dict | None = None, classes: list[str] | None = None):
    info = {} if info is None else info
    name = spec["file"]
    path = data_path(name, base_dir, allow_outside)
    if not path.exists():
        raise InputError(f"no such data file ({path}){_builtin_hint(name)}", "data.file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        x, y = read_npz(path)
    elif suffix == ".csv":
        x, y = _read_csv(path, spec, info)
    else:
        raise InputError("data files must be .csv or .npz", "data.file")
    where = str(path)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if y.dtype.kind == "U":  # text labels: one-hot by the class names, no one_hot: true needed
        y, info["classes"] = encode_labels(y, k, classes, "data.targets", where)
    elif _labels_wanted(y, k, one_hot, classes):  # whole-number labels (1, 2, 3; -1/1; 0..K-1)
        y, names = integer_labels(y.reshape(len(y), -1), k, classes, "data.targets", where)
        info["classes"] = names or info.get("classes")
    elif y.ndim == 1:
        y = y.reshape(-1, 1)
    if x.shape[1] != d:
        raise InputError(f"{x.shape[1]} input columns, but the first layer takes {d} inputs", "inputs", where)
    if y.shape[1] != k:
        raise InputError(f"{y.shape[1]} target columns, but the output layer has {k} units", "targets", where)
    if len(x) != len(y) or len(x) == 0:
        raise InputError(f"{_plural(len(x), 'input row')} but {_plural(len(y), 'target row')}", "targets", where)
    return x, y


def _open_data(path: Path, size_field: str) -> BinaryIO:
    """The data file opened (a regular file only), refused before reading when it declares more
    than the limit (CSV: MAX_CSV_BYTES, NPZ: MAX_EXAMPLES_BYTES); reading stays bounded too."""
    csv_file = path.suffix.lower() == ".csv"
    limit = MAX_CSV_BYTES if csv_file else MAX_EXAMPLES_BYTES
    fh = open_regular(path)
    size = os.fstat(fh.fileno()).st_size
    if size > limit:  # before reading a byte of it
        fh.close()
        raise InputError(f"data file is {size / 2**30:.3g} GiB; the limit is {limit / 2**30:.0f} GiB"
                         + (" for CSV (up to 4 GiB as numbers; use .npz for more)" if csv_file else ""),
                         size_field, "" if size_field else str(path))
    return fh


# -- NPZ: every member checked from the zip directory and the .npy header before a byte is read --------
_NOT_NUMBERS = {"c": "complex numbers", "M": "dates (datetime64)", "m": "durations (timedelta64)", "U": "text",
                "S": "bytes", "b": "true/false values", "O": "Python objects", "V": "records"}
_ZIP_FAULTS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
               struct.error, KeyError, TypeError)


def read_npz(path: str | Path, need_targets: bool = True, size_field: str = "data.file"):
    """(inputs, targets) float64 from an .npz file (targets None when absent and not needed).

    Refused with one line, before the array is read: a damaged, empty or encrypted archive, a
    member that declares more than MAX_EXAMPLES_BYTES (a zip bomb, a header of 10^6 x 10^6), a dtype
    that is not real floating (at most float64) or integer, more than 2 dimensions, data shorter
    or longer than its header says; after reading: a bad CRC, a value that is not finite.
    """
    file = str(path)
    with _open_data(Path(path), size_field) as fh:
        try:
            _check_directory(fh, file)
            with zipfile.ZipFile(fh) as z:
                arrays = _npz_arrays(z, need_targets, file)
        except InputError:
            raise
        except _ZIP_FAULTS as e:
            raise InputError(f"not a readable .npz file ({type(e).__name__}: {str(e)[:120]})", "", file) from None
    for a, arr in zip(("inputs", "targets"), arrays):
        if arr is not None and not np.isfinite(arr).all():
            raise InputError("must be a 1-D or 2-D array of finite numbers", a, file)
    return arrays[0], arrays[1]


MAX_NPZ_ENTRIES, MAX_NPZ_DIRECTORY = 1000, 2**20


def _check_directory(fh: BinaryIO, file: str) -> None:
    """Refuse an archive whose end record declares more than MAX_NPZ_ENTRIES members or a central
    directory over MAX_NPZ_DIRECTORY bytes, before zipfile builds an object for each of them (a
    4 GiB file of empty members would need tens of GiB). A damaged end record is left to zipfile."""
    end = fh.seek(0, 2)
    fh.seek(max(end - (22 + 65535 + 20), 0))
    tail = fh.read()
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) - i < 22:
        fh.seek(0)
        return
    entries, size = struct.unpack("<HI", tail[i + 10:i + 16])
    if (entries == 0xFFFF or size == 0xFFFFFFFF) and i >= 20 and tail[i - 20:i - 16] == b"PK\x06\x07":
        fh.seek(struct.unpack("<Q", tail[i - 12:i - 4])[0])  # the zip64 end record holds the real counts
        record = fh.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            entries, size = struct.unpack("<QQ", record[32:48])
    fh.seek(0)
    if entries > MAX_NPZ_ENTRIES or size > MAX_NPZ_DIRECTORY:
        raise InputError(f"the archive lists {entries:,} members ({size:,} bytes of directory); an .npz of "
                         f"inputs and targets has a few (at most {MAX_NPZ_ENTRIES:,} are read)", "", file)


def _npz_arrays(z: zipfile.ZipFile, need_targets: bool, file: str) -> list:
    """[inputs, targets or None] from the open archive."""
    names = {info.filename: info for info in z.infolist()}
    wanted = ("inputs", "targets") if need_targets else ("inputs",)
    missing = [a for a in wanted if f"{a}.npy" not in names]
    if missing:
        has = ", ".join(n[:-4] for n in names if n.endswith(".npy"))[:200]
        raise InputError(f"missing array '{missing[0]}' (has {has or 'none'})", "", file)
    return [_npz_member(z, names[f"{a}.npy"], a, file) if f"{a}.npy" in names else None
            for a in ("inputs", "targets")]


def _npz_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, file: str) -> np.ndarray:
    """One member: zip flags, the .npy header (dtype, shape, declared size), then the data."""
    if info.flag_bits & 0x1:
        raise InputError("the archive is encrypted; deltarule reads only plain .npz files", name, file)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError("compressed with a method .npz files do not use", name, file)
    if info.file_size > MAX_EXAMPLES_BYTES + 2**16:
        raise InputError(f"declares {gib(info.file_size)} of data; the limit is "
                         f"{MAX_EXAMPLES_BYTES / 2**30:.0f} GiB", name, file)
    with z.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version not in ((1, 0), (2, 0)):
            raise InputError(f"an .npy version {version[0]}.{version[1]} array (1.0 and 2.0 are read)", name, file)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(fh)
        count = _check_npy(shape, dtype, name, file)
        nbytes = count * dtype.itemsize
        if info.file_size - fh.tell() != nbytes:
            raise InputError(f"damaged: the header declares {nbytes:,} bytes of data, the archive holds "
                             f"{max(info.file_size - fh.tell(), 0):,}", name, file)
        raw = fh.read(nbytes)
        if len(raw) != nbytes or fh.read(1):  # the last read checks the CRC too
            raise InputError("damaged: the data is cut short", name, file)
    array = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return array.astype(np.float64)


def _check_npy(shape: tuple, dtype: np.dtype, name: str, file: str) -> int:
    """The number of values of an .npy header, or InputError for what deltarule does not read."""
    if dtype.kind not in "iuf" or dtype.hasobject or (dtype.kind == "f" and dtype.itemsize > 8):
        what = _NOT_NUMBERS.get(dtype.kind, f"{dtype.name} (more precision than float64)")
        raise InputError(f"expected real numbers (floating point up to float64, or integers), got {what}",
                         name, file)
    if len(shape) not in (1, 2):
        raise InputError(f"must be a 1-D or 2-D array, got {len(shape)} dimensions", name, file)
    count = math.prod(shape)
    if count * 8 > MAX_EXAMPLES_BYTES:
        raise InputError(f"{' x '.join(map(str, shape))} numbers would need {gib(count * 8)} as float64; "
                         f"the limit is {MAX_EXAMPLES_BYTES / 2**30:.0f} GiB", name, file)
    return count


# -- CSV: a header row, then one row of numbers per example; O(columns) per row -------------------------
def _columns(header: list[str]) -> str:
    """The header for a message: every name when few, else the first ten and how many there are."""
    names = header if len(header) <= 20 else [*header[:10], "..."]
    shown = ", ".join(n[:40] for n in names)
    return f"columns: {shown}" if len(header) <= 20 else f"{len(header):,} columns: {shown}"


def _csv_row(row: list[str], width: int, header: list[str], cols: list[int], line: int, file: str) -> list[float]:
    if len(row) != width:
        raise InputError(f"expected {width} values, got {len(row)}", f"line {line}", file)
    out = []
    for j in cols:
        try:
            v = float(row[j])
        except ValueError:
            v = float("nan")
        if not math.isfinite(v):
            raise InputError(f"expected a finite number, got {row[j][:40]!r}",
                             f"line {line}, column {header[j][:40]!r}", file)
        out.append(v)
    return out


def _read_csv(path: Path, spec: dict, info: dict):
    targets = spec.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise InputError("expected a list of target column names, e.g. [label]", "data.targets")
    inputs = spec.get("inputs") or None
    if inputs is not None and (not isinstance(inputs, list) or not all(isinstance(c, str) for c in inputs)):
        raise InputError("with a file, expected a list of input column names, e.g. [x1, x2]", "data.inputs")
    names: list[str] = []
    x, y = read_csv(path, targets, inputs, labels=True, names_out=names)
    info["inputs"], info["targets"] = names[:x.shape[1]], names[x.shape[1]:]
    return x, y


def read_csv(path: str | Path, targets: list[str] | tuple = (), inputs: list[str] | None = None,
             width: int | None = None, fields: tuple[str, str] = ("data.inputs", "data.targets"),
             size_field: str = "data.file", labels: bool = False, names_out: list | None = None):
    """(inputs (n, d), targets (n, len(targets))) from a CSV file with a header row.

    ``inputs`` None: every column that is not a target (then ``width``, when given, must match:
    ``predict``'s check). A column named that the header lacks is an error at ``fields`` (the
    field that named it). Columns are found through a dict: O(columns), whatever the width.
    ``labels``: a target column that is not all numbers comes back as text (a numpy str array,
    class labels: :func:`encode_labels`); numbers stay float64.
    """
    file = str(path)
    try:
        with _open_data(Path(path), size_field) as raw:
            bounded = limit_stream(raw, MAX_CSV_BYTES, file, "CSV files")
            reader = csv.reader(io.TextIOWrapper(bounded, encoding="utf-8", newline=""))
            header = [h.strip() for h in next(reader, [])]
            if not header:
                raise InputError("empty file (expected a header row)", "", file)
            if any("\x00" in h for h in header):  # binary, or /proc/self/environ: nothing of it is shown
                raise InputError("not a text file (contains NUL bytes)", "", file)
            n_inputs, cols = _pick_columns(header, list(targets), inputs, width, fields, file)
            if names_out is not None:  # the column names chosen, inputs then targets (kept with a model)
                names_out[:] = [header[j] for j in cols]
            numeric, texts = (cols[:n_inputs], cols[n_inputs:]) if labels else (cols, [])
            values, raw = _csv_rows(reader, header, numeric, texts, file)
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"not a readable CSV file ({str(e)[:200]})", "", file) from None
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror or e})", "", file) from None
    if labels and len(cols) > n_inputs:
        # one row per example read (reshape(-1, 0) cannot tell how many rows a file of no inputs has)
        x = np.frombuffer(values, dtype=np.float64).reshape(len(raw), n_inputs)
        return x, _targets_or_labels(raw, [header[j] for j in cols[n_inputs:]], file)
    table = np.frombuffer(values, dtype=np.float64).reshape(-1, len(cols))
    return table[:, :n_inputs], table[:, n_inputs:]


def _csv_rows(reader, header: list[str], numeric: list[int], texts: list[int], file: str) -> tuple:
    """(the ``numeric`` columns' numbers, row after row, [(line, [text of each ``texts`` column])])."""
    values = array.array("d")  # 8 bytes a number as it is read: no list of rows in memory
    raw: list = []  # the target columns as text (labels mode only), with their line numbers
    for line, row in enumerate(reader, start=2):
        if row:  # a blank line is skipped
            values.extend(_csv_row(row, len(header), header, numeric, line, file))
            if texts:
                raw.append((line, [row[j].strip() for j in texts]))
    return values, raw


def _targets_or_labels(raw: list, names: list[str], file: str) -> np.ndarray:
    """Target columns read as text: float64 when every value is a number (a non-finite one is
    refused at its line), else the text itself (class labels, one column)."""
    try:
        y = np.array([[float(v) for v in row] for _, row in raw], dtype=np.float64).reshape(len(raw), len(names))
    except ValueError:
        if len(names) != 1:
            raise InputError(f"class labels (text) need one target column, got {len(names)}", "data.targets",
                             file) from None
        return np.array([row[0] for _, row in raw], dtype=str)
    bad = ~np.isfinite(y)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"expected a finite number, got {raw[i][1][j][:40]!r}",
                         f"line {raw[i][0]}, column {names[j][:40]!r}", file)
    return y


# a class name is printed in tables, reports and predict's CSV: nothing that moves a terminal's cursor,
# retitles it, breaks a line, reverses the text's direction, or that no encoder writes (lone surrogates)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")


def check_class_names(names: list[str], path: str, file: str = "") -> None:
    """Refuse an empty class name or one with a control, bidi or surrogate character (at ``path``)."""
    for name in names:
        if not name or _UNPRINTABLE.search(name):
            problem = "an empty class name" if not name else f"class name {name[:40]!r} has a control character"
            raise InputError(problem, path, file)


def encode_labels(labels: Any, k: int, classes: list[str] | None, path: str, file: str = "") -> tuple:
    """(targets (n, k), classes): class labels as one-hot rows, classes in sorted order unless
    ``classes`` (the file's ``classes:``) gives the order. One sigmoid output (k = 1) with two
    classes: the target is 1 for the second class, 0 for the first."""
    labels = np.asarray(labels).astype(str).reshape(-1)
    found = sorted(set(labels.tolist()))
    check_class_names(found, path, file)
    names = list(classes) if classes else found
    index = {c: i for i, c in enumerate(names)}
    unknown = next((c for c in found if c not in index), None)
    if unknown is not None:
        raise InputError(f"label {unknown[:40]!r} is not one of the classes ({', '.join(names)[:200]})", path, file)
    if len(names) != k and not (k == 1 and len(names) == 2):
        raise InputError(f"{len(names)} classes ({', '.join(names)[:200]}), but the output layer has "
                         f"{k} unit{'s' if k != 1 else ''}", path, file)
    codes = np.array([index[c] for c in labels.tolist()], dtype=int)
    y = codes.reshape(-1, 1).astype(np.float64) if k == 1 else np.eye(k)[codes]
    return y, names


def _pick_columns(header: list[str], targets: list[str], inputs: list[str] | None, width: int | None,
                  fields: tuple[str, str], file: str) -> tuple[int, list[int]]:
    """(number of inputs, column indices of inputs then targets). A named column is the first of
    that name; without ``inputs``, every column not named a target, in order. One pass over the
    header with a dict of the names asked for only: O(columns) time, small memory however wide."""
    wanted, index = {*targets, *(inputs or ())}, {}
    for j, h in enumerate(header):
        if h in wanted:
            index.setdefault(h, j)
    for names, field in ((targets, fields[1]), (inputs or (), fields[0])):
        missing = next((c for c in names if c not in index), None)
        if missing is not None:
            raise InputError(f"no column {missing[:40]!r} ({_columns(header)})", field)
        if len(set(names)) < len(names):  # read twice, it would be two inputs (or targets) of one
            twice = next(c for i, c in enumerate(names) if c in names[:i])
            raise InputError(f"column {twice[:40]!r} named twice", field)
    cols = [index[c] for c in inputs] if inputs is not None else _other_columns(header, targets, width, file)
    return len(cols), cols + [index[t] for t in targets]


def _other_columns(header: list[str], targets: list[str], width: int | None, file: str) -> list[int]:
    """Every column not named a target, in order (``width`` of them when given: predict's check)."""
    chosen = set(targets)
    cols = [j for j, h in enumerate(header) if h not in chosen]
    if width is not None and len(cols) != width:
        raise InputError(f"{len(cols)} columns, but the model takes {width} inputs "
                         f"(name the input columns with --inputs)", "", file)
    return cols
