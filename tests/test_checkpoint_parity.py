"""Checkpointed and plain runs are bit-identical, on every engine (issue 6).

10 epochs straight == 5 epochs (a checkpoint after each), the last checkpoint saved as JSON,
loaded and resumed to 10: the same parameters, journal rows and update count, bit for bit
(np.array_equal, not allclose). A checkpointed or resumed run takes the engine a straight run
of the whole schedule takes (deltarule.fast.engine_for), so it does the same arithmetic: the
generic loop, the buffered numpy engine and the compiled scalar engine are each checked, for
batch, shuffled mini-batch and stochastic schedules, through the API and in fresh processes
through the command line.
"""
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import require_module

from deltarule import fast, training
from deltarule.checkpoint_load import load_checkpoint
from deltarule.network import Layer, Network
from deltarule.problem import load_problem, parse_problem
from deltarule.training import Diverged, Interrupted, Schedule

SCHEDULES = {"batch": Schedule("batch", epochs=10),
             "minibatch-shuffled": Schedule("minibatch", 3, 10, True, 5),
             "stochastic": Schedule("stochastic", epochs=10),
             "stochastic-shuffled": Schedule("stochastic", epochs=10, shuffle=True, seed=8)}
RNG = np.random.default_rng(6)
X = RNG.normal(size=(7, 2))
Y = RNG.uniform(size=(7, 2))


def net_232(loss="half_sse", reduction="mean"):
    """2 inputs, 3 tanh units, 2 sigmoid outputs."""
    rng = np.random.default_rng(3)
    return Network((Layer(rng.normal(0, 0.8, (3, 2)), rng.normal(0, 0.3, 3), "tanh"),
                    Layer(rng.normal(0, 0.8, (2, 3)), rng.normal(0, 0.3, 2), "sigmoid")), loss, reduction)


def runner(engine):
    """train() on one engine: the generic loop, or a fast engine forced."""
    if engine == "generic":
        return training.generic
    if engine == "scalar":
        require_module("numba")
    return lambda *a, **k: training.train(*a, engine=engine, **k)


def assert_identical(got, want):
    assert np.array_equal(got.network.parameters(), want.network.parameters())
    assert np.array_equal(got.journal.rows, want.journal.rows)
    assert got.journal.columns == want.journal.columns and got.updates == want.updates


def five_then_resume(run, net, x, y, lr, schedule, tmp_path, **kw):
    """5 epochs with an on_epoch hook; the last checkpoint through JSON; resumed to the end."""
    ends = []
    first = run(net, x, y, lr, replace(schedule, epochs=5), on_epoch=ends.append, **kw)
    assert [e.epoch for e in ends] == [1, 2, 3, 4, 5] and ends[-1].updates == first.updates
    assert [e.loss for e in ends] == first.journal.loss[-5:].tolist()
    ends[-1].checkpoint().save(tmp_path / "c.json")
    c = load_checkpoint(tmp_path / "c.json")
    np.testing.assert_array_equal(c.journal.rows, first.journal.rows)  # exact through JSON
    return run(net, x, y, lr, schedule, start=c, **kw)


