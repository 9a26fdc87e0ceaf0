"""deltarule predict MODEL DATA: the network's outputs (and classes) for every example, as CSV."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from ..errors import ExitStatus
from . import add_allow_outside

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
    add_allow_outside(p)


def run(args) -> int:
    from ..metrics import accuracy, classifier, predicted_classes
    from ..problem import load_network
    from . import write_output

    network = load_network(args.model, allow_outside=args.allow_outside)
    x, y = read_inputs(args.data, network.sizes[0], args.inputs, args.allow_outside)
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


def read_inputs(source: str, d: int, columns: str | None, allow_outside: bool = False):
    """(x (n, d), targets or None) from a CSV, an NPZ, or a problem file / example name.

    The same readers as a problem's ``data: {file: ...}`` (:mod:`deltarule.data`): regular files
    only, bounded, NPZ members checked before they are read, one line for anything wrong.
    """
    import numpy as np

    from ..data import read_csv, read_npz
    from ..errors import InputError

    path = Path(source)
    suffix = path.suffix.lower()
    if columns and suffix != ".csv":
        raise InputError("--inputs names CSV columns; the data is not a CSV file", "--inputs")
    if suffix == ".csv":
        names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        x, y = read_csv(path, (), names, width=d, fields=("--inputs", "--inputs"), size_field="")[0], None
    elif suffix == ".npz":
        x, y = read_npz(path, need_targets=False, size_field="")
    else:
        from ..problem import load_problem

        problem = load_problem(source, allow_outside=allow_outside).require("data")
        x, y = problem.x, problem.y
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    if x.shape[1] != d:
        raise InputError(f"{x.shape[1]} input columns, but the model takes {d} inputs", "inputs", source)
    if len(x) == 0:
        raise InputError("no examples", "inputs", source)
    return np.asarray(x, dtype=np.float64), (None if y is None else np.asarray(y, dtype=np.float64))
