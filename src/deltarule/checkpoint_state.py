"""A checkpoint's optimizer fields, read and validated: ``optimization`` (the run's problem-file
settings: optimizer, learning_rate_schedule, regularization) and ``optimizer_state`` (``vW1``,
``mb2``, ``sW1``, ..., ``t``: every name the optimizer keeps, each of its parameter's shape, finite,
``t`` a whole number >= 0 equal to the updates). Plain-descent checkpoints have neither field.
Every refusal is one :class:`~deltarule.errors.InputError` at its field.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import optimization as _optimization
from .errors import InputError
from .fields import integer, mapping, matrix, vector
from .network import Network
from .optimizers import SGD

FIELDS = ("optimization", "optimizer_state")


def read(doc: dict, network: Network) -> tuple[dict | None, dict | None, bool]:
    """``(settings or None, state or None, has_rate_column)`` from a checkpoint header."""
    present = [f for f in FIELDS if f in doc]
    if not present:
        return None, None, False
    if len(present) == 1:
        missing = FIELDS[1 - FIELDS.index(present[0])]
        raise InputError(f"missing beside {present[0]!r}", missing)
    spec = mapping(doc["optimization"], "optimization", _optimization.FIELDS)
    try:
        opt = _optimization.parse(spec)
    except InputError as e:
        raise InputError(e.message, f"optimization.{e.field}") from None
    sched = opt.lr_schedule
    return opt.settings(), _state(doc["optimizer_state"], opt.optimizer or SGD(), network), \
        sched is not None and sched.name != "constant"


def _state(v: Any, optimizer, network: Network) -> dict:
    """The state's names exactly the optimizer's, each array of its parameter's shape and dtype."""
    names = optimizer.state_names(len(network.layers))
    v = mapping(v, "optimizer_state", tuple(names))
    for name in names:
        if name not in v:
            raise InputError(f"missing ({optimizer.name} keeps {', '.join(names)})", f"optimizer_state.{name}")
    state: dict[str, Any] = {"t": integer(v["t"], "optimizer_state.t", 0)}
    for name in names[:-1]:
        l = int(name[2:]) - 1
        lay, path = network.layers[l], f"optimizer_state.{name}"
        if name[1] == "W":
            arr = matrix(v[name], path, *lay.W.shape)
        else:
            arr = vector(v[name], path, len(lay.b))
        if name[0] == "s" and (np.asarray(arr) < 0).any():  # a mean of squares: negative makes sqrt NaN
            raise InputError("a second moment must be >= 0", path)
        state[name] = np.asarray(arr, network.dtype)
    return state


def check_steps(state: dict | None, updates: int) -> None:
    """``t`` counts every update of the run."""
    if state is not None and state["t"] != updates:
        raise InputError(f"the step count {state['t']} is not the checkpoint's {updates} updates",
                         "optimizer_state.t")
