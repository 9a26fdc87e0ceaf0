"""deltarule predict MODEL DATA: the network's outputs (and classes) for every example, as CSV."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from ..errors import ExitStatus
from ..formatting import safe_text
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
    p.add_argument("--target", "--drop", dest="drop", metavar="COLS",
                   help="comma-separated CSV columns that are not inputs (a target column: the accuracy is "
                        "printed); default: the model's own input columns when the file has them")
    p.add_argument("-o", "--output", metavar="FILE.csv", help="write here (atomically) instead of stdout")
    add_allow_outside(p)


def run(args) -> int:
    from ..metrics import accuracy, classifier, predicted_classes
    from ..problem import load_problem
    from . import write_output

    model = load_problem(args.model, allow_outside=args.allow_outside)
    network = model.network
    x, y = read_inputs(args.data, network.sizes[0], args.inputs, args.allow_outside, model, args.drop)
    yhat = network.predict(model.scale(x))
    kind = classifier(network)
    classes = predicted_classes(yhat, kind) if kind else None
    y = _targets(labels_to_targets(y, model, args.data), yhat.shape)  # refused before anything is written
    write_output(to_csv(yhat, classes, model.classes), args.output)
    if kind and y is not None:
        note = training_note(model, x, args.data, args.allow_outside)
        print(f"accuracy {accuracy(yhat, y, kind):.2%} on the {len(x)} rows of {safe_text(args.data)}"
              + (f" ({note})" if note else ""), file=sys.stderr)
    return ExitStatus.OK


def training_note(model, x, source: str, allow_outside: bool = False) -> str:
    """"the data the model was trained on, 120 rows trained on and 30 held out" when the raw inputs
    x (n, d) are the data a saved model recorded (``trained_on:``, by hash: :func:`metrics.is_training_data`);
    else "". A problem file or example given as DATA is compared by its own data's hash (its inputs as
    the file gives them, before scaling). A MODEL that is a problem with data records nothing (untrained)."""
    from ..metrics import is_training_data

    record = model.trained_on if model.x is None else None
    if not record:
        return ""
    if Path(source).suffix.lower() in (".csv", ".npz"):
        same = is_training_data(record, x)
    else:
        from ..problem import load_problem

        own = load_problem(source, allow_outside=allow_outside).trained_on or {}
        same = own.get("inputs_sha256") == record["inputs_sha256"] and own.get("rows") == record["rows"]
    if not same:
        return ""
    held = record.get("held_out", 0)
    return "the data the model was trained on" + (f": {record['rows'] - held} rows trained on, {held} held out"
                                                  if held else ", every row trained on")


def labels_to_targets(y, model, source: str):
    """Class labels (a CSV's target column) as one-hot rows by the model's classes: text, or whole
    numbers that the classes name (a model trained on labels 1, 2, 3 or -1/1: ``data.integer_labels``)."""
    if y is None:
        return y
    from ..data import encode_labels, integer_labels
    from ..errors import InputError

    if y.dtype.kind != "U":
        import numpy as np

        column = y.ndim == 1 or y.shape[1] == 1
        if model.classes and column and len(y) and (y == np.round(y)).all():
            return integer_labels(y.reshape(len(y), -1), model.network.sizes[-1], list(model.classes), "targets",
                                  source)[0]
        return y

    if not model.classes:
        raise InputError("the targets are text labels but the model has no classes", "targets", source)
    return encode_labels(y, model.network.sizes[-1], list(model.classes), "targets", source)[0]


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


def to_csv(yhat, classes, names=None) -> str:
    """yhat1..yhatK (shortest exact decimals), then class / class1..classK. With the model's class
    ``names``: p_NAME, the probability of each class, then the predicted class's name."""
    K = yhat.shape[1]
    header = [f"yhat{k + 1}" for k in range(K)]
    if names and classes is not None and (classes.ndim == 1 or K == 1):
        return _named_csv(yhat, classes.reshape(-1).astype(int), list(names))
    if classes is not None:
        header += ["class"] if classes.ndim == 1 or classes.shape[1] == 1 else [f"class{k + 1}" for k in range(K)]
        classes = classes.reshape(len(yhat), -1)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i, row in enumerate(yhat):
        w.writerow([repr(float(v)) for v in row] + ([] if classes is None else [int(c) for c in classes[i]]))
    return out.getvalue()


def _named_csv(yhat, classes, names: list[str]) -> str:
    """p_NAME per class (one sigmoid output: the second class's probability), then class by name."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([f"p_{n}" for n in (names[1:] if yhat.shape[1] == 1 else names)] + ["class"])
    for row, c in zip(yhat, classes):
        w.writerow([repr(float(v)) for v in row] + [names[c]])
    return out.getvalue()


def _csv_inputs(path: Path, d: int, columns: str | None, model, drop: str | None):
    """(x, y or None) from a CSV: --inputs, else every column but --drop's (those are the targets), else
    the model's own input columns when the file has them all, else every column (d of them)."""
    from ..data import read_csv
    from ..errors import InputError

    split = (lambda text: [c.strip() for c in text.split(",") if c.strip()])
    if columns:
        return read_csv(path, (), split(columns), width=d, fields=("--inputs", "--inputs"), size_field="")[0], None
    if drop:
        x, y = read_csv(path, split(drop), None, width=d, fields=("--drop", "--drop"), size_field="", labels=True)
        return x, y
    known = (model.columns or {}) if model is not None else {}
    for targets in ((known.get("targets") or []), []) if known.get("inputs") else ():
        try:  # the model's own columns: with its targets when the file has them, else inputs only
            x, y = read_csv(path, targets, known["inputs"], size_field="", labels=True)
            return x, (y if targets else None)
        except InputError as e:
            if not e.message.startswith("no column"):
                raise
    return read_csv(path, (), None, width=d, fields=("--inputs", "--inputs"), size_field="")[0], None


def read_inputs(source: str, d: int, columns: str | None, allow_outside: bool = False, model=None,
                drop: str | None = None):
    """(x (n, d), targets or None) from a CSV, an NPZ, or a problem file / example name.

    The same readers as a problem's ``data: {file: ...}`` (:mod:`deltarule.data`): regular files
    only, bounded, NPZ members checked before they are read, one line for anything wrong.
    """
    import numpy as np

    from ..data import read_npz
    from ..errors import InputError

    path = Path(source)
    suffix = path.suffix.lower()
    if (columns or drop) and suffix != ".csv":
        raise InputError("--inputs and --drop name CSV columns; the data is not a CSV file",
                         "--inputs" if columns else "--drop")
    if suffix == ".csv":
        x, y = _csv_inputs(path, d, columns, model, drop)
    elif suffix == ".npz":
        x, y = read_npz(path, need_targets=False, size_field="")
    else:
        from ..problem import load_problem

        problem = load_problem(source, allow_outside=allow_outside).require("data")
        x, y = problem.x, problem.y
        if problem.scaler is not None:  # the raw inputs: the model applies its own scaling
            x = x * problem.scaler.divisor + problem.scaler.offset
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    if x.shape[1] != d:
        raise InputError(f"{x.shape[1]} input columns, but the model takes {d} inputs", "inputs", source)
    if len(x) == 0:
        raise InputError("no examples", "inputs", source)
    if y is not None and y.dtype.kind != "U":
        y = np.asarray(y, dtype=np.float64)
    return np.asarray(x, dtype=np.float64), y
