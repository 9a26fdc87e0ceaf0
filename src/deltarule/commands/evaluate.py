"""deltarule evaluate MODEL DATA: loss and metrics of a model on a data file that has targets."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import ExitStatus, InputError
from . import add_allow_outside

HELP = "loss, accuracy, confusion matrix, precision/recall/F1 (classifiers) or MSE/MAE/R² of a model on data"
EXAMPLE = ("  deltarule train iris.yaml --save iris.json\n"
           "  deltarule evaluate iris.json test.csv                  # inputs first, then the target columns\n"
           "  deltarule evaluate iris.json test.csv --targets species --format json\n"
           "  deltarule evaluate model.json digits                   # a problem file's (or example's) data\n"
           "\nA CSV needs a header. Without --targets its first columns are the model's inputs and the columns\n"
           "after them the targets: K columns (one per output) or one column of class labels 0..K-1.\n"
           "Classifiers (softmax + cross_entropy, sigmoid + bce) get accuracy, the confusion matrix (rows: true\n"
           "class, columns: predicted) and per-class precision/recall/F1 with macro averages; other models\n"
           "MSE, MAE and R² (averaged over the outputs).")


def add_arguments(p) -> None:
    p.add_argument("model", help="a saved model (train --save), a problem file or a built-in example name")
    p.add_argument("data", help="a CSV file with a header, an .npz with 'inputs' and 'targets', "
                                "or a problem file / example name (its data)")
    p.add_argument("--inputs", metavar="COLS", help="comma-separated CSV input columns (with --targets)")
    p.add_argument("--targets", metavar="COLS", help="comma-separated CSV target columns (default: the columns "
                                                     "after the model's inputs)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    add_allow_outside(p)


def _names(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _csv_examples(path: Path, d: int, inputs: list[str] | None, targets: list[str] | None,
                  fields: tuple[str, str] = ("--inputs", "--targets")):
    """(x, y) from a CSV: named columns, or the first d columns as inputs and the rest as targets;
    a missing column is an error at ``fields`` (the flags, or the model's ``columns.*``)."""
    from ..data import read_csv

    if targets:
        return read_csv(path, targets, inputs, width=None if inputs else d, fields=fields,
                        size_field="", labels=True)
    if inputs:
        raise InputError("name the target columns too (--targets COLS)", "--targets")
    table, _ = read_csv(path, (), None, size_field="")
    if table.shape[1] <= d:
        raise InputError(f"{table.shape[1]} columns and the model takes {d} inputs: no target columns "
                         f"(the targets follow the inputs, or name them with --targets)", "", str(path))
    return table[:, :d], table[:, d:]


def _model_csv(path: Path, d: int, inputs: str | None, targets: str | None, model=None):
    """:func:`_csv_examples` with the flags' columns, or the ``model``'s own (then a column the
    CSV lacks is the model file's ``columns.*`` error, not a flag the user never gave)."""
    fields = ("columns.inputs", "columns.targets") if model is not None else ("--inputs", "--targets")
    try:
        return _csv_examples(path, d, _names(inputs), _names(targets), fields)
    except InputError as e:
        raise (e.in_file(model.source) if model is not None else e) from None


def _known_columns(model, inputs: str | None, targets: str | None) -> tuple:
    """--inputs and --targets, else the model's own column names (a model trained on a CSV)."""
    known = (model.columns or {}) if model is not None else {}
    if not inputs and not targets and known.get("targets"):
        return ",".join(known["inputs"]), ",".join(known["targets"])
    return inputs, targets


def read_examples(source: str, network, inputs: str | None, targets: str | None, allow_outside: bool,
                  model=None):
    """(x (n, d), y (n, K)) with targets shaped as the outputs (labels 0..K-1, or the model's class
    names, become one-hot); x raw, as in the file (the caller applies the model's scaling).

    CSV through :func:`deltarule.data.read_csv` (without --inputs/--targets: the model's own columns
    when it knows them); NPZ, problem files and examples through ``predict``'s reader
    (:func:`deltarule.commands.predict.read_inputs`)."""
    import numpy as np

    from .predict import _targets, labels_to_targets, read_inputs

    d, k = network.sizes[0], network.sizes[-1]
    own = not inputs and not targets  # the model's own column names: errors name columns.*
    inputs, targets = _known_columns(model, inputs, targets)
    if Path(source).suffix.lower() == ".csv":
        x, y = _model_csv(Path(source), d, inputs, targets, model if own and targets else None)
        y = labels_to_targets(y, model, source) if model is not None else y
        if x.shape[1] != d:
            raise InputError(f"{x.shape[1]} input columns, but the model takes {d} inputs", "--inputs", source)
        if len(x) == 0:
            raise InputError("no examples", "inputs", source)
    else:
        if targets:
            raise InputError("--targets names CSV columns; the data is not a CSV file", "--targets")
        x, y = read_inputs(source, d, inputs, allow_outside)
    if y is None or y.size == 0:
        raise InputError("no targets to compare with (an .npz needs a 'targets' array)", "targets", source)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1 < k:
        y = y[:, 0]  # one column of class labels
    shaped = _targets(y, (len(x), k))
    if shaped is None:
        width = 1 if y.ndim == 1 else y.shape[1]
        raise InputError(f"{width} target column(s) do not fit the model's {k} outputs "
                         f"(give {k} columns, or one column of class labels 0..{k - 1})", "targets", source)
    return np.asarray(x, dtype=np.float64), shaped


def report(network, x, y, names=None) -> dict:
    """Every number evaluate shows: loss, then the classifier's or the regression's metrics (classes
    named by ``names``, the model's classes, else 0..K-1)."""
    from .. import metrics

    yhat = network.predict(x)
    out = {"examples": len(x), "loss": network.evaluate(x, y), "loss_name": network.loss.name,
           "reduction": network.reduction}
    kind = metrics.classifier(network)
    if kind is None:
        out.update(metrics.regression(yhat, y))
        return out
    c = metrics.classification(yhat, y, kind)
    per = c["per_class"]
    count = len(per["f1"])
    out.update(accuracy=c["accuracy"], classes=list(names) if names and len(names) == count else
               [str(k) for k in range(count)],
               confusion=None if c["confusion"] is None else c["confusion"].tolist(),
               precision=per["precision"].tolist(), recall=per["recall"].tolist(), f1=per["f1"].tolist(),
               support=per["support"].tolist(), macro=c["macro"])
    return out


def summary_lines(network, problem) -> list[str]:
    """One line per data set the problem trains on, for ``train``'s summary: macro precision / recall /
    F1 (classifiers) or MSE / MAE / R², on the training examples and (with a split) the held-out ones."""
    from ..formatting import fmt

    x, y, x_val, y_val = problem.split()
    lines = []
    for which, xs, ys in (("training data", x, y), ("held out", x_val, y_val)):
        if xs is None or len(xs) == 0:
            continue
        r = report(network, xs, ys, problem.classes)
        if "macro" in r:
            m = r["macro"]
            shown = f"macro precision {fmt(m['precision'], 4)}, recall {fmt(m['recall'], 4)}, F1 {fmt(m['f1'], 4)}"
        else:
            shown = f"MSE {fmt(r['mean_squared_error'], 6)}, MAE {fmt(r['mean_absolute_error'], 6)}, R² {_r2(r)}"
        lines.append(f"{which} ({_examples(len(xs))}): {shown}")
    return lines


def _examples(n: int) -> str:
    return f"{n} example" + ("" if n == 1 else "s")


def _r2(r: dict) -> str:
    """R² by fmt; undefined on one example (the target's spread about its mean is 0)."""
    from ..formatting import fmt

    return fmt(r["r2_score"], 4) if r["examples"] > 1 else "undefined on 1 example"


def _tables(r: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of the confusion matrix and the per-class table, numbers by fmt."""
    from ..formatting import fmt

    tables = []
    if r.get("confusion") is not None:
        tables.append(("confusion matrix (rows: true class, columns: predicted class)", ["", *r["classes"]],
                       [[name, *map(str, row)] for name, row in zip(r["classes"], r["confusion"])]))
    rows = [[name, fmt(p, 4), fmt(q, 4), fmt(f, 4), str(s)]
            for name, p, q, f, s in zip(r["classes"], r["precision"], r["recall"], r["f1"], r["support"])]
    m = r["macro"]
    rows.append(["macro avg", fmt(m["precision"], 4), fmt(m["recall"], 4), fmt(m["f1"], 4), str(sum(r["support"]))])
    tables.append(("per class", ["class", "precision", "recall", "f1", "support"], rows))
    return tables


def _summary(r: dict, model: str, data: str) -> list[str]:
    from ..formatting import fmt, safe_text

    note = f"; {r['note']}" if r.get("note") else ""
    lines = [f"model {safe_text(model)} on the {r['examples']} rows of {safe_text(data)}{note}",
             f"loss: {fmt(r['loss'], 6)} ({r['loss_name']}, {r['reduction']})"]
    if "accuracy" in r:
        right = round(r["accuracy"] * r["examples"])
        lines.append(f"accuracy: {fmt(100 * r['accuracy'], 2)}% ({right} of {r['examples']})")
    else:
        lines += [f"MSE: {fmt(r['mean_squared_error'], 6)}", f"MAE: {fmt(r['mean_absolute_error'], 6)}", f"R²: {_r2(r)}"]
    return lines


def _print_rich(lines: list[str], tables) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    for line in lines:
        console.print(Text(line))  # literal: a file name's [brackets] are not rich markup
    for title, head, rows in tables:
        console.print(Text(title))  # above the table: a title would wrap to the table's width
        table = Table()
        for i, h in enumerate(head):
            table.add_column(Text(h), justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*(Text(c) for c in row))
        console.print(table)


def print_text(r: dict, model: str, data: str) -> None:
    """The summary lines and tables: rich on a terminal, plain aligned columns in a pipe."""
    lines, tables = _summary(r, model, data), (_tables(r) if "accuracy" in r else [])
    if sys.stdout.isatty():
        _print_rich(lines, tables)
        return
    print("\n".join(lines))
    for title, head, rows in tables:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        print(f"\n{title}")
        for row in (head, *rows):
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def run(args) -> int:
    from ..problem import load_problem
    from .predict import training_note

    model = load_problem(args.model, allow_outside=args.allow_outside)
    network = model.network
    x, y = read_examples(args.data, network, args.inputs, args.targets, args.allow_outside, model)
    r = report(network, model.scale(x), y, model.classes)
    note = training_note(model, x, args.data, args.allow_outside)
    if args.format == "json":  # a saved model's own training data (train and held-out rows mixed): true
        print(json.dumps({"model": args.model, "data": args.data, **r, "model_trained_on_this_data": bool(note)},
                         indent=2))
    else:
        print_text({**r, "note": note}, args.model, args.data)
    return ExitStatus.OK
