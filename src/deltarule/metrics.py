"""Classification accuracy, a held-out split, the journal's further columns, and evaluation metrics.

A network is a *classifier* when its output and loss say so: softmax + ``cross_entropy``
(the class is the largest output, ``argmax``) or sigmoid + ``bce`` (each output is 1 when
it is >= 0.5, ``threshold``). The journal of a classifier gets an ``accuracy`` column after
the parameters; a held-out split adds ``val_loss`` (and ``val_accuracy``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .losses import decide

Array = np.ndarray


def classifier(network) -> str | None:
    """``"argmax"`` (softmax + cross_entropy), ``"threshold"`` (sigmoid + bce), or None: the
    loss's own ``decision`` for this output activation (``losses.Fused.decision``)."""
    return network.loss.decision(network.layers[-1].activation)


def predicted_classes(yhat: Any, kind: str) -> Array:
    """(n,) class indices 0..K-1 (argmax), or (n, K) labels 0/1 (threshold: 1 when >= 0.5):
    :func:`deltarule.losses.decide`, the one class threshold (journal accuracy, predict, plots)."""
    return decide(yhat, kind)


def accuracy(yhat: Any, y: Any, kind: str, truth: Array | None = None) -> float:
    """Fraction of examples classified as their target row says (the target's argmax; for
    threshold every output must be right: subset accuracy, as scikit-learn's accuracy_score).
    ``truth``: ``predicted_classes(y, kind)`` when already known (the journal computes it once a run)."""
    right = predicted_classes(yhat, kind) == (predicted_classes(y, kind) if truth is None else truth)
    return float(np.mean(right if kind == "argmax" else right.all(axis=-1)))


def extra_columns(network, validation: bool = False) -> tuple[str, ...]:
    """The journal columns after the parameters: accuracy, val_loss, val_accuracy."""
    kind = classifier(network)
    extra = ["accuracy"] if kind else []
    if validation:
        extra += ["val_loss", "val_accuracy"] if kind else ["val_loss"]
    return tuple(extra)


def extra_values(kind: str | None, a: Array | None, y: Array, validation: tuple | None = None,
                 truths: tuple = (None, None)) -> list[float]:
    """The values of :func:`extra_columns`: accuracy of outputs ``a`` on ``y`` (classifiers),
    then from ``validation = (val_loss, a_val, y_val)`` the held-out loss and accuracy.
    ``truths``: the classes of y and y_val when already known (see :func:`accuracy`)."""
    out = [accuracy(a, y, kind, truths[0])] if kind else []
    if validation is not None:
        val_loss, a_val, y_val = validation
        out += [val_loss, accuracy(a_val, y_val, kind, truths[1])] if kind else [val_loss]
    return out


