"""deltarule — backpropagation you can see, check and trust.

The forward pass, the loss, the delta rule backwards and gradient descent (batch,
mini-batch, stochastic) for feedforward networks, with every number of a pass kept in an
immutable trace::

    >>> import deltarule as dr
    >>> p = dr.load_problem("seed-002")          # a file, or a built-in example
    >>> step = p.steps(1)[0]
    >>> round(step.loss, 5), round(step.loss_after, 5)
    (0.03159, 0.0297)
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types

from . import activations, losses
from .errors import InputError
from .network import Layer, Network
from .torch_bridge import from_torch, to_torch, torch_loss  # also attaches net.to_torch() etc.

__version__ = "0.1.0"

# the rest of the API is imported on first use (PEP 562): `import deltarule` costs numpy and the
# core, not the checker, the problem reader (YAML), the worked solutions or the training driver
_LAZY = {
    "check": "check", "Solution": "solution", "solve": "solution", "gradcheck": "gradcheck",
    "Problem": "problem", "load_network": "problem", "load_problem": "problem", "parse_problem": "problem",
    "LayerTrace": "trace", "Step": "trace", "Trace": "trace", "Checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint_load",
    **dict.fromkeys(("Diverged", "Interrupted", "Journal", "Schedule", "TrainResult", "steps", "train"),
                    "training"),
}

__all__ = [
    "activations", "losses", "InputError", "Layer", "Network", "Problem", "load_problem",
    "load_network", "parse_problem", "LayerTrace", "Step", "Trace", "Diverged", "Journal",
    "Schedule", "TrainResult", "steps", "train", "__version__", "Solution", "solve",
    "check", "gradcheck", "Interrupted", "Checkpoint", "load_checkpoint", "to_torch", "torch_loss",
    "from_torch",
]


def _lazy(name: str):
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


def __getattr__(name: str):
    if name in _LAZY:
        value = globals()[name] = _lazy(name)
        return value
    if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f".{name}", __name__)  # dr.training.generic, dr.metrics...
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """``check`` and ``gradcheck`` are functions named as their modules: importing such a module
    (here on first use, or anywhere) sets the package's attribute to the module, so these two
    names are properties that always give the function and ignore that assignment."""

    check = property(lambda self: _lazy("check"), lambda self, module: None)
    gradcheck = property(lambda self: _lazy("gradcheck"), lambda self, module: None)


sys.modules[__name__].__class__ = _Package
