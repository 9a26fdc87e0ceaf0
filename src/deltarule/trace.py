"""The immutable record of a pass: every z, a, f'(z), dL_da, delta, dW, db, and of an update.

Renderers, the checker and the JSON output only *read* these objects: they hold every
number a worked solution prints (the local slopes f'(z), each example's loss and, for an
update, each example's own gradient and the pass with the new parameters), all computed
once by :mod:`deltarule.network`; nothing here computes a gradient. All arrays are read-only views. Layers are 1-based in names
(``z1``, ``delta2``, ``W1_new``) as in the notes, 0-based in the ``layers`` tuple.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .params import flatten

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

Array = np.ndarray

PER_EXAMPLE = ("z", "a", "dL_da", "delta")
LAYER_FIELDS = ("W", "b", *PER_EXAMPLE, "dW", "db")
EXAMPLE_GRADIENTS_MAX = 1 << 16  # numbers: per-example gradients kept up to n x P of this


def frozen(x: Array) -> Array:
    """A read-only view of ``x`` (the trace must not change under a reader)."""
    v = np.asarray(x).view()
    v.flags.writeable = False
    return v



@dataclass(frozen=True)
class LayerTrace:
    """One weight layer l of one pass over a batch of n examples.

    Shapes: W (units, fan_in), b (units,); z, a, dL_da, delta (n, units), one row per
    example; dW (units, fan_in) = sum_i delta[i] a_prev[i]^T = delta^T a_prev; db (units,).
    dL_da and delta are derivatives of the *batch* loss (they carry 1/n under ``mean``).
    fprime (n, units) is the activation's ``derivative(z, a)``, f'(z) elementwise (for
    softmax the diagonal of its Jacobian, da_k/dz_k); None only in a trace built by hand.
    """

    W: Array
    b: Array
    z: Array
    a: Array
    dL_da: Array
    delta: Array
    dW: Array
    db: Array
    fprime: Array | None = None


@dataclass(frozen=True)
class Trace:
    """A forward and backward pass of ``network`` over inputs x (n, d) and targets y (n, K).

    ``layers`` holds one :class:`LayerTrace` per weight layer (0-based here, ``z1`` is
    ``layers[0].z``); ``per_example_loss`` is (n,); ``loss`` is the batch loss, reduced
    as the network says.

    >>> import deltarule as dr
    >>> p = dr.load_problem("seed-002")
    >>> t = p.network.trace(p.x, p.y)
    >>> t.yhat.round(4).tolist(), t.layers[1].delta.round(5).tolist(), t.layers[0].dW.shape
    ([[0.7514]], [[0.04696]], (2, 2))
    """

    network: "Network"
    x: Array
    y: Array
    layers: tuple[LayerTrace, ...]
    per_example_loss: Array
    loss: float

    def gradient(self) -> Array:
        """dW1, db1, dW2, db2, ... as one vector, in the order of the network's parameters."""
        return flatten([lt.dW for lt in self.layers], [lt.db for lt in self.layers])

    @property
    def yhat(self) -> Array:
        """The network's output a_L, (n, K)."""
        return self.layers[-1].a


