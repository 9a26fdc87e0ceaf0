"""The network part of a problem or model file: ``layers``, ``loss``, ``reduction``, ``dtype``.

``parse_network(doc)`` validates it field by field (every error an :class:`InputError` at its
path) and builds the :class:`~deltarule.network.Network`; ``check_output_loss`` refuses a loss
the output layer cannot feed. Used by problem files, saved models and checkpoints alike; it
imports no training, problem or data module.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import activations as _act
from . import losses as _loss
from .errors import InputError
from .fields import _kind, _show, boolean, choice, gib, integer, mapping, matrix, plain, vector
from .limits import MAX_PARAMETERS
from .network import DTYPES, Layer, Network

LAYER_FIELDS = ("weights", "biases", "activation", "units", "init", "inputs",
                "train_weights", "train_biases")
INITS = ("xavier", "he", "uniform", "zeros")


def _layer(spec: Any, l: int, fan_in: int | None, rng_seed: int, rng: list, room: int) -> Layer:
    path = f"layers[{l + 1}]"  # 1-based, as the notes number layers: layers[2] holds W2, b2
    spec = mapping(spec, path, LAYER_FIELDS)
    if "activation" not in spec:
        raise InputError(f"missing field 'activation' ({', '.join(_act.ACTIVATIONS)})", path)
    act_names = (*_act.ACTIVATIONS, *_act.ALIASES)
    activation = _act.get(choice(spec["activation"], f"{path}.activation", act_names))
    if "weights" in spec:
        W, b = _given_weights(spec, path, fan_in)
    elif "units" in spec:
        W, b = _drawn_weights(spec, path, fan_in, room, rng, rng_seed)
    else:
        raise InputError("missing field 'weights' (or 'units' with 'init')", path)
    flags = {k: boolean(spec[k], f"{path}.{k}") for k in ("train_weights", "train_biases") if k in spec}
    return Layer(W, b, activation, **flags)


def _given_weights(spec: dict, path: str, fan_in: int | None) -> tuple[np.ndarray, np.ndarray]:
    """W (units x fan_in) and b (units,) written in the file."""
    for bad in ("units", "init"):
        if bad in spec:
            raise InputError("give either weights and biases, or units and init, not both", f"{path}.{bad}")
    if "biases" not in spec:
        raise InputError("missing field 'biases' (one per row of weights)", path)
    b = vector(spec["biases"], f"{path}.biases")
    if len(b) == 0:
        raise InputError("expected at least one bias (one per neuron)", f"{path}.biases")
    W = matrix(spec["weights"], f"{path}.weights", rows=len(b), cols=fan_in)
    if "inputs" in spec and integer(spec["inputs"], f"{path}.inputs", 1) != W.shape[1]:
        raise InputError(f"says {spec['inputs']} inputs but the weights have {W.shape[1]} columns",
                         f"{path}.inputs")
    return W, b


def _drawn_weights(spec: dict, path: str, fan_in: int | None, room: int, rng: list,
                   rng_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """W drawn by ``init`` (units x fan_in) and b = 0, refused beyond MAX_PARAMETERS before drawing."""
    units = integer(spec["units"], f"{path}.units", 1)
    if "biases" in spec:
        raise InputError("biases without weights; give both, or units and init", f"{path}.biases")
    if fan_in is None:
        if "inputs" not in spec:
            raise InputError("the first layer needs 'inputs:' (how many inputs) when it gives units", path)
        fan_in = integer(spec["inputs"], f"{path}.inputs", 1)
    if units * fan_in > MAX_PARAMETERS:
        raise InputError(f"{_show(units)} x {_show(fan_in)} weights would need "
                         f"{gib(units * fan_in * 8)}; the limit is {MAX_PARAMETERS:,} "
                         f"parameters per layer", f"{path}.units")
    if units * (fan_in + 1) > room:
        raise InputError(f"{_show(units)} x {_show(fan_in)} more weights make the network larger "
                         f"than {MAX_PARAMETERS:,} parameters in all", f"{path}.units")
    init = choice(spec.get("init", "xavier"), f"{path}.init", INITS)
    if not rng:
        rng.append(np.random.default_rng(rng_seed))
    return _initial_weights(init, units, fan_in, rng[0]), np.zeros(units)


def _initial_weights(init: str, units: int, fan_in: int, rng: np.random.Generator) -> np.ndarray:
    """xavier: U(±sqrt(6/(fan_in+units))); he: N(0, 2/fan_in); uniform: U(-1, 1); zeros."""
    if init == "xavier":
        limit = math.sqrt(6.0 / (fan_in + units))
        return rng.uniform(-limit, limit, size=(units, fan_in))
    if init == "he":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(units, fan_in))
    if init == "uniform":
        return rng.uniform(-1.0, 1.0, size=(units, fan_in))
    return np.zeros((units, fan_in))


def parse_network(doc: dict, seed: int = 0) -> Network:
    """The network part of a problem document (layers, loss, reduction, dtype)."""
    layers_spec = plain(doc.get("layers"))
    if layers_spec is None:
        raise InputError("missing field 'layers' (a list of layers)", "layers")
    if not isinstance(layers_spec, list) or not layers_spec:
        raise InputError(f"expected a non-empty list of layers, got {_kind(layers_spec)}", "layers")
    layers, fan_in, rng, total = [], None, [], 0
    for l, spec in enumerate(layers_spec):
        layer = _layer(spec, l, fan_in, seed, rng, MAX_PARAMETERS - total)
        layers.append(layer)
        fan_in = layer.units
        total += layer.W.size + layer.units
    if "loss" not in doc:
        raise InputError(f"missing field 'loss' ({', '.join(_loss.LOSSES)})", "loss")
    loss = _loss.get(choice(doc["loss"], "loss", tuple(_loss.LOSSES)))
    reduction = choice(doc.get("reduction", "mean"), "reduction", _loss.REDUCTIONS)
    dtype = choice(doc.get("dtype", "float64"), "dtype", tuple(DTYPES))
    check_output_loss(layers, loss)
    for l, layer in enumerate(layers):
        fits(layer.W, dtype, f"layers[{l + 1}].weights")
        fits(layer.b, dtype, f"layers[{l + 1}].biases")
    return Network(tuple(layers), loss, reduction).astype(dtype)


def fits(values: Any, dtype: Any, path: str) -> None:
    """Refuse finite numbers that ``dtype`` cannot hold (a weight of 1e39 is inf in float32)."""
    dt = np.dtype(DTYPES.get(dtype, dtype))
    a = np.asarray(values, dtype=np.float64)
    if dt.itemsize >= 8 or a.size == 0:
        return
    big = float(np.abs(a).max())
    if big > float(np.finfo(dt).max):
        raise InputError(f"{big:.4g} does not fit in {dt.name} (at most {float(np.finfo(dt).max):.4g}; "
                         f"use dtype: float64)", path)


def check_output_loss(layers, loss) -> None:
    """Refuse a loss that the output layer cannot feed (InputError on field ``loss``): the output
    activation's range (``Activation.outputs``) must be one the loss takes (``Loss.needs_outputs``)."""
    out = layers[-1].activation
    if loss.accepts_output(out):
        return
    # ln(yhat) needs outputs in (0, 1) (bce), a distribution over the classes (cross_entropy):
    # anything else gives a meaningless loss. Name the output activations that would fit.
    fitting = " or ".join(a.name for a in _act.ACTIVATIONS.values() if loss.accepts_output(a))
    need = f"a {fitting} output layer"
    if "unit" in loss.needs_outputs:
        need = f"outputs between 0 and 1 ({need})"
    raise InputError(f"{loss.name} needs {need}, but layers[{len(layers)}] is {out.name}", "loss")
