"""Parameter names and the one flat order of parameters (a neutral leaf: imports only numpy).

Every part that lays parameters out as one vector or names them — the journal's columns,
``Network.parameters``/``with_parameters``, gradcheck, checkpoints, the fast engines'
trainable mask, the per-example gradients of the worked solution — uses these functions.

Order: W1 row by row, then b1, then W2, b2, ... Names: ``W{l}[i,j]`` and ``b{l}[i]``,
1-based, except that a network of one neuron with one input names them ``w`` and ``b``,
as the notes do.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

Shape = tuple[int, int]  # (units, fan_in) of one weight layer


def names(shapes: Sequence[Shape]) -> list[str]:
    """Parameter names in the flat order, for layers of the given (units, fan_in) shapes.

    >>> names([(2, 2), (1, 2)])[:3], names([(1, 1)])
    (['W1[1,1]', 'W1[1,2]', 'W1[2,1]'], ['w', 'b'])
    """
    shapes = [tuple(s) for s in shapes]
    if shapes == [(1, 1)]:
        return ["w", "b"]
    out: list[str] = []
    for l, (units, fan_in) in enumerate(shapes, start=1):
        out += [f"W{l}[{i + 1},{j + 1}]" for i in range(units) for j in range(fan_in)]
        out += [f"b{l}[{i + 1}]" for i in range(units)]
    return out


def flatten(Ws: Sequence[np.ndarray], bs: Sequence[np.ndarray]) -> np.ndarray:
    """W1 row by row, b1, W2, b2, ... as one vector (the order of :func:`names`)."""
    return np.concatenate([np.concatenate([np.ravel(W), np.ravel(b)]) for W, b in zip(Ws, bs)])


def unflatten(vector: np.ndarray, shapes: Sequence[Shape]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The inverse of :func:`flatten`: ``[(W1, b1), (W2, b2), ...]`` as copies of ``vector``'s parts."""
    vector = np.asarray(vector)
    out, k = [], 0
    for units, fan_in in shapes:
        nW = units * fan_in
        out.append((vector[k:k + nW].reshape(units, fan_in).copy(), vector[k + nW:k + nW + units].copy()))
        k += nW + units
    if k != vector.size:
        raise ValueError(f"expected {k} parameters, got {vector.size}")
    return out
