"""Gradient descent — batch, mini-batch and stochastic are one loop over batch sizes.

``batch`` takes all n examples per update, ``stochastic`` one, ``minibatch`` takes
``batch_size`` (the last batch of an epoch holds the remainder and is used). Examples
are taken in file order unless ``shuffle`` is set, when each epoch's order comes from
``numpy.random.default_rng(seed)`` — the same seed gives the same run, bit for bit.

The package: :mod:`~deltarule.training.run` (``train``: picks the engine),
:mod:`~deltarule.training.driver` (the bookkeeping every engine shares: journal, hooks,
checkpoints, divergence, Ctrl-C), :mod:`~deltarule.training.loop` (the generic loop, the reference, and
``steps`` for worked solutions). The types live in :mod:`deltarule.schedule` and
:mod:`deltarule.results`, and are re-exported here.
"""
from __future__ import annotations

from ..results import Diverged, EpochEnd, Interrupted, Journal, TrainResult
from ..schedule import JOURNAL_LOSSES, METHODS, Schedule
from .loop import steps
from .run import ENGINES, generic, train

__all__ = ["Schedule", "METHODS", "JOURNAL_LOSSES", "Journal", "TrainResult", "Diverged", "Interrupted",
           "EpochEnd", "train", "generic", "steps", "ENGINES"]