@dataclass(frozen=True)
class Step:
    """One gradient-descent update: the trace before it, the network after it.

    ``examples`` are the 0-based indices of the batch in the data; ``loss_after`` is the
    batch loss on the same examples with the updated parameters, and ``after_trace`` the
    pass that gave it (z', a' of every example). ``example_gradients`` (n, P) holds each
    example's own gradient (its loss alone, at the parameters before the update; a row is
    ordered as :meth:`Trace.gradient`) where n x P is at most ``EXAMPLE_GRADIENTS_MAX``,
    else None (a batch that large is not written out example by example).

    A step of an optimizer, a learning-rate schedule or L2 (a problem's ``optimizer:``,
    ``learning_rate_schedule:``, ``regularization:``) also carries: ``optimizer`` (the
    :class:`deltarule.optimizers.Optimizer` that took it, registry value), ``state_before`` and
    ``state`` (its state before and after, ``{"vW1": (units, fan_in), "vb1": (units,), ...,
    "t": int}``), ``hats`` (``mW1_hat``, ``sW1_hat``, ... of this step), ``lr_schedule`` and
    ``epoch`` (1-based; ``learning_rate`` is then η_e, the schedule's rate of that epoch,
    ``base_learning_rate`` the problem's η), ``l2`` (λ) with ``penalty`` and ``penalty_after``
    ((λ/2)·Σ_l ‖W_l‖², weights only, before and after the update) and ``dW_l2`` (dW_l + λ W_l per
    layer, what the optimizer used; None when λ = 0), ``decayed`` (AdamW: W_l − ηλW_l per layer, the
    weights its Adam step starts from; None otherwise). ``loss`` and ``loss_after`` then include
    the penalty; ``trace.loss`` and the trace's dW stay the data's. A plain step has the defaults.

    >>> import deltarule as dr
    >>> step = dr.load_problem("seed-002").steps(1)[0]
    >>> v = step.values()
    >>> step.examples, v["delta2"].round(5).tolist(), v["W2_new"].round(4).tolist()
    ((0,), [0.04696], [[0.3861, 0.436]])
    """

    examples: tuple[int, ...]
    trace: Trace
    after: "Network"
    learning_rate: float
    loss_after: float
    after_trace: Trace | None = None
    example_gradients: Array | None = None
    optimizer: Any = None
    state_before: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    hats: dict[str, Any] | None = None
    lr_schedule: Any = None
    epoch: int = 0
    base_learning_rate: float | None = None
    l2: float = 0.0
    penalty: float = 0.0
    penalty_after: float = 0.0
    dW_l2: tuple[Array, ...] | None = None
    decayed: tuple[Array, ...] | None = None

    @property
    def plain(self) -> bool:
        """True for plain gradient descent (W_new = W - η dW, constant η, no penalty): no state."""
        return self.state is None and not self.l2

    @property
    def data_loss(self) -> float:
        """The batch loss before the update without the L2 penalty (the trace's)."""
        return self.trace.loss

    @property
    def before(self) -> "Network":
        """The network before the update (the one the trace was taken with)."""
        return self.trace.network

    @property
    def loss(self) -> float:
        """The batch loss before the update, the L2 penalty included (data loss + (λ/2)·Σ‖W_l‖²)."""
        return self.trace.loss + self.penalty if self.l2 else self.trace.loss

    def gradients(self) -> list[tuple[Array, Array]]:
        """``[(dW_l, db_l)]`` the update used: dW_l includes λ W_l under L2 (shapes of W_l, b_l)."""
        dWs = self.dW_l2 if self.dW_l2 is not None else [lt.dW for lt in self.trace.layers]
        return [(dW, lt.db) for dW, lt in zip(dWs, self.trace.layers)]

    def values(self) -> dict[str, Any]:
        """Every number of this update under its canonical name (``z1``, ``W2_new``, ...).

        Per-example quantities of a one-example update are given as vectors (``z1`` is
        (units,)); for a batch they stay (n, units). An optimizer's step adds its state after
        the update (``vW1``, ``mb2``, ``sW1``, ...), the bias-corrected ``mW1_hat``, ... and ``t``;
        under L2, ``dW{l}`` is dW_l + λ W_l and ``loss``, ``loss_after`` include the penalty.
        """
        out: dict[str, Any] = {"loss": self.loss, "loss_after": self.loss_after}
        single = len(self.examples) == 1
        for l, (lt, new) in enumerate(zip(self.trace.layers, self.after.layers), start=1):
            for name in LAYER_FIELDS:
                v = getattr(lt, name)
                out[f"{name}{l}"] = v[0] if single and name in PER_EXAMPLE else v
            if self.dW_l2 is not None:
                out[f"dW{l}"] = self.dW_l2[l - 1]
            out[f"W{l}_new"] = new.W
            out[f"b{l}_new"] = new.b
        out["a0"] = self.trace.x[0] if single else self.trace.x
        out.update(self.state or {})
        out.update(self.hats or {})
        return out

    def to_json(self) -> dict[str, Any]:
        """This update as the contract's JSON object (full precision, lists of rows)."""
        layers = []
        for l, (lt, new) in enumerate(zip(self.trace.layers, self.after.layers), start=1):
            d = {name: getattr(lt, name).tolist() for name in LAYER_FIELDS}
            if self.dW_l2 is not None:
                d["dW"] = self.dW_l2[l - 1].tolist()
            d["W_new"] = new.W.tolist()
            d["b_new"] = new.b.tolist()
            if self.decayed is not None:
                d["W_decayed"] = self.decayed[l - 1].tolist()
            d.update(self._layer_state(l))
            layers.append(d)
        out = {"examples": list(self.examples), "loss": self.loss,
               "loss_after": self.loss_after, "layers": layers}
        return out if self.plain else {**out, **self._optimization_json()}

    def _layer_state(self, l: int) -> dict[str, Any]:
        """Layer l's state after the update and its ``_hat`` values, named without the layer:
        ``{"vW": ..., "vb": ..., "mW_hat": ...}`` (empty for a plain step)."""
        out = {}
        for source in (self.state or {}, self.hats or {}):
            for name, value in source.items():
                base, _, hat = name.partition("_")
                if name != "t" and base[2:] == str(l):
                    out[base[:2] + ("_" + hat if hat else "")] = np.asarray(value).tolist()
        return out

    def _optimization_json(self) -> dict[str, Any]:
        """The top-level fields of a non-plain step: optimizer, schedule, rates, t, L2, penalty."""
        return {"optimizer": None if self.optimizer is None else self.optimizer.settings(),
                "learning_rate_schedule": None if self.lr_schedule is None else self.lr_schedule.settings(),
                "epoch": self.epoch, "learning_rate": self.learning_rate,
                "base_learning_rate": self.base_learning_rate,
                "t": None if self.state is None else self.state["t"],
                "l2": self.l2, "penalty": self.penalty, "penalty_after": self.penalty_after,
                "data_loss": self.data_loss}
