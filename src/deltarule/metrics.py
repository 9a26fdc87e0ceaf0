"""Classification accuracy, a held-out split, and the journal's further columns.

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


def accuracy(yhat: Any, y: Any, kind: str) -> float:
    """Fraction of examples classified as their target row says (the target's argmax; for
    threshold every output must be right: subset accuracy, as scikit-learn's accuracy_score)."""
    right = predicted_classes(yhat, kind) == predicted_classes(y, kind)
    return float(np.mean(right if kind == "argmax" else right.all(axis=-1)))


def extra_columns(network, validation: bool = False) -> tuple[str, ...]:
    """The journal columns after the parameters: accuracy, val_loss, val_accuracy."""
    kind = classifier(network)
    extra = ["accuracy"] if kind else []
    if validation:
        extra += ["val_loss", "val_accuracy"] if kind else ["val_loss"]
    return tuple(extra)


def extra_values(kind: str | None, a: Array | None, y: Array, validation: tuple | None = None) -> list[float]:
    """The values of :func:`extra_columns`: accuracy of outputs ``a`` on ``y`` (classifiers),
    then from ``validation = (val_loss, a_val, y_val)`` the held-out loss and accuracy."""
    out = [accuracy(a, y, kind)] if kind else []
    if validation is not None:
        val_loss, a_val, y_val = validation
        out += [val_loss, accuracy(a_val, y_val, kind)] if kind else [val_loss]
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
