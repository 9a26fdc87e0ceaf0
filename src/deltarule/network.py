"""Dense layers and networks: the forward pass and the delta rule backwards.

For a batch of n examples stored as rows (x is (n, d)), layer l computes

    z_l = a_{l-1} W_l^T + b_l            (n, units_l)      -- z_l = W_l a_{l-1} + b_l per example
    a_l = f_l(z_l)

and the backward pass, from delta_L given by the loss, runs

    dW_l      = delta_l^T a_{l-1}         (units_l, units_{l-1})   -- sum_i delta_l[i] a_{l-1}[i]^T
    db_l      = sum_i delta_l[i]          (units_l,)
    dL_da_l-1 = delta_l W_l               (n, units_{l-1})         -- W_l^T delta_l per example
    delta_l-1 = f'_{l-1}(z_{l-1}) * dL_da_l-1

one matrix product per layer per direction, no loop over examples or units.
Layers and networks are immutable: an update returns a new network.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from . import activations as _act
from . import losses as _loss
from .activations import Activation
from .losses import Loss
from . import params as _params
from .params import flatten
from .trace import EXAMPLE_GRADIENTS_MAX, LayerTrace, Step, Trace, frozen

Array = np.ndarray
DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass(frozen=True)
class Layer:
    """A dense layer: W (units × units of the layer before, one row per neuron), b (units,).

    ``train_weights`` / ``train_biases`` False freeze those parameters: their gradients
    are still computed and reported, but an update leaves them as they are.
    ``activation`` is an :class:`~deltarule.activations.Activation` or its name.

    >>> from deltarule import Layer
    >>> hidden = Layer([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35], "sigmoid")
    >>> hidden, hidden.units, hidden.fan_in
    (Layer(2->2, sigmoid), 2, 2)
    """

    W: Array
    b: Array
    activation: Activation = _act.sigmoid
    train_weights: bool = True
    train_biases: bool = True

    def __post_init__(self) -> None:
        W = np.asarray(self.W)
        if not np.issubdtype(W.dtype, np.floating):
            W = W.astype(np.float64)
        b = np.asarray(self.b, dtype=W.dtype)
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"Layer: W must be (units, fan_in) and b (units,), got {W.shape} and {b.shape}")
        if isinstance(self.activation, str):
            object.__setattr__(self, "activation", _act.get(self.activation))
        object.__setattr__(self, "W", frozen(W))
        object.__setattr__(self, "b", frozen(b))

    @property
    def units(self) -> int:
        """Neurons in this layer: the rows of W."""
        return self.W.shape[0]

    @property
    def fan_in(self) -> int:
        """Inputs to this layer: the columns of W (the units of the layer before)."""
        return self.W.shape[1]

    def __repr__(self) -> str:
        return f"Layer({self.fan_in}->{self.units}, {self.activation.name})"


# -- the numeric core, on plain arrays (shared by Network and the training loop) --------
def forward_arrays(Ws: Sequence[Array], bs: Sequence[Array], acts: Sequence[Activation],
                   x: Array) -> tuple[list[Array], list[Array]]:
    """z_l and a_l for every layer; x is (n, d). Returns (zs, as_), each one array per layer."""
    zs, as_ = [], []
    a = x
    for W, b, f in zip(Ws, bs, acts):
        z = a @ W.T + b
        a = f.value(z)
        zs.append(z)
        as_.append(a)
    return zs, as_


def backward_arrays(Ws: Sequence[Array], acts: Sequence[Activation], loss: Loss, reduction: str,
                    x: Array, y: Array, zs: Sequence[Array], as_: Sequence[Array]):
    """The delta rule. Returns (per_example_loss, dL_das, deltas, dWs, dbs), lists per layer."""
    L = len(Ws)
    per_example, dL_da, delta = _loss.output_layer(loss, acts[-1], zs[-1], as_[-1], y, reduction)
    dL_das, deltas, dWs, dbs = [None] * L, [None] * L, [None] * L, [None] * L
    for l in range(L - 1, -1, -1):
        a_prev = as_[l - 1] if l > 0 else x
        dL_das[l], deltas[l] = dL_da, delta
        dWs[l] = delta.T @ a_prev
        dbs[l] = delta.sum(axis=0)
        if l > 0:
            dL_da = delta @ Ws[l]
            delta = acts[l - 1].backward(dL_da, zs[l - 1], as_[l - 1])
    return per_example, dL_das, deltas, dWs, dbs


@dataclass(frozen=True)
class Network:
    """A feedforward network: layers, a loss convention and a batch reduction.

    ``loss`` is a :class:`~deltarule.losses.Loss` or its name (``half_sse``, ``sse``, ...);
    ``reduction`` (``mean`` or ``sum``) makes the batch loss from the per-example losses.
    Examples are rows: inputs x (n, d) give outputs (n, K). Immutable: an update returns a
    new network.

    >>> from deltarule import Layer, Network
    >>> net = Network((Layer([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35], "sigmoid"),
    ...                Layer([[0.40, 0.45]], [0.60], "sigmoid")), loss="half_sse")
    >>> net.sizes, net.predict([[0.05, 0.10]]).round(4)
    ((2, 2, 1), array([[0.7514]]))
    >>> step = net.step([[0.05, 0.10]], [[0.5]], learning_rate=0.5)      # seed 002
    >>> round(step.loss, 5), round(step.loss_after, 5), step.after.layers[1].W.round(4).tolist()
    (0.03159, 0.0297, [[0.3861, 0.436]])
    """

    layers: tuple[Layer, ...]
    loss: Loss = _loss.half_sse
    reduction: str = "mean"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if isinstance(self.loss, str):
            object.__setattr__(self, "loss", _loss.get(self.loss))
        if self.reduction not in _loss.REDUCTIONS:
            raise ValueError(f"reduction must be one of {_loss.REDUCTIONS}")
        for i, (prev, cur) in enumerate(zip(self.layers, self.layers[1:]), start=2):
            if cur.fan_in != prev.units:
                raise ValueError(f"layer {i} takes {cur.fan_in} inputs but layer {i - 1} has {prev.units} units")

    # -- shapes ----------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        """The floating-point type of every parameter (float64, or float32 on request)."""
        return self.layers[0].W.dtype

    @property
    def sizes(self) -> tuple[int, ...]:
        """(inputs, units of layer 1, ..., units of layer L)."""
        return (self.layers[0].fan_in, *(lay.units for lay in self.layers))

    def astype(self, dtype: Any) -> "Network":
        """The same network with parameters of ``dtype`` (``"float64"``, ``"float32"`` or a numpy type)."""
        dt = np.dtype(DTYPES.get(dtype, dtype))
        return replace(self, layers=tuple(replace(lay, W=lay.W.astype(dt), b=lay.b.astype(dt))
                                          for lay in self.layers))

    def _arrays(self):
        return ([lay.W for lay in self.layers], [lay.b for lay in self.layers],
                [lay.activation for lay in self.layers])

    def _as_batch(self, x: Any) -> Array:
        x = np.asarray(x, dtype=self.dtype)
        return x.reshape(1, -1) if x.ndim == 1 else x

    # -- passes ------------------------------------------------------------------
    def predict(self, x: Any) -> Array:
        """Network output a_L for inputs x (n, d) -> (n, K)."""
        Ws, bs, acts = self._arrays()
        return forward_arrays(Ws, bs, acts, self._as_batch(x))[1][-1]

    def evaluate(self, x: Any, y: Any) -> float:
        """The batch loss over (x, y), reduced as the network says."""
        x, y = self._as_batch(x), self._as_batch(y)
        Ws, bs, acts = self._arrays()
        zs, as_ = forward_arrays(Ws, bs, acts, x)
        per_example, _, _ = _loss.output_layer(self.loss, acts[-1], zs[-1], as_[-1], y, self.reduction)
        return _loss.reduce(per_example, self.reduction)

    def trace(self, x: Any, y: Any) -> Trace:
        """Forward and backward pass over a batch: every z, a, f'(z), dL_da, delta, dW, db."""
        x, y = self._as_batch(x), self._as_batch(y)
        Ws, bs, acts = self._arrays()
        zs, as_ = forward_arrays(Ws, bs, acts, x)
        per_example, dL_das, deltas, dWs, dbs = backward_arrays(
            Ws, acts, self.loss, self.reduction, x, y, zs, as_)
        fprimes = [f.derivative(z, a) for f, z, a in zip(acts, zs, as_)]  # the slopes a solution shows
        layers = tuple(LayerTrace(*(frozen(v) for v in fields))
                       for fields in zip(Ws, bs, zs, as_, dL_das, deltas, dWs, dbs, fprimes))
        return Trace(self, frozen(x), frozen(y), layers, frozen(per_example),
                     _loss.reduce(per_example, self.reduction))

    def update(self, trace: Trace, learning_rate: float) -> "Network":
        """Gradient descent: W_new = W - eta dW, b_new = b - eta db (frozen ones stay)."""
        new = []
        for lay, lt in zip(self.layers, trace.layers):
            W = lay.W - learning_rate * lt.dW if lay.train_weights else lay.W
            b = lay.b - learning_rate * lt.db if lay.train_biases else lay.b
            new.append(replace(lay, W=W.astype(lay.W.dtype, copy=False), b=b.astype(lay.b.dtype, copy=False)))
        return replace(self, layers=tuple(new))

    def step(self, x: Any, y: Any, learning_rate: float, examples: Sequence[int] | None = None) -> Step:
        """One update on the batch (x, y): the trace, the new network, the pass after it
        (``loss_after`` is its loss) and, for a small batch, each example's own gradient."""
        tr = self.trace(x, y)
        after = self.update(tr, learning_rate)
        if examples is None:
            examples = range(len(tr.x))
        again = after.trace(tr.x, tr.y)
        return Step(tuple(int(i) for i in examples), tr, after, float(learning_rate), again.loss,
                    again, self.example_gradients(tr))

    def example_gradients(self, trace: Trace) -> Array | None:
        """Each example's own gradient, (n, P): row e is the gradient of example e's loss
        alone, ordered as :meth:`Trace.gradient` (dW1 row by row, db1, dW2, ...), so the
        batch gradient is their mean (or sum). None when n x P exceeds
        ``trace.EXAMPLE_GRADIENTS_MAX``.

        The batch's delta_l[e] is example e's own delta times 1/n under ``mean`` (the batch
        loss is the mean of the examples' losses), so its own dW_l = n delta_l[e] a_{l-1}[e]^T
        and db_l = n delta_l[e]: (n, units, fan_in) and (n, units) per layer, no second pass.
        """
        n = len(trace.x)
        if n * sum(lay.W.size + lay.units for lay in self.layers) > EXAMPLE_GRADIENTS_MAX:
            return None
        scale = n if self.reduction == "mean" else 1
        parts = []
        for l, lt in enumerate(trace.layers):
            a_prev = trace.x if l == 0 else trace.layers[l - 1].a
            own = lt.delta * scale if scale != 1 else lt.delta
            parts += [(own[:, :, None] * a_prev[:, None, :]).reshape(n, -1), own]
        return frozen(np.concatenate(parts, axis=1))

    # -- parameters by name --------------------------------------------------------
    def parameter_names(self) -> list[str]:
        """Journal column names: ``W{l}[i,j]``, ``b{l}[i]`` (1-based), or ``w``, ``b`` for
        a network of a single neuron with a single input, as the notes write it."""
        return _params.names([lay.W.shape for lay in self.layers])

    def parameters(self) -> Array:
        """All parameters as one vector, in the order of :meth:`parameter_names`."""
        return flatten([lay.W for lay in self.layers], [lay.b for lay in self.layers])

    def with_parameters(self, vector: Any) -> "Network":
        """A network of the same shape with parameters taken from ``vector``."""
        parts = _params.unflatten(np.asarray(vector, dtype=self.dtype), [lay.W.shape for lay in self.layers])
        return replace(self, layers=tuple(replace(lay, W=W, b=b) for lay, (W, b) in zip(self.layers, parts)))

    # the exit to PyTorch (to_torch, torch_loss, from_torch) is attached by deltarule.torch_bridge:
    # the core never imports it

    def with_parameter(self, name: str, value: float) -> "Network":
        """A network with the parameter called ``name`` (see :meth:`parameter_names`) set to ``value``."""
        from .errors import InputError

        names = self.parameter_names()
        if name not in names:
            raise InputError(f"no parameter {name!r}; this network has {names[0]} ... {names[-1]}", "parameter")
        vector = self.parameters().copy()
        vector[names.index(name)] = value
        return self.with_parameters(vector)

    # -- saving ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The model as a problem-file dict (no data): layers, loss, reduction, dtype."""
        layers = []
        for lay in self.layers:
            d: dict[str, Any] = {"weights": lay.W.tolist(), "biases": lay.b.tolist(),
                                 "activation": lay.activation.name}
            if not lay.train_weights:
                d["train_weights"] = False
            if not lay.train_biases:
                d["train_biases"] = False
            layers.append(d)
        return {"layers": layers, "loss": self.loss.name, "reduction": self.reduction,
                "dtype": self.dtype.name}

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.sizes))
        acts = ",".join(lay.activation.name for lay in self.layers)
        return f"Network({sizes}, {acts}, loss={self.loss.name}, reduction={self.reduction})"


