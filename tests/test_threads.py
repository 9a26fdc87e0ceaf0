"""The thread policy (training/threads.py): a run of small products goes on one BLAS (and one
PyTorch) thread, a run of large ones keeps all cores, and no number changes with it."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import require_module

import deltarule as dr
from deltarule.network import Layer, Network
from deltarule.training import threads

threadpoolctl = require_module("threadpoolctl")


def blas_threads() -> int:
    return max(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")


def test_small_runs_take_one_thread_large_ones_all_cores():
    # digits: 64-32-10, batches of 32, 1437 examples: the step's 32 x 64 x 32 is the largest
    assert threads.largest_product((64, 32, 10), 32, 1437) == 32 * 64 * 32
    assert threads.threads_for((64, 32, 10), 32, 1437) == 1
    # W4: the step 128 x 784 x 256 decides (one thread), not the journal pass's 8192 x 784 x 256
    # (1.64e9 multiply-adds), whose two threads gain less once an epoch than the steps lose
    assert threads.largest_product((784, 256, 10), 128, 60000) == 128 * 784 * 256
    assert threads.threads_for((784, 256, 10), 128, 60000) == 1
    assert threads.threads_for((784, 4096, 10), 128, 60000) == 1
    # full batch: every step is 60000 x 784 x 256 (1.2e10): all cores
    assert threads.threads_for((784, 256, 10), 60000, 60000) is None
    assert threads.threads_for((784, 256, 10), 10**6, 60000) is None  # a batch larger than n is n
    # the boundary: one multiply-add short of LARGE_WORK is still small
    units = threads.LARGE_WORK // (8192 * 1000)
    assert 8192 * 1000 * units < threads.LARGE_WORK <= 8192 * 1000 * (units + 1)
    assert threads.threads_for((1000, units), 8192, 8192) == 1
    assert threads.threads_for((1000, units + 1), 8192, 8192) is None


def problem(seed=0, n=1500):
    rng = np.random.default_rng(seed)
    net = Network((Layer(rng.normal(0, 0.3, (32, 64)), np.zeros(32), "sigmoid"),
                   Layer(rng.normal(0, 0.3, (10, 32)), np.zeros(10), "softmax")), "cross_entropy", "mean")
    x = rng.uniform(0, 1, (n, 64))
    y = np.eye(10)[rng.integers(0, 10, n)]
    return net, x, y


@pytest.mark.parametrize("engine", ["buffered", "generic"])
def test_training_runs_on_one_thread_and_gives_the_same_bits(engine, monkeypatch):
    net, x, y = problem()
    schedule = dr.Schedule("minibatch", batch_size=32, epochs=3, shuffle=True, seed=0)
    before, seen = blas_threads(), []
    got = dr.train(net, x, y, 0.5, schedule, engine=engine, callback=lambda e, loss: seen.append(blas_threads()))
    assert seen == [1, 1, 1]
    assert blas_threads() == before  # restored after the run
    monkeypatch.setattr(threads, "LARGE_WORK", 0)  # the policy off: BLAS's own thread count
    free = []
    ref = dr.train(net, x, y, 0.5, schedule, engine=engine, callback=lambda e, loss: free.append(blas_threads()))
    assert free == [before] * 3
    assert np.array_equal(got.journal.rows, ref.journal.rows)
    assert np.array_equal(got.network.parameters(), ref.network.parameters())
    assert got.journal.rows.shape == (4, 2 + net.parameters().size + 1)


def test_torch_runs_on_one_thread_and_restores_it():
    torch = require_module("torch")
    from deltarule.torch_bridge import train_torch

    net, x, y = problem(n=200)
    before, seen = torch.get_num_threads(), []
    train_torch(net, x, y, 0.5, dr.Schedule("minibatch", batch_size=32, epochs=2), device="cpu",
                callback=lambda e, loss: seen.append(torch.get_num_threads()))
    assert seen == [1, 1]
    assert torch.get_num_threads() == before


def test_the_journal_builds_no_network_per_epoch_when_it_has_the_outputs(monkeypatch):
    # issue 13.4: the accuracy column of a batch-mode run comes from the training passes' outputs;
    # building a Network from the row's parameters every epoch was per-epoch work for nothing
    net, x, y = problem(n=300)
    schedule = dr.Schedule("minibatch", batch_size=64, epochs=4)
    want = dr.train(net, x, y, 0.5, schedule, journal_loss="batch", engine="buffered")
    built = []
    real = Network.with_parameters
    monkeypatch.setattr(Network, "with_parameters", lambda self, p: built.append(1) or real(self, p))
    got = dr.train(net, x, y, 0.5, schedule, journal_loss="batch", engine="buffered")
    assert len(built) == 1  # the final network only, none per journal row
    assert np.array_equal(got.journal.rows, want.journal.rows)
    acc = got.journal.rows[:, -1]
    assert ((acc > 0) & (acc <= 1)).all() and len(acc) == 5


@pytest.mark.parametrize("engine", ["scalar", "generic"])
def test_a_run_of_products_blas_never_splits_skips_the_policy(engine, monkeypatch):
    # W1 (seed 000's neuron, per-example): its products are 1 x 1 x 1; the policy's scan of the loaded
    # libraries (~0.5 ms a run) cost 5% of 120,000 updates and changed nothing
    p = dr.load_problem("seed-000-neuron")
    schedule = dr.Schedule("stochastic", epochs=400)
    assert threads.widest_product(p.network.sizes, 1, len(p.x)) == 6 < threads.SPLIT_WORK
    want = dr.train(p.network, p.x, p.y, 0.9, schedule, engine=engine)
    made = []
    real = threadpoolctl.ThreadpoolController
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", lambda *a: made.append(1) or real(*a))
    got = dr.train(p.network, p.x, p.y, 0.9, schedule, engine=engine)
    assert made == []
    assert np.array_equal(got.journal.rows, want.journal.rows)
    assert got.updates == 400 * len(p.x) == 2400
    # one product past SPLIT_WORK (64 x 64 x 2 = 8,192) and the policy limits BLAS again
    net = Network((Layer(np.full((2, 64), 0.01), np.zeros(2), "sigmoid"),), "mse", "mean")
    x, y = np.ones((64, 64)), np.zeros((64, 2))
    assert threads.widest_product(net.sizes, 64, 64) == threads.SPLIT_WORK
    dr.train(net, x, y, 0.5, dr.Schedule("batch", epochs=2), engine=engine)
    assert made == [1]
