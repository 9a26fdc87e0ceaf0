"""deltarule predict MODEL DATA: the network's outputs (and classes) for every example, as CSV."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from ..errors import ExitStatus

HELP = "the model's outputs for every example of a data file, as CSV (one row per example)"
EXAMPLE = ("  deltarule train digits --save digits.json\n"
           "  deltarule predict digits.json digits -o predictions.csv     # a problem file's (or example's) data\n"
           "  deltarule predict model.json new.csv --inputs x1,x2        # CSV with a header; .npz with 'inputs'\n"
           "\ncolumns: yhat1..yhatK (the output a_L), then for classifiers the predicted class:\n"
           "'class' 0..K-1 for softmax + cross_entropy (the largest output), 'class' 0/1 for one sigmoid\n"
           "output with bce (yhat >= 0.5), 'class1'..'classK' for several. When the data has targets,\n"
           "a classifier's accuracy is printed on stderr.")


def add_arguments(p) -> None:
    p.add_argument("model", help="a saved model (train --save), a problem file or a built-in example name")
    p.add_argument("data", help="a CSV file with a header, an .npz with an 'inputs' array, "
                                "or a problem file / example name (its data)")
    p.add_argument("--inputs", metavar="COLS", help="comma-separated CSV columns to use as inputs "
                                                    "(default: every column, when their number fits the model)")
    p.add_argument("-o", "--output", metavar="FILE.csv", help="write here (atomically) instead of stdout")


def run(args) -> int:
    from ..metrics import accuracy, classifier, predicted_classes
    from ..problem import load_network
    from . import write_output

    network = load_network(args.model)
    x, y = read_inputs(args.data, network.sizes[0], args.inputs)
    yhat = network.predict(x)
    kind = classifier(network)
    classes = predicted_classes(yhat, kind) if kind else None
    write_output(to_csv(yhat, classes), args.output)
    y = _targets(y, yhat.shape)
    if kind and y is not None:
        print(f"accuracy {accuracy(yhat, y, kind):.2%} on {len(x)} examples", file=sys.stderr)
    return ExitStatus.OK


def _targets(y, shape):
    """Targets as (n, K) rows when they fit the outputs (integer labels 0..K-1 become one-hot)."""
    import numpy as np

    if y is None or len(y) != shape[0]:
        return None
    if y.ndim == 1 and shape[1] > 1:
        if not (np.array_equal(y, np.round(y)) and y.min() >= 0 and y.max() < shape[1]):
            return None
        return np.eye(shape[1])[y.astype(int)]
    y = y.reshape(len(y), -1)
    return y if y.shape == shape else None


def to_csv(yhat, classes) -> str:
    """yhat1..yhatK (shortest exact decimals), then class / class1..classK."""
    K = yhat.shape[1]
    header = [f"yhat{k + 1}" for k in range(K)]
    if classes is not None:
        header += ["class"] if classes.ndim == 1 or classes.shape[1] == 1 else [f"class{k + 1}" for k in range(K)]
        classes = classes.reshape(len(yhat), -1)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i, row in enumerate(yhat):
        w.writerow([repr(float(v)) for v in row] + ([] if classes is None else [int(c) for c in classes[i]]))
    return out.getvalue()


def read_inputs(source: str, d: int, columns: str | None):
    """(x (n, d), targets or None) from a CSV, an NPZ, or a problem file / example name."""
    import numpy as np

    from ..errors import InputError

    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".npz") and not path.is_file():
        raise InputError("no such file", "", source)
    if suffix == ".csv":
        x, y = _read_csv(path, d, columns), None
    elif suffix == ".npz":
        x, y = _read_npz(path)
    else:
        from ..problem import load_problem

        problem = load_problem(source).require("data")
        x, y = problem.x, problem.y
    if columns and suffix != ".csv":
        raise InputError("--inputs names CSV columns; the data is not a CSV file", "--inputs")
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    if x.shape[1] != d:
        raise InputError(f"{x.shape[1]} input columns, but the model takes {d} inputs", "inputs", source)
    if len(x) == 0:
        raise InputError("no examples", "inputs", source)
    return np.asarray(x, dtype=np.float64), (None if y is None else np.asarray(y, dtype=np.float64))


def _read_npz(path: Path):
    import numpy as np

    from ..errors import InputError

    try:
        with np.load(path, allow_pickle=False) as z:  # no pickle, ever
            if "inputs" not in z.files:
                raise InputError(f"missing array 'inputs' (has {', '.join(z.files) or 'none'})", "", str(path))
            x = np.asarray(z["inputs"], dtype=np.float64)
            y = np.asarray(z["targets"], dtype=np.float64) if "targets" in z.files else None
    except InputError:
        raise
    except (ValueError, OSError, TypeError) as e:
        raise InputError(f"not a readable .npz file ({e})", "", str(path)) from None
    if x.ndim not in (1, 2) or not np.isfinite(x).all():
        raise InputError("must be a 1-D or 2-D array of finite numbers", "inputs", str(path))
    return x, y


def _read_csv(path: Path, d: int, columns: str | None):
    import numpy as np

    from ..errors import InputError

    file = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except (UnicodeDecodeError, csv.Error, OSError) as e:
        raise InputError(f"not a readable CSV file ({e})", "", file) from None
    if not rows:
        raise InputError("empty file (expected a header row)", "", file)
    header = [h.strip() for h in rows[0]]
    if columns:
        names = [c.strip() for c in columns.split(",") if c.strip()]
        missing = [c for c in names if c not in header]
        if missing:
            raise InputError(f"no column {missing[0]!r} (columns: {', '.join(header)})", "--inputs")
    elif len(header) == d:
        names = header
    else:
        raise InputError(f"{len(header)} columns, but the model takes {d} inputs "
                         f"(name the input columns with --inputs)", "", file)
    idx = [header.index(c) for c in names]
    x = np.empty((len(rows) - 1, len(idx)))
    for r, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} values, got {len(row)}", f"line {r + 2}", file)
        for c, j in enumerate(idx):
            try:
                v = float(row[j])
            except ValueError:
                v = float("nan")
            if not np.isfinite(v):
                raise InputError(f"expected a finite number, got {row[j]!r}", f"line {r + 2}, column {header[j]!r}",
                                 file)
            x[r, c] = v
    return x