# -- the chain rule along each path (read by `solve --chain` and by check's paths.* claims) -------------
@dataclass(frozen=True)
class ChainPath:
    """One path from a parameter of layer l up to the loss, for one example.

    ``units`` are its 1-based units in layers l..top; ``factors`` are (quantity, layer, index,
    value) in the order the chain writes them: ``delta`` (or ``dL_da`` and ``fprime``) at the
    top, then ``W`` (layer m+1, index (u_up, u)) and ``fprime`` (layer m, (u,)) per link down, then
    ``a`` (layer l-1, (j,); layer 0 is x) for a weight; ``value`` is their product. Summed over
    the paths and the batch's examples these give dW_l[i,j] (or db_l[i]).
    """

    units: tuple[int, ...]
    factors: tuple[tuple[str, int, tuple[int, ...], float], ...]
    value: float


def chain_top(net: "Network", l: int) -> tuple[int, bool]:
    """Where layer l's paths end (top) and whether delta tops them (else dL/da · f'(z)):
    the lowest layer above l whose activation is not elementwise (softmax), else L."""
    L = len(net.layers)
    stop = next((m for m in range(L - 1, l - 1, -1) if not net.layers[m - 1].activation.elementwise), None)
    top = stop if stop is not None else L
    out_whole = top == L and (net.layers[-1].activation.name in (net.loss.fused or {})
                              or not net.layers[-1].activation.elementwise)
    return top, stop is not None or out_whole


