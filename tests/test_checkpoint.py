"""Interruption: checkpoints (JSON, atomic), exact resume, SIGKILL at random moments, Ctrl-C.

The reference for "bit-identical" is a straight run of train() without hooks: checkpointed and
resumed runs take the same engine (deltarule.fast, or the generic loop), so the same arithmetic.
tests/test_checkpoint_parity.py goes through every engine.
"""
import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from deltarule import training
from deltarule.checkpoint import ResumeError, seal
from deltarule.checkpoint_load import load_checkpoint
from deltarule.cli import main
from deltarule.errors import InputError
from deltarule.problem import parse_problem
from deltarule.training import Interrupted, Schedule, loop, train

TINY = {"name": "tiny", "seed": 1,
        "layers": [{"units": 2, "inputs": 2, "init": "xavier", "activation": "tanh"},
                   {"units": 1, "init": "xavier", "activation": "sigmoid"}],
        "loss": "half_sse",
        "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5]], "targets": [[0], [1], [1], [0], [0.5]]},
        "learning_rate": 0.5,
        "training": {"method": "minibatch", "batch_size": 2, "shuffle": True, "seed": 4, "epochs": 10}}
SCHEDULES = {"batch": Schedule("batch", epochs=10),
             "minibatch-shuffled": Schedule("minibatch", 2, 10, True, 4),
             "stochastic-shuffled": Schedule("stochastic", epochs=10, shuffle=True, seed=9),
             "stochastic": Schedule("stochastic", epochs=10)}


def _noop(end):
    pass


def _straight(p, schedule):
    return train(p.network, p.x, p.y, p.learning_rate, schedule)


def _same(a, b):
    np.testing.assert_array_equal(a.network.parameters(), b.network.parameters())
    np.testing.assert_array_equal(a.journal.rows, b.journal.rows)
    assert a.journal.columns == b.journal.columns and a.updates == b.updates


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_five_plus_checkpoint_plus_five_is_bit_identical_to_ten(name, dtype, tmp_path):
    p = parse_problem(dict(TINY, dtype=dtype))
    schedule = SCHEDULES[name]
    full = _straight(p, schedule)
    saved = []
    first = train(p.network, p.x, p.y, p.learning_rate, replace(schedule, epochs=5),
                  on_epoch=lambda end: saved.append(end.checkpoint()))
    assert [c.epoch for c in saved] == [1, 2, 3, 4, 5]
    saved[-1].save(tmp_path / "c.json")
    c = load_checkpoint(tmp_path / "c.json")
    assert c.epoch == 5 and c.updates == first.updates
    np.testing.assert_array_equal(c.journal.rows, first.journal.rows)  # exact through JSON
    assert c.network.dtype == np.dtype(dtype)
    _same(train(p.network, p.x, p.y, p.learning_rate, schedule, start=c), full)
    # any epoch's checkpoint will do, and resuming twice gives the same
    _same(train(p.network, p.x, p.y, p.learning_rate, schedule, start=saved[1]), full)


def test_checkpoint_is_a_json_header_and_a_binary_journal_both_exact(tmp_path):
    p = parse_problem(TINY)
    c = []
    train(p.network, p.x, p.y, p.learning_rate, replace(p.schedule, epochs=3), on_epoch=lambda e: c.append(e.checkpoint()))
    c[-1].save(tmp_path / "c.json")
    raw = (tmp_path / "c.json").read_bytes()
    assert b"pickle" not in raw and raw.startswith(b"{")
    doc = json.loads(raw)
    assert doc["format"] == "deltarule-checkpoint" and doc["version"] == 2 and doc["epoch"] == 3
    assert doc["rng_state"]["bit_generator"] == "PCG64" and doc["engine"] == "buffered"
    W1 = np.array(doc["model"]["layers"][0]["weights"])
    np.testing.assert_array_equal(W1, c[-1].network.layers[0].W)  # repr round-trips every bit
    j = doc["journal"]
    assert j["extra_columns"] == [] and j["rows"] == 4
    # the rows are not in the header but beside it: raw little-endian float64, 4 rows of 2 + 9 + 0 columns
    side = (tmp_path / j["file"]).read_bytes()
    assert j["file"].startswith("c.json.") and len(side) == 4 * 11 * 8
    np.testing.assert_array_equal(np.frombuffer(side, "<f8").reshape(4, 11), c[-1].journal.rows)
    assert sorted(f.name for f in os.scandir(tmp_path)) == ["c.json", j["file"]]  # no temporary file left
    # saving again (another run's checkpoint at the same path) replaces the journal file, then removes the old one
    c[0].save(tmp_path / "c.json")
    again = json.loads((tmp_path / "c.json").read_text())["journal"]
    assert again["rows"] == 2 and sorted(f.name for f in os.scandir(tmp_path)) == ["c.json", again["file"]]