@pytest.mark.parametrize("mode", ["epoch", "running", "batch"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("engine", ["generic", "buffered", "scalar"])
def test_ten_straight_is_five_plus_checkpoint_plus_five_on_every_engine(engine, name, mode, tmp_path):
    run, schedule = runner(engine), SCHEDULES[name]
    straight = run(net_232(), X, Y, 0.7, schedule, journal_loss=mode)
    assert_identical(five_then_resume(run, net_232(), X, Y, 0.7, schedule, tmp_path, journal_loss=mode), straight)


@pytest.mark.parametrize("engine,chunk", [("generic", None), ("buffered", None), ("scalar", None), ("scalar", 3)])
def test_on_epoch_sees_each_epoch_own_state_and_any_checkpoint_resumes_exactly(engine, chunk, monkeypatch):
    # the scalar engine runs epochs in compiled chunks (all 10 in one by default, 3 here):
    # each epoch's checkpoint still holds that epoch's parameters, updates, shuffle state, rows
    if chunk is not None:
        monkeypatch.setattr(fast._ScalarRun, "chunk_epochs", lambda self: chunk)
    run, schedule = runner(engine), SCHEDULES["minibatch-shuffled"]  # 7 examples: 3 updates an epoch
    straight = run(net_232(), X, Y, 0.7, schedule)
    ends = []
    assert_identical(run(net_232(), X, Y, 0.7, schedule, on_epoch=ends.append), straight)
    rng = schedule.rng()
    for k, end in enumerate(ends, start=1):
        c = end.checkpoint()
        rng.permutation(len(X))  # the generator after epoch k's draw
        assert (c.epoch, c.updates, end.updates, c.rng_state) == (k, 3 * k, 3 * k, rng.bit_generator.state)
        assert np.array_equal(c.journal.rows, straight.journal.rows[:k + 1])
        assert np.array_equal(c.network.parameters(), straight.journal.rows[k, 2:])
        assert_identical(run(net_232(), X, Y, 0.7, schedule, start=c), straight)


@pytest.mark.parametrize("engine", ["generic", "buffered", "scalar"])
def test_ctrl_c_in_an_epoch_hook_gives_that_epoch(engine):
    run, schedule = runner(engine), SCHEDULES["stochastic-shuffled"]
    straight = run(net_232(), X, Y, 0.7, schedule)

    def stop(end):
        if end.epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        run(net_232(), X, Y, 0.7, schedule, on_epoch=stop)
    c = info.value.checkpoint  # Ctrl-C while epoch 4's hook ran: epoch 4 was complete
    assert (c.epoch, c.updates, len(c.journal)) == (4, 28, 5)
    assert np.array_equal(c.journal.rows, straight.journal.rows[:5])
    assert_identical(run(net_232(), X, Y, 0.7, schedule, start=c), straight)


def test_divergence_after_checkpoints_calls_on_epoch_for_every_completed_epoch():
    # sse on an identity neuron with eta = 10 grows by about 92 per epoch: inf at epoch 76
    grows = parse_problem({"layers": [{"weights": [[0.5]], "biases": [0.1], "activation": "identity"}],
                           "loss": "sse", "data": {"inputs": [[1.0], [2.0], [3.0]], "targets": [[1.0], [2.0], [3.0]]},
                           "learning_rate": 10.0, "training": {"method": "batch", "epochs": 500}})
    seen = {}
    for engine in ["generic", "buffered", "scalar"]:
        ends = []
        with pytest.raises(Diverged) as info:
            runner(engine)(grows.network, grows.x, grows.y, 10.0, grows.schedule, on_epoch=ends.append)
        assert [e.epoch for e in ends] == list(range(1, info.value.epoch)) and info.value.epoch == 76
        assert np.array_equal(ends[-1].checkpoint().journal.rows, info.value.journal.rows)
        seen[engine] = info.value.journal.rows
    np.testing.assert_allclose(seen["scalar"], seen["generic"], rtol=1e-12)


# -- through the public train(): the engine each problem gets, checkpointed or not -----------------
TINY32 = {"name": "tiny32", "seed": 1, "dtype": "float32",
          "layers": [{"units": 2, "inputs": 2, "init": "xavier", "activation": "tanh"},
                     {"units": 1, "init": "xavier", "activation": "sigmoid"}],
          "loss": "half_sse",
          "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5]], "targets": [[0], [1], [1], [0], [0.5]]},
          "learning_rate": 0.5, "training": {"method": "minibatch", "batch_size": 2, "shuffle": True, "seed": 4}}


def _problem(name):
    return parse_problem(TINY32) if name == "tiny32" else load_problem(name)


@pytest.mark.parametrize("name,epochs,method,engine", [
    ("seed-000-neuron", 2000, "stochastic", "scalar"),     # 12000 updates: compiled
    ("seed-000-neuron", 2000, "minibatch", "scalar"),       # batches of 4 and 2, shuffled
    ("seed-000-neuron", 10, "batch", "buffered"),          # few updates
    ("digits", 10, "minibatch", "buffered"),               # 64-32-10, shuffled, an accuracy column
    ("tiny32", 10, "minibatch", "buffered"),               # float32
])
def test_public_train_checkpointed_is_bit_identical_to_straight(name, epochs, method, engine, tmp_path):
    p = _problem(name)
    shuffle = method == "minibatch"
    schedule = Schedule(method, 4 if method == "minibatch" and name != "digits" else p.schedule.batch_size,
                        epochs, shuffle, 3 if shuffle else 0)
    half = replace(schedule, epochs=epochs // 2)
    if engine == "scalar":
        require_module("numba")
    # the same engine for the straight run, the first half and the resumed run
    assert fast.engine_for(p.network, len(p.x), schedule) == fast.engine_for(p.network, len(p.x), half) == engine
    straight = p.train(schedule)
    ends = []
    p.train(half, on_epoch=ends.append)
    ends[-1].checkpoint().save(tmp_path / "c.json")
    resumed = p.train(schedule, start=load_checkpoint(tmp_path / "c.json"))
    assert_identical(resumed, straight)
    assert resumed.network.dtype == p.network.dtype


# -- the command line, in fresh processes ------------------------------------------------------------
def _cli(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    run = subprocess.run([sys.executable, "-m", "deltarule", "train", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run


@pytest.mark.parametrize("name,epochs,half,extra", [
    ("seed-000-neuron", "2000", "1000", []),                           # scalar
    ("seed-000-neuron", "10", "5", ["--method", "minibatch", "--batch-size", "4", "--shuffle"]),  # buffered
])
@pytest.mark.slow
def test_cli_checkpoint_and_resume_give_the_straight_run_files_byte_for_byte(name, epochs, half, extra, tmp_path):
    if name == "seed-000-neuron" and epochs == "2000":
        require_module("numba")
    _cli([name, *extra, "--epochs", epochs, "--journal", "full.csv", "--save", "full.json", "--quiet"], tmp_path)
    _cli([name, *extra, "--epochs", half, "--checkpoint", "c.json", "--journal", "j.csv", "--quiet"], tmp_path)
    assert load_checkpoint(tmp_path / "c.json").epoch == int(half)
    _cli([name, "--epochs", epochs, "--resume", "c.json", "--journal", "j.csv", "--save", "m.json", "--quiet"],
         tmp_path)
    assert (tmp_path / "j.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert (tmp_path / "m.json").read_bytes() == (tmp_path / "full.json").read_bytes()
    # and a second straight run in another process journals the same bytes
    _cli([name, *extra, "--epochs", epochs, "--journal", "again.csv", "--quiet"], tmp_path)
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