def split(x: Any, y: Any, fraction: float, seed: int = 0) -> tuple[Array, Array, Array, Array]:
    """Hold out ``round(fraction * n)`` examples (at least 1, leaving at least 1), chosen by
    ``numpy.random.default_rng(seed).permutation(n)``; both parts keep file order.

    Returns (x, y, x_val, y_val).
    """
    x, y = np.asarray(x), np.asarray(y)
    n = len(x)
    if n < 2 or not 0 < fraction < 1:
        raise ValueError(f"a held-out split needs 0 < fraction < 1 and at least 2 examples "
                         f"(got {fraction} of {n})")
    n_val = min(max(int(round(fraction * n)), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val, keep = np.sort(order[:n_val]), np.sort(order[n_val:])
    return x[keep], y[keep], x[val], y[val]


# -- evaluation: confusion matrix, precision / recall / F1, regression errors ------------------------
def _ratio(num: Array, den: Array) -> Array:
    """num / den elementwise, 0 where den is 0 (scikit-learn's zero_division=0), without a warning."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def confusion_matrix(true: Any, predicted: Any, k: int) -> Array:
    """(k, k) counts: row i = true class i, column j = predicted class j (true, predicted (n,) in 0..k-1)."""
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return cm


def precision_recall_f1(true: Any, predicted: Any) -> dict[str, Array]:
    """Per class from 0/1 indicator matrices true, predicted (n, k): one column per class.

    tp_k = sum_i t_ik p_ik, precision_k = tp_k / sum_i p_ik, recall_k = tp_k / sum_i t_ik,
    f1_k = 2 tp_k / (sum_i t_ik + sum_i p_ik) (the harmonic mean of the two), support_k = sum_i t_ik;
    0 where a denominator is 0. Each (k,); as scikit-learn's precision_recall_fscore_support.
    """
    t, p = np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    tp, support, chosen = (t * p).sum(axis=0), t.sum(axis=0), p.sum(axis=0)
    return {"precision": _ratio(tp, chosen), "recall": _ratio(tp, support),
            "f1": _ratio(2 * tp, support + chosen), "support": support}


def _indicators(yhat: Array, y: Array, kind: str) -> tuple[Array, Array]:
    """0/1 (n, k) matrices of the true and the predicted classes; one sigmoid output is two classes."""
    if kind == "argmax":
        k = y.shape[1]
        return np.eye(k, dtype=np.int64)[predicted_classes(y, kind)], \
            np.eye(k, dtype=np.int64)[predicted_classes(yhat, kind)]
    t, p = predicted_classes(y, kind), predicted_classes(yhat, kind)
    if y.shape[1] == 1:  # binary: class 0 (output < 0.5) and class 1
        t, p = np.hstack([1 - t, t]), np.hstack([1 - p, p])
    return t, p


def classification(yhat: Any, y: Any, kind: str) -> dict[str, Any]:
    """Accuracy, confusion matrix (single-label only, else None), per-class precision / recall / F1 /
    support and their macro averages (unweighted means over the classes) of outputs yhat (n, K) on
    targets y (n, K), with the decision rule ``kind`` (:func:`classifier`)."""
    yhat, y = np.asarray(yhat, dtype=np.float64), np.asarray(y, dtype=np.float64)
    t, p = _indicators(yhat, y, kind)
    single = kind == "argmax" or y.shape[1] == 1
    cm = confusion_matrix(t.argmax(axis=1), p.argmax(axis=1), t.shape[1]) if single else None
    per_class = precision_recall_f1(t, p)
    macro = {m: float(np.mean(per_class[m])) for m in ("precision", "recall", "f1")}
    return {"accuracy": accuracy(yhat, y, kind), "confusion": cm, "per_class": per_class, "macro": macro}


def regression(yhat: Any, y: Any) -> dict[str, float]:
    """MSE = mean (yhat - y)^2 and MAE = mean |yhat - y| over every output of every example; R^2 =
    1 - sum_i (y_ik - yhat_ik)^2 / sum_i (y_ik - mean_i y_ik)^2 per output k, averaged over the outputs
    (as scikit-learn's r2_score: an output whose target is constant scores 1 when predicted exactly,
    else 0). yhat, y (n, K)."""
    yhat, y = np.asarray(yhat, dtype=np.float64), np.asarray(y, dtype=np.float64)
    err = yhat - y
    ss_res = np.sum(err ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    r2 = np.where(ss_tot > 0, 1.0 - _ratio(ss_res, ss_tot), np.where(ss_res == 0, 1.0, 0.0))
    return {"mean_squared_error": float(np.mean(err ** 2)), "mean_absolute_error": float(np.mean(np.abs(err))),
            "r2_score": float(np.mean(r2))}  # named as scikit-learn's functions


# -- which rows: what a model records of its data, and whether a data file is that data ---------------
FINGERPRINT_FIELDS = ("rows", "held_out", "inputs_sha256")


def rows_sha256(x: Any) -> str:
    """SHA-256 of inputs x (n, d) as float64 in row order, shape included: the same rows read from the
    same text give the same bits, so the same hash (a CSV, an NPZ, a problem's inline data alike)."""
    import hashlib

    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    x = x.reshape(len(x), -1)
    return hashlib.sha256(f"{x.shape[0]}x{x.shape[1]};".encode() + x.tobytes()).hexdigest()


def fingerprint(x: Any, held_out: int = 0) -> dict[str, Any]:
    """What a saved model records of the raw inputs x (n, d) it was made from (before any scaling):
    ``{rows: n, held_out: how many of them the validation split kept out of training,
    inputs_sha256: rows_sha256(x)}``."""
    return {"rows": len(x), "held_out": int(held_out), "inputs_sha256": rows_sha256(x)}


def is_training_data(record: dict | None, x: Any) -> bool:
    """Whether inputs x (n, d) are, row for row, the data a model recorded (:func:`fingerprint`) it
    was made from. The whole set is compared by its hash: a file that merely shares some rows with
    the training data, or holds them in another order, is not recognised."""
    return bool(record) and len(x) == record.get("rows") and rows_sha256(x) == record.get("inputs_sha256")


def parse_fingerprint(spec: Any) -> dict[str, Any]:
    """A model file's ``trained_on:`` (:func:`fingerprint`), validated."""
    import re

    from .errors import InputError
    from .fields import integer, mapping

    spec = mapping(spec, "trained_on", FINGERPRINT_FIELDS)
    rows = integer(spec.get("rows"), "trained_on.rows", 1)
    held_out = integer(spec.get("held_out", 0), "trained_on.held_out", 0)
    if held_out >= rows:
        raise InputError(f"must be fewer than the {rows} rows, got {held_out}", "trained_on.held_out")
    digest = spec.get("inputs_sha256")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InputError("expected a SHA-256 (64 lowercase hex digits)", "trained_on.inputs_sha256")
    return {"rows": rows, "held_out": held_out, "inputs_sha256": digest}
