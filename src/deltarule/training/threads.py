"""The thread policy of a training run: small matrix products on one BLAS thread, large ones on
all cores, chosen once per run from the size of its largest product.

OpenBLAS splits a product over its threads from about 65,000 multiply-adds on; below a few
hundred million the split costs more than it saves (the threads wake, wait for each other and,
on a busy machine, for a core), and a training run does thousands of such products. Measured on
the 2-core AMD EPYC of the benchmarks (OpenBLAS 0.3.31, float64, load average 4, best of 5,
wall time of one ``np.matmul``; rows x fan_in x units = multiply-adds):

=====================  ==========  ==========  ============
product                1 thread    2 threads   2 / 1
=====================  ==========  ==========  ============
32 x 64 x 32           7.9 us      7.2 us      0.92 (OpenBLAS keeps it on one thread)
1437 x 64 x 32         273 us      6,502 us    23.8 (digits' journal pass)
128 x 784 x 256        2.3 ms      61 ms       26.2 (W4's step)
512 x 512 x 512        13 ms       38 ms       2.90
1024 x 1024 x 1024     86 ms       121 ms      1.40
8192 x 784 x 256       152 ms      115 ms      0.76 (W4's journal pass, 1.6e9)
=====================  ==========  ==========  ============

Two threads won only from about 1.5e9 multiply-adds, and not every time: so a run goes on one
thread unless its step's product reaches LARGE_WORK. The step decides, not the journal's
whole-data pass: W4's pass (8192 x 784 x 256) gains 0.76x on two threads once an epoch, but its
469 steps (128 x 784 x 256) would each lose 26x (measured again on 2026-12-01, load 5: 1.9 ms
one thread, 36 ms two, wall); the pass runs on the step's thread count. ``--backend torch`` follows the same rule
with ``torch.set_num_threads`` (digits: 25 s with PyTorch's default threads, 2.5 s with one).
One thread changes no number: the products are split by rows and columns of the output, never
along the sum, so each element is the same sum in the same order.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

LARGE_WORK = 1_500_000_000  # multiply-adds of one product from which all cores are worth it (above)
# below this OpenBLAS runs a product on one thread whatever its setting (its thresholds in
# interface/gemv.c and gemm.c are 9,216 and 262,144 multiply-adds): a run of such products (W1, W2,
# the seeds) skips the policy, whose scan of the loaded libraries (~0.5 ms) was 5% of a W1 run
SPLIT_WORK = 8192
EVAL_ROWS = 8192  # rows of the journal's whole-data passes (fast.EVAL_ROWS)


def largest_product(sizes: tuple[int, ...], batch: int, n: int) -> int:
    """Multiply-adds of the run's largest step product: batch rows (at most n) x fan_in x units
    over the layers (the journal's whole-data pass follows the steps: see above)."""
    rows = min(batch, n)
    return max((rows * fan * units for fan, units in zip(sizes, sizes[1:])), default=0)


def widest_product(sizes: tuple[int, ...], batch: int, n: int) -> int:
    """Multiply-adds of the run's largest product of any kind: the steps' or a whole-data pass's
    slice (min(n, EVAL_ROWS) rows), whichever is larger."""
    return largest_product(sizes, max(batch, min(n, EVAL_ROWS)), max(batch, min(n, EVAL_ROWS)))


def threads_for(sizes: tuple[int, ...], batch: int, n: int) -> int | None:
    """1 for a run of small step products; None (leave the thread count as it is: all cores, or
    what the user set) for one whose largest step product reaches LARGE_WORK."""
    return 1 if largest_product(sizes, batch, n) < LARGE_WORK else None


@contextmanager
def policy(sizes: tuple[int, ...], batch: int, n: int) -> Iterator[int | None]:
    """Within the block, BLAS runs on :func:`threads_for`'s thread count (restored after); for a
    run whose products are all under SPLIT_WORK, which BLAS never splits, nothing is changed."""
    threads = threads_for(sizes, batch, n)
    if threads is None:
        yield None
        return
    if widest_product(sizes, batch, n) < SPLIT_WORK:  # one thread already
        yield threads
        return
    from threadpoolctl import ThreadpoolController

    # a fresh scan of the loaded libraries each run (about 0.2 ms): a BLAS loaded since (scipy's,
    # torch's) is limited too
    with ThreadpoolController().limit(limits=threads, user_api="blas"):
        yield threads


@contextmanager
def torch_policy(torch, sizes: tuple[int, ...], batch: int, n: int) -> Iterator[int | None]:
    """:func:`policy` for PyTorch's intra-op threads (``torch.set_num_threads``, restored after)."""
    threads = threads_for(sizes, batch, n)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if threads is not None:
            torch.set_num_threads(before)
