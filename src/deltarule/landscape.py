"""What the teaching pictures show, computed: descent paths, loss surfaces, boundary grids.

The pictures (:mod:`deltarule.plots`) only draw; the numbers they draw are computed here,
by the core and the training code: descent paths from :func:`deltarule.descent.descent_step`
(one point per update, with the problem's optimizer), surface heights from the core's forward pass and loss
(:meth:`Network.evaluate`), class probabilities over the plane from :meth:`Network.predict`.

    >>> import deltarule as dr
    >>> from deltarule import landscape
    >>> p = dr.load_problem("seed-000-neuron")
    >>> path = landscape.descent_path(p.network, p.x, p.y, 0.9, dr.Schedule("batch", epochs=2), ["w", "b"])
    >>> path.shape
    (3, 2)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np


def parameter_index(network, name: str) -> int:
    """The position of a journal name (``w``, ``W1[1,2]``, ``b2[1]``) in the parameter vector."""
    names = network.parameter_names()
    if name not in names:
        raise KeyError(f"no parameter {name!r}; the network's are {', '.join(names[:12])}"
                       + (", ..." if len(names) > 12 else ""))
    return names.index(name)


def default_pair(network) -> tuple[str, str]:
    """The two parameters a surface shows when none are named: the first two trainable."""
    names, trainable = network.parameter_names(), []
    for lay in network.layers:
        trainable += [lay.train_weights] * lay.W.size + [lay.train_biases] * lay.units
    chosen = [n for n, t in zip(names, trainable) if t][:2]
    if len(chosen) < 2:
        raise ValueError("a loss surface needs two trainable parameters; this network has "
                         f"{len(chosen)}")
    return chosen[0], chosen[1]


def descent_path(network, x, y, learning_rate: float, schedule, names: Sequence[str], *,
                 optimization=None) -> np.ndarray:
    """The two named parameters before training and after every update, (updates + 1, 2).

    One row per update of the whole schedule (all epochs), in the schedule's batch order, each
    update the problem's own rule: ``optimization`` (:class:`deltarule.optimization.Optimization`:
    the optimizer, the learning-rate schedule, L2's λ; None is plain descent) applied by
    :func:`deltarule.descent.descent_step`, the reference step the training engines are tested
    against, so a momentum or Adam path is the path training takes.
    """
    from .descent import descent_step
    from .optimizers import SGD
    from .params import flatten
    from .schedules import Constant

    optimizer = getattr(optimization, "optimizer", None) or SGD()
    lr_schedule = getattr(optimization, "lr_schedule", None) or Constant()
    l2 = getattr(optimization, "l2", 0.0)
    idx = [parameter_index(network, n) for n in names]
    x, y = np.asarray(x, network.dtype), np.asarray(y, network.dtype)
    x, y = (x.reshape(1, -1) if x.ndim == 1 else x), (y.reshape(1, -1) if y.ndim == 1 else y)  # as optimize
    Ws, bs = [lay.W for lay in network.layers], [lay.b for lay in network.layers]
    acts = [lay.activation for lay in network.layers]
    trainable = [(lay.train_weights, lay.train_biases) for lay in network.layers]
    state, rng = optimizer.init(list(zip(Ws, bs))), schedule.rng()
    points = [network.parameters()[idx]]
    for epoch in range(schedule.epochs):
        lr = lr_schedule.rate(epoch, learning_rate, len(x))
        for batch in schedule.epoch_batches(len(x), rng):
            Ws, bs, state, _ = descent_step(Ws, bs, acts, network.loss, network.reduction, x[batch], y[batch],
                                            optimizer, state, lr, l2, trainable)
            points.append(flatten(Ws, bs)[idx])
    return np.array(points)


def loss_surface(network, x, y, names: Sequence[str], u: np.ndarray, v: np.ndarray, l2: float = 0.0) -> np.ndarray:
    """The loss over all of (x, y) with parameter ``names[0]`` = u[j], ``names[1]`` = v[i],
    every other parameter held at ``network``'s value. Returns (len(v), len(u)).

    Each height is the core's forward pass and loss (:meth:`Network.evaluate`), plus L2's
    (λ/2)·Σ_l ‖W_l‖² (:func:`deltarule.regularization.penalty`) when ``l2``: the loss the
    optimizer descends.
    """
    from .regularization import penalty

    i, j = (parameter_index(network, n) for n in names)
    base = network.parameters()
    out = np.empty((len(v), len(u)))
    for r, b in enumerate(v):
        for c, a in enumerate(u):
            vec = base.copy()
            vec[i], vec[j] = a, b
            net = network.with_parameters(vec)
            out[r, c] = net.evaluate(x, y) + penalty([lay.W for lay in net.layers], l2)
    return out


def limits(paths: Mapping[str, np.ndarray], margin: float = 0.35, least: float = 0.5):
    """(low, high) corners of a window around every finite point of the paths."""
    pts = np.vstack([p[np.isfinite(p).all(axis=1)] for p in paths.values()])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mid, half = (lo + hi) / 2, np.maximum((hi - lo) * (0.5 + margin), least / 2)
    return mid - half, mid + half


@dataclass(frozen=True)
class Surface:
    """The loss over a grid of two parameters: ``loss`` (len(v), len(u)), and what it is."""

    u: np.ndarray
    v: np.ndarray
    loss: np.ndarray
    names: tuple[str, str]
    label: str  # "loss (half_sse, mean)", for the colour bar


def surface(network, x, y, names: Sequence[str], paths: Mapping[str, np.ndarray], *,
            resolution: int = 81, window=None, l2: float = 0.0) -> Surface:
    """The loss over a ``resolution`` x ``resolution`` grid around the paths (or ``window``,
    a (low, high) pair of corners), the other parameters held at ``network``'s values; with
    ``l2`` the L2 penalty is in every height (as in training's loss)."""
    lo, hi = window if window is not None else limits(paths)
    u, v = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    return Surface(u, v, loss_surface(network, x, y, names, u, v, l2), (names[0], names[1]),
                   f"loss ({network.loss.name}, {network.reduction}{f', + L2 λ = {l2:g}' if l2 else ''})")


@dataclass(frozen=True)
class Boundary:
    """The network's outputs over a grid of the plane: ``out`` (len(v) * len(u), K), row-major
    over (v, u) as ``np.meshgrid(u, v)`` lays the points out."""

    u: np.ndarray
    v: np.ndarray
    out: np.ndarray


def boundary(network, x, *, resolution: int = 200) -> Boundary:
    """The outputs of a two-input network over the data's box, padded by 15 % (at least 0.25)."""
    if network.sizes[0] != 2:
        raise ValueError(f"a decision boundary needs a network of two inputs, this one has {network.sizes[0]}")
    x = np.asarray(x, dtype=float)
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((hi - lo) * 0.15, 0.25)
    u = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    v = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    U, V = np.meshgrid(u, v)
    return Boundary(u, v, network.predict(np.column_stack([U.ravel(), V.ravel()])))
