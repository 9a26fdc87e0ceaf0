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

from . import activations, losses
from .check import check
from .errors import InputError
from .solution import Solution, solve
from .gradcheck import gradcheck
from .network import Layer, Network
from .problem import Problem, load_network, load_problem, parse_problem
from .trace import LayerTrace, Step, Trace
from .training import Diverged, Interrupted, Journal, Schedule, TrainResult, steps, train
from .checkpoint import Checkpoint
from .checkpoint_load import load_checkpoint
from .torch_bridge import from_torch, to_torch, torch_loss  # also attaches net.to_torch() etc.

__version__ = "0.1.0"

__all__ = [
    "activations", "losses", "InputError", "Layer", "Network", "Problem", "load_problem",
    "load_network", "parse_problem", "LayerTrace", "Step", "Trace", "Diverged", "Journal",
    "Schedule", "TrainResult", "steps", "train", "__version__", "Solution", "solve",
    "check", "gradcheck", "Interrupted", "Checkpoint", "load_checkpoint", "to_torch", "torch_loss",
    "from_torch",
]