def test_a_saver_appends_the_new_rows_and_never_rewrites_the_journal(tmp_path):
    # each save writes only the rows since the last one: the journal file grows by one row per epoch
    from deltarule.checkpoint import Saver

    p = parse_problem(TINY)
    saver, sizes = Saver(str(tmp_path / "c.json"), None, 1, 6), []

    def save(end):
        saver(end)
        name = json.loads((tmp_path / "c.json").read_text())["journal"]["file"]
        sizes.append((name, (tmp_path / name).stat().st_size))

    r = train(p.network, p.x, p.y, p.learning_rate, replace(p.schedule, epochs=6), on_epoch=save)
    assert len({name for name, _ in sizes}) == 1  # one file for the whole run
    assert [size for _, size in sizes] == [(e + 1) * 11 * 8 for e in range(1, 7)]
    c = load_checkpoint(tmp_path / "c.json")
    np.testing.assert_array_equal(c.journal.rows, r.journal.rows)


def test_resume_refuses_other_data_schedule_or_network(tmp_path):
    p = parse_problem(TINY)
    got = []
    train(p.network, p.x, p.y, 0.5, replace(p.schedule, epochs=2), on_epoch=lambda e: got.append(e.checkpoint()))
    c = got[-1]
    with pytest.raises(ResumeError, match="other data"):
        train(p.network, p.x[::-1], p.y, 0.5, p.schedule, start=c)
    with pytest.raises(ResumeError, match="shuffled"):
        train(p.network, p.x, p.y, 0.5, replace(p.schedule, seed=5), start=c)
    with pytest.raises(ResumeError, match="learning rate"):
        train(p.network, p.x, p.y, 0.25, p.schedule, start=c)
    other = parse_problem(dict(TINY, layers=[{"units": 3, "inputs": 2, "activation": "tanh"},
                                             {"units": 1, "activation": "sigmoid"}]))
    with pytest.raises(ResumeError, match="another network"):
        train(other.network, p.x, p.y, 0.5, p.schedule, start=c)
    with pytest.raises(ResumeError, match="already at epoch 2"):
        train(p.network, p.x, p.y, 0.5, replace(p.schedule, epochs=1), start=c)