def chain_routes(net: "Network", l: int, i: int) -> list[tuple[int, ...]]:
    """The paths from unit i of layer l to the top (see :func:`chain_top`), as unit tuples, in order."""
    top, _ = chain_top(net, l)
    routes = [(i,)]
    for m in range(l + 1, top + 1):
        routes = [r + (u,) for r in routes for u in range(1, net.sizes[m] + 1)]
    return routes


def chain_paths(trace: Trace, param: tuple, e: int) -> tuple[ChainPath, ...]:
    """Every path for ``param`` = (kind 'W' or 'b', l, i, j or None), 1-based, for example e
    (0-based row of the trace), in the order of :func:`chain_routes`: each path's factors read
    from the trace and their product (W_l[i,j]: delta_top · W · f'(z) ... · a_{l-1}[j])."""
    kind, l, i, j = param
    top, top_delta = chain_top(trace.network, l)
    return tuple(_chain_path(trace, param, r, e, top, top_delta) for r in chain_routes(trace.network, l, i))


def _chain_path(trace: Trace, param: tuple, r: tuple, e: int, top: int, top_delta: bool) -> ChainPath:
    kind, l, _, j = param
    u_top, lt = r[-1], trace.layers[top - 1]
    f = ([("delta", top, (u_top,), lt.delta[e, u_top - 1])] if top_delta else
         [("dL_da", top, (u_top,), lt.dL_da[e, u_top - 1]), ("fprime", top, (u_top,), lt.fprime[e, u_top - 1])])
    for m in range(top - 1, l - 1, -1):  # the link from layer m+1 down to layer m
        u_up, u = r[m - l + 1], r[m - l]
        f += [("W", m + 1, (u_up, u), trace.layers[m].W[u_up - 1, u - 1]),
              ("fprime", m, (u,), trace.layers[m - 1].fprime[e, u - 1])]
    if kind == "W":
        f.append(("a", l - 1, (j,), (trace.x if l == 1 else trace.layers[l - 2].a)[e, j - 1]))
    factors = tuple((q, m, idx, float(v)) for q, m, idx, v in f)
    value = 1.0
    for *_, v in factors:
        value *= v
    return ChainPath(tuple(r), factors, value)
