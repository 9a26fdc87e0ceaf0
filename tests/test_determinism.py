"""The same problem and seed give bit-identical journals: run after run, process after process
(whatever PYTHONHASHSEED and the BLAS thread count), with shuffling and seeded initial weights."""
import filecmp
import os
import subprocess
import sys

import numpy as np
import pytest

from deltarule.cli import main
from deltarule.problem import load_problem
from deltarule.training import Schedule

# seeded he/xavier initial weights, minibatches of 3 shuffled each epoch, 20 examples
PROBLEM = """\
name: determinism
layers:
  - {units: 16, inputs: 8, init: he, activation: relu}
  - {units: 8, init: xavier, activation: tanh}
  - {units: 3, init: uniform, activation: softmax}
loss: cross_entropy
seed: 12
learning_rate: 0.3
data: {file: d.npz, one_hot: true}
training: {method: minibatch, batch_size: 3, epochs: 25, shuffle: true, seed: 5}
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez("d.npz", inputs=rng.normal(size=(20, 8)), targets=rng.integers(0, 3, size=20))
    with open("p.yaml", "w") as fh:
        fh.write(PROBLEM)
    return tmp_path


def test_same_seed_same_journal_bit_for_bit(here):
    a, b = load_problem("p.yaml").train(), load_problem("p.yaml").train()
    assert a.journal.rows.tobytes() == b.journal.rows.tobytes()
    assert a.network.parameters().tobytes() == b.network.parameters().tobytes()
    assert len(a.journal) == 26 and a.updates == 25 * 7  # 20 examples in batches of 3: 7 per epoch


def test_the_seeds_matter(here):
    """The test above could fail: another shuffle seed or another init seed changes the run."""
    p = load_problem("p.yaml")
    base = p.train().journal.rows
    other_shuffle = p.train(Schedule("minibatch", 3, 25, True, 6)).journal.rows
    assert not np.array_equal(base, other_shuffle)
    with open("q.yaml", "w") as fh:
        fh.write(PROBLEM.replace("seed: 12", "seed: 13"))
    assert not np.array_equal(load_problem("q.yaml").network.parameters(), p.network.parameters())
    # and the order really is shuffled: file order gives another run
    assert not np.array_equal(base, p.train(Schedule("minibatch", 3, 25, False, 5)).journal.rows)


def test_same_journal_through_the_command_line_twice(here):
    for out in ("1", "2"):
        assert main(["train", "p.yaml", "--quiet", "--journal", f"j{out}.csv", "--save", f"m{out}.json"]) == 0
    assert filecmp.cmp("j1.csv", "j2.csv", shallow=False) and filecmp.cmp("m1.json", "m2.json", shallow=False)


def _process(tmp, tag, **env):
    res = subprocess.run([sys.executable, "-m", "deltarule", "train", "p.yaml", "--quiet",
                          "--journal", f"j-{tag}.csv", "--save", f"m-{tag}.json"],
                         cwd=tmp, capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert res.returncode == 0 and res.stderr == "", res.stderr
    res = subprocess.run([sys.executable, "-m", "deltarule", "solve", "p.yaml", "--format", "json", "--steps", "9"],
                         cwd=tmp, capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.slow
def test_same_journal_across_processes(here):
    main(["train", "p.yaml", "--quiet", "--journal", "j-here.csv", "--save", "m-here.json"])
    runs = {"a": {"PYTHONHASHSEED": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
            "b": {"PYTHONHASHSEED": "2", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}}
    solved = {tag: _process(here, tag, **env) for tag, env in runs.items()}
    assert solved["a"] == solved["b"]  # the first 9 shuffled updates, printed at full precision
    for tag in runs:
        assert filecmp.cmp("j-here.csv", f"j-{tag}.csv", shallow=False), tag
        assert filecmp.cmp("m-here.json", f"m-{tag}.json", shallow=False), tag
    saved = load_problem("m-a.json").network.parameters()
    assert saved.tobytes() == load_problem("p.yaml").train().network.parameters().tobytes()


@pytest.mark.parametrize("method, size", [("stochastic", None), ("batch", None), ("minibatch", 7)])
def test_every_method_is_repeatable(here, method, size):
    p = load_problem("p.yaml")
    runs = [p.train(Schedule(method, size, 10, True, 3)).journal.rows.tobytes() for _ in range(2)]
    assert runs[0] == runs[1]


# -- engines (issue 12.11): identical within one engine, and a checkpoint keeps its engine -----------------
SEED_000 = "seed-000-neuron"


def _engine_runs():
    from deltarule import training

    p = load_problem(SEED_000)
    schedule = Schedule("stochastic", epochs=400)
    return p, schedule, {e: training.train(p.network, p.x, p.y, p.learning_rate, schedule, engine=e)
                         for e in ("generic", "buffered")}


def test_engines_agree_to_rounding_and_each_is_repeatable():
    from deltarule import training

    p, schedule, runs = _engine_runs()
    np.testing.assert_allclose(runs["generic"].journal.rows, runs["buffered"].journal.rows, rtol=1e-12, atol=1e-15)
    again = training.train(p.network, p.x, p.y, p.learning_rate, schedule, engine="buffered")
    np.testing.assert_array_equal(again.journal.rows, runs["buffered"].journal.rows)


def test_a_checkpoint_records_its_engine_and_a_resume_keeps_it(tmp_path):
    # 5 epochs of 6 updates run on the buffered engine (too few updates for the compiled one); the
    # resumed 400-epoch run would have taken the compiled engine from the start (when numba is
    # installed), but continues on the engine that wrote the checkpoint: bit for bit a buffered run
    from deltarule import fast, training
    from deltarule.checkpoint_load import load_checkpoint

    p, schedule, runs = _engine_runs()
    first = []
    training.train(p.network, p.x, p.y, p.learning_rate, Schedule("stochastic", epochs=5),
                   on_epoch=lambda end: first.append(end.checkpoint()))
    assert first[-1].engine == fast.engine_for(p.network, 6, Schedule("stochastic", epochs=5)) == "buffered"
    first[-1].save(tmp_path / "c.json")
    c = load_checkpoint(tmp_path / "c.json")
    assert c.engine == "buffered"
    resumed = training.train(p.network, p.x, p.y, p.learning_rate, schedule, start=c)
    np.testing.assert_array_equal(resumed.journal.rows, runs["buffered"].journal.rows)
    from deltarule.checkpoint import ResumeError

    with pytest.raises(ResumeError, match="written by the buffered engine, not the generic one"):
        training.train(p.network, p.x, p.y, p.learning_rate, schedule, start=c, engine="generic")


def test_resuming_a_compiled_engine_checkpoint_without_numba_is_refused_in_one_line(tmp_path, capsys,
                                                                                   monkeypatch):
    import json

    from deltarule import fast
    from deltarule.checkpoint import seal

    c = tmp_path / "c.json"
    assert main(["train", SEED_000, "--epochs", "5", "--checkpoint", str(c), "--quiet"]) == 0
    header = json.loads(c.read_text())
    del header["sha256"]
    header["engine"] = "scalar"  # as a run on an install with numba would have written it
    c.write_text(seal(header))
    monkeypatch.setattr(fast, "_numba", lambda: None)
    capsys.readouterr()
    assert main(["train", SEED_000, "--epochs", "10", "--resume", str(c), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{c}: ") and "needs numba" in err
