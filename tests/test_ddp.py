"""Data-parallel training with DistributedDataParallel over two CPU processes (gloo).

Each rank walks the same seeded global mini-batches and takes its shard of each; with the
shard losses weighted by world/B (mean) or world (sum), DDP's average of the ranks'
gradients is the gradient of the whole global batch. So two processes must give what one
process gives with the same global batch size: the numpy training, to ~1e-12 in float64 —
also when a batch does not split evenly, and when a rank's shard is empty.
"""
import os
import socket

import numpy as np
import pytest

from conftest import require, require_module

pytestmark = pytest.mark.slow  # child processes: `pytest -m 'not slow'` leaves them out

torch = require_module("torch")
require(torch.distributed.is_available(), "torch.distributed is not available")

from deltarule.network import Layer, Network  # noqa: E402
from deltarule.training import Schedule, train  # noqa: E402

# 11 examples in batches of 5: 5, 5, 1 -> shards (3, 2), (3, 2) and (1, 0): uneven, and empty
SCHEDULE = Schedule("minibatch", batch_size=5, epochs=3, shuffle=True, seed=3)
LEARNING_RATE = 0.7


def problem(reduction):
    rng = np.random.default_rng(0)
    net = Network((Layer(rng.normal(0, 0.7, (4, 3)), rng.normal(0, 0.2, 4), "tanh"),
                   Layer(rng.normal(0, 0.7, (3, 4)), rng.normal(0, 0.2, 3), "softmax")),
                  "cross_entropy", reduction)
    x = rng.normal(size=(11, 3))
    y = np.eye(3)[rng.integers(0, 3, 11)]
    return net, x, y


def _worker(rank, world, port, out_dir):
    from deltarule import torch_bridge

    seen = []  # how many examples this rank computes per update: its shards, not the batches
    shard = torch_bridge._shard
    torch_bridge._shard = lambda *a: (lambda r: seen.append(len(r[0])) or r)(shard(*a))
    torch.set_num_threads(1)  # as torchrun does: two processes on a small machine, no oversubscription
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    try:
        for reduction in ("mean", "sum"):
            net, x, y = problem(reduction)
            result = torch_bridge.train_torch(net, x, y, LEARNING_RATE, SCHEDULE, device="cpu")
            np.save(os.path.join(out_dir, f"{reduction}-rank{rank}.npy"), result.journal.rows)
        np.save(os.path.join(out_dir, f"seen-rank{rank}.npy"), np.array(seen))
    finally:
        # wait for the other rank before tearing down: a rank that leaves while gloo still
        # talks to it aborts the other one ("terminate called without an active exception")
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_journals(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    torch.multiprocessing.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return {name.stem: np.load(name) for name in out.glob("*.npy")}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_two_processes_equal_one_with_the_same_global_batch(ddp_journals, reduction):
    net, x, y = problem(reduction)
    ref = train(net, x, y, LEARNING_RATE, SCHEDULE)
    assert ref.updates == 9  # 3 epochs of batches 5, 5, 1
    for rank in (0, 1):
        rows = ddp_journals[f"{reduction}-rank{rank}"]
        assert rows.shape == ref.journal.rows.shape  # epoch, loss, 27 parameters, accuracy
        np.testing.assert_allclose(rows, ref.journal.rows, rtol=0, atol=1e-12)
    # each rank computed only its shards: (3, 3, 1) and (2, 2, 0) per epoch, 11 together
    np.testing.assert_array_equal(ddp_journals["seen-rank0"], [3, 3, 1] * 6)
    np.testing.assert_array_equal(ddp_journals["seen-rank1"], [2, 2, 0] * 6)
    # training moved the parameters: the final rows are not the initial ones
    assert np.abs(ref.journal.rows[-1, 2:-1] - ref.journal.rows[0, 2:-1]).max() > 0.05