@pytest.mark.parametrize("text,field", [
    ("", None), ("{", None), ("[1, 2]", None),
    ('{"format": "deltarule-checkpoint"}', "missing field"),
])
def test_malformed_checkpoints_are_refused_with_one_line(text, field, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_checkpoint(path)
    line = info.value.line()
    assert line.startswith(str(path) + ":") and "\n" not in line
    if field:
        assert field in line


def _header(path):
    doc = json.loads(Path(path).read_text())
    del doc["sha256"]
    return doc


def test_a_checkpoint_with_a_bad_field_names_it(tmp_path):
    p = parse_problem(TINY)
    got = []
    train(p.network, p.x, p.y, 0.5, replace(p.schedule, epochs=1), on_epoch=lambda e: got.append(e.checkpoint()))
    got[0].save(tmp_path / "c.json")
    doc = _header(tmp_path / "c.json")
    doc["model"]["layers"][1]["weights"] = [[1.0, "x"]]
    (tmp_path / "c.json").write_text(seal(doc))
    with pytest.raises(InputError, match=r"model\.layers\[2\]\.weights\[1\]\[2\]"):
        load_checkpoint(tmp_path / "c.json")
    got[0].save(tmp_path / "c.json")
    doc = _header(tmp_path / "c.json")
    doc["rng_state"] = {"bit_generator": "PCG64", "state": "nope"}
    (tmp_path / "c.json").write_text(seal(doc))
    with pytest.raises(InputError, match="rng_state"):
        load_checkpoint(tmp_path / "c.json")


def test_ctrl_c_mid_epoch_gives_the_last_completed_epoch_and_resume_is_exact(monkeypatch):
    # the generic loop: Ctrl-C inside epoch 4's third update
    p = parse_problem(TINY)
    schedule = SCHEDULES["stochastic-shuffled"]
    full = training.generic(p.network, p.x, p.y, p.learning_rate, schedule)
    calls = [0]
    real = loop.forward_arrays

    def interrupting(*args):
        calls[0] += 1
        if calls[0] == 23:  # epoch 4's third update: 5 updates + 1 journal pass per epoch, +1 for row 0
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(loop, "forward_arrays", interrupting)
    with pytest.raises(Interrupted) as info:
        training.generic(p.network, p.x, p.y, p.learning_rate, schedule, on_epoch=_noop)
    monkeypatch.setattr(loop, "forward_arrays", real)
    c = info.value.checkpoint
    assert isinstance(info.value, KeyboardInterrupt) and c.epoch == 3 and c.updates == 15
    assert len(c.journal) == 4
    _same(training.generic(p.network, p.x, p.y, p.learning_rate, schedule, start=c), full)


def test_ctrl_c_inside_the_buffered_engine_gives_the_last_completed_epoch(monkeypatch):
    from deltarule import fast

    p = parse_problem(TINY)
    schedule = SCHEDULES["stochastic-shuffled"]
    assert fast.engine_for(p.network, len(p.x), schedule) == "buffered"
    full = _straight(p, schedule)
    calls, real = [0], fast._BufferedRun._batches

    def interrupting(self, order):  # one call per epoch: Ctrl-C before epoch 4's third update
        calls[0] += 1
        for k, batch in enumerate(real(self, order), start=1):
            if calls[0] == 4 and k == 3:
                raise KeyboardInterrupt
            yield batch

    monkeypatch.setattr(fast._BufferedRun, "_batches", interrupting)
    with pytest.raises(Interrupted) as info:
        train(p.network, p.x, p.y, p.learning_rate, schedule, on_epoch=_noop)
    monkeypatch.setattr(fast._BufferedRun, "_batches", real)
    c = info.value.checkpoint
    assert isinstance(info.value, KeyboardInterrupt) and c.epoch == 3 and c.updates == 15
    assert len(c.journal) == 4
    _same(train(p.network, p.x, p.y, p.learning_rate, schedule, start=c), full)


# -- the command line ---------------------------------------------------------------------------------
def _problem_file(tmp_path, epochs=10):
    path = tmp_path / "tiny.json"
    doc = json.loads(json.dumps(TINY))
    doc["training"]["epochs"] = epochs
    path.write_text(json.dumps(doc))
    return path


def test_cli_resume_is_byte_identical_to_a_straight_run(tmp_path, capsys):
    path = _problem_file(tmp_path)
    d = str(tmp_path)
    assert main(["train", str(path), "--checkpoint", f"{d}/full.json", "--journal", f"{d}/full.csv",
                 "--save", f"{d}/full-model.json", "--quiet"]) == 0
    assert main(["train", str(path), "--epochs", "5", "--checkpoint", f"{d}/c.json", "--journal", f"{d}/j.csv",
                 "--quiet"]) == 0
    assert len(Path(f"{d}/j.csv").read_text().splitlines()) == 1 + 6
    assert load_checkpoint(f"{d}/c.json").schedule.epochs == 5
    # --epochs counts all epochs; the schedule, seed and learning rate come from the checkpoint
    assert main(["train", str(path), "--epochs", "10", "--resume", f"{d}/c.json", "--journal", f"{d}/j.csv",
                 "--save", f"{d}/model.json", "--quiet"]) == 0
    assert Path(f"{d}/j.csv").read_bytes() == Path(f"{d}/full.csv").read_bytes()
    assert Path(f"{d}/model.json").read_bytes() == Path(f"{d}/full-model.json").read_bytes()
    assert load_checkpoint(f"{d}/c.json").epoch == 10
    capsys.readouterr()
    # a mismatch is bad input: one line, exit 2
    assert main(["train", str(path), "--resume", f"{d}/c.json", "--learning-rate", "0.1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{d}/c.json: ") and "learning rate" in err
    assert main(["train", str(path), "--resume", f"{d}/missing.json", "--quiet"]) == 2


POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _env():
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a child of a shell in the background may inherit SIG_IGN


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "deltarule", "train", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _wait_for_write(path, since, proc, timeout=30.0):
    """Until ``path`` is (re)written after ``since`` (an mtime), or the process ends."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            if os.stat(path).st_mtime_ns != since:
                return True
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    return False


def _journal_epochs(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


@pytest.mark.slow
@POSIX
def test_sigkill_at_random_moments_leaves_a_loadable_checkpoint_and_a_whole_journal(tmp_path):
    # two chains of processes (two cores), each killed 10 times with SIGKILL at a random moment
    # while it writes a checkpoint and the journal after every epoch, then resumed; in the end
    # each chain finishes and its journal is byte-identical to an uninterrupted run
    epochs = 3000  # long enough that no round finishes before its kill (400 did once the engine got faster)
    path = _problem_file(tmp_path, epochs)
    p = parse_problem(json.loads(path.read_text()))
    reference = _straight(p, p.schedule).journal.rows
    rng = random.Random(0)
    chains = [tmp_path / "a", tmp_path / "b"]
    for d in chains:
        d.mkdir()
    kills = 0
    for round_ in range(10):
        procs = []
        for d in chains:
            args = [str(path), "--checkpoint", "c.json", "--journal", "j.csv", "--every", "1", "--quiet"]
            if (d / "c.json").exists():
                args += ["--resume", "c.json"]
            procs.append((d, _mtime(d / "c.json"), _start(args, d)))
        for d, since, proc in procs:
            assert _wait_for_write(d / "c.json", since, proc), proc.communicate()
            time.sleep(rng.uniform(0, 0.15))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += proc.returncode == -signal.SIGKILL
            c = load_checkpoint(d / "c.json")  # whole, whatever the moment
            header, rows = _journal_epochs(d / "j.csv")
            assert header[:2] == ["epoch", "loss"]
            # one row per completed epoch: 0, 1, ..., m; the journal is written just before the checkpoint
            assert [int(r[0]) for r in rows] == list(range(len(rows)))
            assert len(rows) - 1 in (c.epoch, c.epoch + 1)
            np.testing.assert_array_equal(np.array(rows, dtype=float), reference[:len(rows)])
            np.testing.assert_array_equal(c.journal.rows, reference[:c.epoch + 1])
    assert kills >= 20
    for d in chains:  # finish, and compare with the uninterrupted run
        done = _start([str(path), "--resume", "c.json", "--journal", "j.csv", "--every", "50", "--quiet"], d)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
        _, rows = _journal_epochs(d / "j.csv")
        np.testing.assert_array_equal(np.array(rows, dtype=float), reference)
        journal_file = json.loads((d / "c.json").read_text())["journal"]["file"]
        leftovers = [f for f in os.listdir(d) if f not in ("c.json", "j.csv", journal_file)]
        assert leftovers == []  # a killed write's temporary files and earlier journal files are removed


@pytest.mark.slow
@POSIX
def test_ctrl_c_saves_a_checkpoint_and_exits_130_with_one_line(tmp_path):
    path = _problem_file(tmp_path, 100000)
    proc = _start([str(path), "--checkpoint", "c.json", "--journal", "j.csv", "--quiet"], tmp_path)
    assert _wait_for_write(tmp_path / "c.json", None, proc)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("deltarule train: interrupted after epoch ") and "--resume c.json" in err
    done = int(err.split("interrupted after epoch ")[1].split()[0])
    c = load_checkpoint(tmp_path / "c.json")
    assert c.epoch == done > 0
    _, rows = _journal_epochs(tmp_path / "j.csv")
    assert len(rows) == done + 1
    p = parse_problem(json.loads(path.read_text()))
    reference = _straight(p, replace(p.schedule, epochs=done + 3))
    np.testing.assert_array_equal(c.journal.rows, reference.journal.rows[:done + 1])
    # and it continues where it stopped
    assert main(["train", str(path), "--epochs", str(done + 3), "--resume", str(tmp_path / "c.json"),
                 "--journal", str(tmp_path / "j.csv"), "--quiet"]) == 0
    _, rows = _journal_epochs(tmp_path / "j.csv")
    np.testing.assert_array_equal(np.array(rows, dtype=float), reference.journal.rows)
