"""The limits: what deltarule refuses before allocating or starting, with the estimate in the message.

* at most ``MAX_PARAMETERS`` (2·10^8) weights per layer and in the whole network (1.6 GB);
* training at most ``MAX_UPDATES`` (10^9) updates (epochs × updates per epoch) and at most
  ``MAX_WORK`` (10^14) multiply-adds, estimated as epochs × 4 × examples × weights (forward,
  backward, weight gradient, and the journal's loss over all examples) — hours of work on
  one machine; 10^12 epochs of even a single neuron is refused;
* one batch's forward and backward values (4 arrays of batch × units per layer, float64)
  at most ``MAX_BATCH_BYTES`` (8 GiB); ``solve``'s recorded steps at most ``MAX_STEPS_BYTES``;
* files: a problem, answers, model or checkpoint document at most ``MAX_FILE_BYTES`` (64 MiB);
  data at most ``MAX_EXAMPLES_BYTES`` (4 GiB as float64), a CSV file at most
  ``MAX_CSV_BYTES`` (1 GiB of text: a value takes at least 2 bytes, so at most 4 GiB as numbers).

Sizes are checked while reading (:mod:`deltarule.reader`), never trusted from ``st_size``.
"""
from __future__ import annotations

from typing import Any

from .errors import InputError
from .fields import _plural, _show, gib

MAX_PARAMETERS = 200_000_000  # 1.6 GB of float64 parameters: refuse before allocating
MAX_UPDATES = 10**9
MAX_WORK = 10**14
MAX_BATCH_BYTES = 8 * 2**30
MAX_STEPS_BYTES = 2 * 2**30
MAX_FILE_BYTES = 64 * 2**20
MAX_EXAMPLES_BYTES = 4 * 2**30  # refuse data that would need more than 4 GiB as float64
MAX_CSV_BYTES = 1 * 2**30  # a value takes at least 2 bytes of text, so at most 4 GiB as float64


def check_size(network: Any, n: int, schedule: Any, field: str = "training.epochs") -> None:
    """Refuse training that could not finish or fit (see the module's limits), before it starts.

    updates = epochs × ceil(n / batch); work = epochs × 4 × n × weights multiply-adds;
    batch memory = 4 arrays × batch × (inputs + all units) × 8 bytes.
    """
    size = schedule.size(n) if n else 1
    per_epoch = -(-n // size) if n else 0
    updates, weights = schedule.epochs * per_epoch, sum(lay.W.size for lay in network.layers)
    work = schedule.epochs * 4 * n * max(weights, 1)
    if updates > MAX_UPDATES:
        raise InputError(f"{_show(schedule.epochs)} epochs of {_plural(per_epoch, 'update')} = {_show(updates)} "
                         f"updates; the limit is {MAX_UPDATES:.0e} updates", field)
    if work > MAX_WORK:
        raise InputError(f"{_show(schedule.epochs)} epochs x {n:,} examples x {weights:,} weights is about "
                         f"{_show(work)} multiply-adds; the limit is {MAX_WORK:.0e}", field)
    batch_bytes = 4 * size * sum(network.sizes) * 8
    if batch_bytes > MAX_BATCH_BYTES:
        raise InputError(f"a batch of {size:,} examples through {sum(network.sizes):,} units needs about "
                         f"{gib(batch_bytes)}; the limit is {MAX_BATCH_BYTES / 2**30:.0f} GiB "
                         f"(use minibatch with a smaller batch_size)", "training.batch_size")


def check_steps(count: int, per_step: int, file: str) -> None:
    """Refuse ``count`` recorded steps of ``per_step`` bytes beyond ``MAX_STEPS_BYTES``."""
    if count * per_step > MAX_STEPS_BYTES:
        raise InputError(f"{_show(count)} steps of about {per_step:,} bytes each would need "
                         f"{gib(count * per_step)}; the limit is "
                         f"{MAX_STEPS_BYTES / 2**30:.0f} GiB (ask for fewer steps)", "--steps", file)
