"""The schedule of gradient descent: method, batch size, epochs, order (a leaf: imports only numpy).

``batch`` takes all n examples per update, ``stochastic`` one, ``minibatch`` takes
``batch_size`` (the last batch of an epoch holds the remainder and is used). Examples
are taken in file order unless ``shuffle`` is set, when each epoch's order comes from
``numpy.random.default_rng(seed)`` — the same seed gives the same run, bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

Array = np.ndarray
METHODS = ("batch", "minibatch", "stochastic")
JOURNAL_LOSSES = ("epoch", "running", "batch")


@dataclass(frozen=True)
class Schedule:
    """How examples are grouped into updates: method, batch size, epochs, order.

    ``batch``: one update per epoch on all n examples; ``minibatch``: ``batch_size``
    examples per update, the last batch of an epoch holding the remainder; ``stochastic``:
    one example per update. ``shuffle`` draws each epoch's order from ``seed``.

    >>> from deltarule import Schedule
    >>> s = Schedule("minibatch", batch_size=4, epochs=3)
    >>> s.size(10), [(b.start, b.stop) for b in s.epoch_batches(10, None)]
    (4, [(0, 4), (4, 8), (8, 10)])
    """

    method: str = "batch"
    batch_size: int | None = None
    epochs: int = 1
    shuffle: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.method == "minibatch" and not self.batch_size:
            raise ValueError("minibatch needs a batch_size")

    def size(self, n: int) -> int:
        """Examples per update for a data set of n examples."""
        return {"batch": n, "stochastic": 1}.get(self.method) or min(int(self.batch_size), n)

    def epoch_batches(self, n: int, rng: np.random.Generator | None) -> Iterator[Array | slice]:
        """The batches of one epoch: slices in file order, index arrays when shuffled."""
        size = self.size(n)
        if self.shuffle:
            order = rng.permutation(n)
            for s in range(0, n, size):
                yield order[s:s + size]
        else:
            for s in range(0, n, size):
                yield slice(s, min(s + size, n))  # a view: no copy of the data

    def rng(self) -> np.random.Generator | None:
        """The generator of the shuffled order (``default_rng(seed)``); None in file order."""
        return np.random.default_rng(self.seed) if self.shuffle else None
