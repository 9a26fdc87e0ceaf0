"""Optimizers, rate schedules and L2 wired into ``train``, problem files and ``deltarule train`` (issue 15).

Every number is compared with :func:`deltarule.descent.optimize`, the reference loop that
tests/test_optimizers.py holds equal to torch.optim; plain descent stays bit-identical.
"""
from __future__ import annotations

import json


import numpy as np
import pytest
import yaml

import deltarule as dr
from conftest import checkpointed, require_module
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.checkpoint import seal
from deltarule.cli import main
from deltarule.descent import optimize
from deltarule.errors import InputError
from deltarule.training import run as _run

CASES = {
    "momentum": (opt.SGD(momentum=0.9), None, 0.0),
    "nesterov_l2": (opt.SGD(momentum=0.8, nesterov=True), None, 0.02),
    "rmsprop_step": (opt.RMSprop(), sch.Step(step_size=2, gamma=0.5), 0.0),
    "adam_cosine_l2": (opt.Adam(), sch.Cosine(t_max=3), 0.05),
    "adamw_exp": (opt.AdamW(weight_decay=0.1), sch.Exponential(gamma=0.8), 0.0),
    "sgd_invscaling": (None, sch.InverseScaling(power_t=0.5), 0.0),
    "l2_only": (None, None, 0.1),
}


def _net(seed=3):
    rng = np.random.default_rng(seed)
    layers = (dr.Layer(rng.normal(0, 0.7, (4, 3)), rng.normal(0, 0.2, 4), "tanh"),
              dr.Layer(rng.normal(0, 0.7, (2, 4)), rng.normal(0, 0.2, 2), "sigmoid"))
    x, y = rng.normal(size=(10, 3)), rng.uniform(0.1, 0.9, (10, 2))
    return dr.Network(layers, "half_sse"), x, y


@pytest.mark.parametrize("case", list(CASES))
def test_train_equals_reference_loop(case):
    optimizer, lr_schedule, l2 = CASES[case]
    net, x, y = _net()
    schedule = dr.Schedule("minibatch", 4, epochs=5)
    r = dr.train(net, x, y, 0.1, schedule, journal_loss="batch", optimizer=optimizer, lr_schedule=lr_schedule, l2=l2)
    ref = optimize(net, x, y, 0.1, optimizer or opt.SGD(), lr_schedule or sch.Constant(), l2, schedule)
    np.testing.assert_allclose(r.network.parameters(), ref.network.parameters(), rtol=0, atol=1e-14)
    assert r.updates == len(ref.losses) == 15
    # journal "batch": each epoch's batch losses (penalty included) before their updates, reduced over n
    sizes = np.array([4, 4, 2] * 5)
    per_epoch = (ref.losses * sizes).reshape(5, 3).sum(1) / 10
    np.testing.assert_allclose(r.journal.loss[1:], per_epoch, rtol=1e-13)
    if lr_schedule is not None:
        np.testing.assert_allclose(r.journal.rows[:, -1][1:], ref.rates, rtol=0, atol=0)
    else:
        assert "learning_rate" not in r.journal.columns


def test_epoch_journal_includes_the_penalty():
    net, x, y = _net(4)
    r = dr.train(net, x, y, 0.2, dr.Schedule("batch", epochs=3), optimizer=opt.Adam(), l2=0.3)
    ref = optimize(net, x, y, 0.2, opt.Adam(), l2=0.3, schedule=dr.Schedule("batch", epochs=4))
    # batch mode: the loss before update k+1 is the epoch-k loss with the penalty
    np.testing.assert_allclose(r.journal.loss, ref.losses, rtol=1e-13)
    plain = dr.train(net, x, y, 0.2, dr.Schedule("batch", epochs=3), optimizer=opt.Adam())
    assert r.journal.loss[0] - plain.journal.loss[0] == pytest.approx(
        0.15 * sum(float(np.sum(lay.W ** 2)) for lay in net.layers), rel=1e-12)


def test_defaults_are_plain_descent_bit_for_bit():
    net, x, y = _net(5)
    schedule = dr.Schedule("minibatch", 3, epochs=4)
    for engine in (None, "generic"):
        a = dr.train(net, x, y, 0.3, schedule, engine=engine)
        b = dr.train(net, x, y, 0.3, schedule, engine=engine, optimizer=opt.SGD(), lr_schedule=sch.Constant(), l2=0.0)
        assert np.array_equal(a.journal.rows, b.journal.rows) and a.journal.columns[-1] != "learning_rate"
        assert a.updates == 16


def test_non_plain_settings_choose_the_buffered_engine(monkeypatch):
    # the buffered engine runs every optimizer, schedule and L2 (its in-place kernels); the compiled
    # one has no adam kernel (Optimizer.scalar), so "scalar" is answered with buffered; "generic" stays as asked
    net, x, y = _net(6)
    schedule = dr.Schedule("minibatch", 2, epochs=2)
    made = []
    real = _run.GenericRun

    class Spy(real):
        def __init__(self, *a, **k):
            made.append(self)
            super().__init__(*a, **k)

    monkeypatch.setattr(_run, "GenericRun", Spy)
    adam = dr.optimization.Optimization(opt.Adam())
    for engine, chosen in ((None, "buffered"), ("buffered", "buffered"), ("scalar", "buffered"), ("generic", "generic")):
        assert _run.choose(net, len(x), schedule, "epoch", engine, None, adam) == chosen
        r = dr.train(net, x, y, 0.1, schedule, engine=engine, optimizer=opt.Adam())
        ref = optimize(net, x, y, 0.1, opt.Adam(), schedule=schedule)
        np.testing.assert_allclose(r.network.parameters(), ref.network.parameters(), rtol=0, atol=1e-14)
    assert len(made) == 1
    assert _run.choose(net, len(x), schedule, "epoch", "buffered", None) == "buffered"  # plain: as asked


BASE = {"layers": [{"weights": [[0.15, 0.2], [0.25, 0.3]], "biases": [0.35, 0.35], "activation": "sigmoid"},
                   {"weights": [[0.4, 0.45]], "biases": [0.6], "activation": "sigmoid"}],
        "loss": "half_sse", "data": {"inputs": [[0.05, 0.1], [0.2, 0.9]], "targets": [[0.5], [0.1]]},
        "learning_rate": 0.5, "training": {"method": "stochastic", "epochs": 3}}


def test_problem_file_fields_are_read_and_used():
    doc = dict(BASE, optimizer={"name": "sgd", "momentum": 0.9, "nesterov": True},
               learning_rate_schedule={"name": "exponential", "gamma": 0.5}, regularization={"l2": 0.01})
    p = dr.parse_problem(doc, "p.yaml")
    assert p.optimization.optimizer == opt.SGD(momentum=0.9, nesterov=True)
    assert p.optimization.lr_schedule == sch.Exponential(gamma=0.5) and p.optimization.l2 == 0.01
    assert p.optimization.settings() == {k: doc[k] for k in ("optimizer", "learning_rate_schedule", "regularization")}
    r = p.train()
    ref = optimize(p.network, p.x, p.y, 0.5, opt.SGD(momentum=0.9, nesterov=True), sch.Exponential(gamma=0.5),
                   0.01, p.schedule)
    np.testing.assert_allclose(r.network.parameters(), ref.network.parameters(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(r.journal.rows[:, -1], [0.5, 0.5, 0.25, 0.125])
    assert dr.parse_problem(BASE, "p.yaml").optimization.plain


@pytest.mark.parametrize("field, value, line", [
    ("optimizer", {"name": "adam", "beta1": 1.5}, "p.yaml: optimizer.beta1: must be in [0, 1), got 1.5"),
    ("optimizer", {"name": "adam", "weight_decay": 0.1}, "p.yaml: optimizer.weight_decay: adam takes beta1, beta2, eps"),
    ("optimizer", {"name": "adamm"}, "p.yaml: optimizer.name: expected one of sgd, rmsprop, adam, adamw, got 'adamm'"),
    ("optimizer", {"name": "sgd", "momentum": "fast"}, "p.yaml: optimizer.momentum: expected a number, got the text 'fast'"),
    ("optimizer", {"name": "sgd", "momentum": 0.5, "nesterov": 1}, "p.yaml: optimizer.nesterov: expected true or false, got"),
    ("optimizer", "adam", "p.yaml: optimizer: expected a mapping like {name: ...}"),
    ("learning_rate_schedule", {"name": "step", "gamma": 0.5}, "p.yaml: learning_rate_schedule.step_size: step needs step_size"),
    ("regularization", {"l2": -1}, "p.yaml: regularization.l2: must be >= 0, got -1"),
    ("regularization", {"l1": 0.1}, "p.yaml: regularization.l1: unknown field"),
])
def test_problem_file_errors_are_one_line_at_the_field(field, value, line):
    with pytest.raises(InputError) as e:
        dr.parse_problem(dict(BASE, **{field: value}), "p.yaml")
    assert e.value.line().startswith(line), e.value.line()
    assert "\n" not in e.value.line()


def _col(journal, name):
    return journal.rows[:, journal.columns.index(name)]


def test_cli_train_with_adam(tmp_path, capsys):
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(dict(BASE, optimizer={"name": "adam"})))
    journal = tmp_path / "journal.csv"
    assert main(["train", str(path), "--journal", str(journal)]) == 0
    p = dr.load_problem(path)
    ref = optimize(p.network, p.x, p.y, 0.5, opt.Adam(), schedule=p.schedule)
    rows = np.loadtxt(journal, delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(rows[-1, 2:11], ref.network.parameters(), rtol=1e-12)
    assert rows.shape[0] == 4


# -- checkpoints: the optimizer state travels and resumes bit for bit ---------------------------------
TINY = dict(BASE, data={"inputs": [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5]], "targets": [[0], [1], [1], [0], [0.5]]},
            training={"method": "minibatch", "batch_size": 2, "shuffle": True, "seed": 4, "epochs": 6},
            optimizer={"name": "adam", "beta1": 0.8}, learning_rate_schedule={"name": "step", "step_size": 2, "gamma": 0.5},
            regularization={"l2": 0.01}, learning_rate=0.05)


@pytest.fixture
def stopped(tmp_path, capsys):
    return checkpointed(tmp_path, capsys, TINY)


def test_stopped_and_resumed_equals_a_straight_run(stopped, tmp_path, capsys):
    problem, c = stopped
    header = json.loads(c.read_text())
    assert header["optimizer_state"]["t"] == 9 and sorted(header["optimizer_state"]) == \
        ["mW1", "mW2", "mb1", "mb2", "sW1", "sW2", "sb1", "sb2", "t"]
    assert header["optimization"]["optimizer"] == {"name": "adam", "beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    resumed, straight = tmp_path / "resumed.csv", tmp_path / "straight.csv"
    assert main(["train", str(problem), "--epochs", "6", "--resume", str(c), "--journal", str(resumed), "--quiet"]) == 0
    assert main(["train", str(problem), "--epochs", "6", "--journal", str(straight), "--quiet"]) == 0
    assert resumed.read_text() == straight.read_text()
    p = dr.load_problem(problem)
    ref = dr.train(p.network, p.x, p.y, 0.05, p.schedule, optimizer=opt.Adam(beta1=0.8),
                   lr_schedule=sch.Step(step_size=2, gamma=0.5), l2=0.01)
    rows = np.loadtxt(straight, delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_array_equal(rows[-1, 2:11], ref.network.parameters())
    np.testing.assert_array_equal(rows[:, -1], [0.05, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125])


def test_state_in_memory_resumes_bit_for_bit():
    net, x, y = _net(7)
    schedule = dr.Schedule("minibatch", 3, epochs=5, shuffle=True, seed=2)
    kw = dict(optimizer=opt.SGD(momentum=0.9, nesterov=True), lr_schedule=sch.Exponential(gamma=0.7), l2=0.02)
    saved = []
    straight = dr.train(net, x, y, 0.1, schedule, on_epoch=lambda e: saved.append(e.checkpoint()), **kw)
    assert saved[1].state["t"] == 8 and saved[1].state["vW2"].shape == (2, 4)
    resumed = dr.train(net, x, y, 0.1, schedule, start=saved[1], **kw)
    assert np.array_equal(resumed.journal.rows, straight.journal.rows)
    with pytest.raises(dr.checkpoint.ResumeError, match="trained with"):
        dr.train(net, x, y, 0.1, schedule, start=saved[1], optimizer=opt.Adam())


def _reseal(c, doc):
    doc = {k: v for k, v in doc.items() if k != "sha256"}
    c.write_text(seal(doc))


@pytest.mark.parametrize("edit, field, says", [
    (lambda s: s.update(mW1=[[0.0, 0.0]]), "optimizer_state.mW1", "expected 2 rows"),
    (lambda s: s.update(t=-1), "optimizer_state.t", ""),
    (lambda s: s.update(t=8), "optimizer_state.t", "the step count 8 is not the checkpoint's 9 updates"),
    (lambda s: s.pop("sb2"), "optimizer_state.sb2", "missing"),
    (lambda s: s.update(vW1=[[0.0]]), "optimizer_state.vW1", "unknown field"),
])
def test_tampered_state_is_refused_in_one_line(stopped, capsys, edit, field, says):
    problem, c = stopped
    doc = json.loads(c.read_text())
    edit(doc["optimizer_state"])
    _reseal(c, doc)
    assert main(["train", str(problem), "--epochs", "6", "--resume", str(c), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{c}: {field}: ") and says in err, err


def test_saved_model_keeps_the_training_settings(tmp_path, capsys):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps(dict(BASE, optimizer={"name": "rmsprop", "alpha": 0.9},
                                       regularization={"l2": 0.5})))
    model = tmp_path / "model.json"
    assert main(["train", str(problem), "--save", str(model), "--quiet"]) == 0
    doc = json.loads(model.read_text())
    assert doc["optimizer"] == {"name": "rmsprop", "alpha": 0.9, "eps": 1e-8} and doc["regularization"] == {"l2": 0.5}
    back = dr.load_problem(model)  # still a valid problem file
    assert back.optimization == dr.load_problem(problem).optimization
    p = dr.load_problem(problem)
    ref = optimize(p.network, p.x, p.y, 0.5, opt.RMSprop(alpha=0.9), l2=0.5, schedule=p.schedule)
    np.testing.assert_allclose(back.network.parameters(), ref.network.parameters(), rtol=0, atol=1e-15)


# -- --backend torch: torch.optim and lr_scheduler, equal to the generic engine ---------------------------
@pytest.mark.parametrize("case", ["momentum", "nesterov_l2", "rmsprop_step", "adam_cosine_l2", "adamw_exp", "l2_only"])
@pytest.mark.parametrize("mode", ["epoch", "running"])
def test_torch_backend_equals_generic(case, mode):
    require_module("torch")
    from deltarule.torch_bridge import train_torch

    optimizer, lr_schedule, l2 = CASES[case]
    if case == "adamw_exp":
        l2 = 0.04  # AdamW's L2 goes into the torch loss: tested too
    net, x, y = _net(8)
    schedule = dr.Schedule("minibatch", 4, epochs=6)
    kw = dict(optimizer=optimizer, lr_schedule=lr_schedule, l2=l2, journal_loss=mode)
    ours = dr.train(net, x, y, 0.1, schedule, **kw)
    theirs = train_torch(net, x, y, 0.1, schedule, device="cpu", **kw)
    assert ours.journal.columns == theirs.journal.columns and theirs.updates == 18
    np.testing.assert_allclose(theirs.journal.rows, ours.journal.rows, rtol=1e-10, atol=1e-13)


def test_cli_torch_backend_with_adam(tmp_path, capsys):
    require_module("torch")
    path = tmp_path / "adam.yaml"
    path.write_text(yaml.safe_dump(dict(BASE, optimizer={"name": "adam"})))
    journal = tmp_path / "journal.csv"
    assert main(["train", str(path), "--backend", "torch", "--journal", str(journal), "--quiet"]) == 0
    p = dr.load_problem(path)
    ref = optimize(p.network, p.x, p.y, 0.5, opt.Adam(), schedule=p.schedule)
    rows = np.loadtxt(journal, delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(rows[-1, 2:11], ref.network.parameters(), rtol=1e-10)


# -- early stopping on the validation loss ------------------------------------------------------------
def _expected_stop(val, patience, min_delta):
    """Independent reading of the rule on a straight run's val_loss (epochs 1..): (stop epoch, best epoch)."""
    best, best_e, wait = np.inf, 0, 0
    for e, v in enumerate(val, start=1):
        if v < best - min_delta:
            best, best_e, wait = v, e, 0
        else:
            wait += 1
        if wait >= patience:
            return e, best_e
    return None, best_e


@pytest.mark.parametrize("restore_best", [True, False])
@pytest.mark.parametrize("engine", [None, "generic"])
def test_early_stopping_stops_where_the_rule_says(restore_best, engine):
    net, x, y = _net(9)
    rng = np.random.default_rng(1)
    val = (rng.normal(size=(6, 3)), rng.uniform(0.1, 0.9, (6, 2)))
    schedule = dr.Schedule("minibatch", 2, epochs=60)
    straight = dr.train(net, x, y, 0.8, schedule, validation=val, engine=engine)
    vals = straight.journal.rows[1:, straight.journal.columns.index("val_loss")]
    stop, best = _expected_stop(vals, 4, 1e-4)
    assert stop is not None and 4 < stop < 60 and best == stop - 4
    rule = dr.early_stopping.EarlyStopping(patience=4, min_delta=1e-4, restore_best=restore_best)
    r = dr.train(net, x, y, 0.8, schedule, validation=val, engine=engine, early_stopping=rule)
    np.testing.assert_array_equal(r.journal.rows, straight.journal.rows[:stop + 1])
    assert r.updates == stop * 5 and f"after epoch {stop}" in r.stopped and f"at epoch {best}" in r.stopped
    assert r.kept_epoch == (best if restore_best else None)
    kept = straight.journal.rows[best if restore_best else stop, 2:2 + net.parameters().size]
    np.testing.assert_array_equal(r.network.parameters(), kept)
    with pytest.raises(ValueError, match="validation"):
        dr.train(net, x, y, 0.8, schedule, early_stopping=rule)


def test_early_stopping_from_a_problem_file_and_cli(tmp_path, capsys):
    rng = np.random.default_rng(2)
    doc = dict(BASE, data={"inputs": rng.normal(size=(12, 2)).round(3).tolist(),
                           "targets": rng.uniform(0.1, 0.9, (12, 1)).round(3).tolist()},
               training={"method": "minibatch", "batch_size": 2, "epochs": 200}, learning_rate=2.0,
               validation={"fraction": 0.25, "seed": 3}, early_stopping={"patience": 3})
    path = tmp_path / "es.json"
    path.write_text(json.dumps(doc))
    p = dr.load_problem(path)
    assert p.early_stopping == dr.early_stopping.EarlyStopping(3, 0.0, True)
    journal = tmp_path / "j.csv"
    assert main(["train", str(path), "--journal", str(journal)]) == 0
    out = capsys.readouterr().out
    rows = np.loadtxt(journal, delimiter=",", skiprows=1, ndmin=2)
    plain = dr.parse_problem({k: v for k, v in doc.items() if k != "early_stopping"}, str(path)).train()
    vals = plain.journal.rows[1:, plain.journal.columns.index("val_loss")]
    stop, best = _expected_stop(vals, 3, 0.0)
    assert stop is not None and len(rows) == stop + 1 and f"stopped early after epoch {stop}" in out
    # restore_best keeps epoch `best`: the summary's "after" numbers are that epoch's, not the last one's
    assert best < stop and f"-> {rows[best, 1]:.6g} (epoch {best}, kept)" in out
    val_col = plain.journal.columns.index("val_loss")
    assert f"loss {rows[0, val_col]:.6g} -> {rows[best, val_col]:.6g}" in out
    with pytest.raises(InputError, match="early_stopping: watches the validation loss"):
        dr.parse_problem({k: v for k, v in doc.items() if k != "validation"}, "p.yaml")
    with pytest.raises(InputError, match="early_stopping.patience"):
        dr.parse_problem(dict(doc, early_stopping={"patience": 0}), "p.yaml")


def test_early_stopping_resumed_and_on_torch_equal_a_straight_run():
    net, x, y = _net(9)
    rng = np.random.default_rng(1)
    val = (rng.normal(size=(6, 3)), rng.uniform(0.1, 0.9, (6, 2)))
    schedule = dr.Schedule("minibatch", 2, epochs=60)
    rule = dr.early_stopping.EarlyStopping(patience=4, min_delta=1e-4)
    saved = []
    straight = dr.train(net, x, y, 0.8, schedule, validation=val, engine="generic", early_stopping=rule,
                        optimizer=opt.SGD(momentum=0.5), on_epoch=lambda e: saved.append(e.checkpoint()))
    assert straight.stopped and len(saved) == len(straight.journal.rows) - 1
    resumed = dr.train(net, x, y, 0.8, schedule, validation=val, early_stopping=rule, optimizer=opt.SGD(momentum=0.5),
                       start=saved[len(saved) // 2])
    assert resumed.stopped == straight.stopped and np.array_equal(resumed.journal.rows, straight.journal.rows)
    assert np.array_equal(resumed.network.parameters(), straight.network.parameters())
    require_module("torch")
    from deltarule.torch_bridge import train_torch

    theirs = train_torch(net, x, y, 0.8, schedule, validation=val, early_stopping=rule, device="cpu",
                         optimizer=opt.SGD(momentum=0.5))
    assert theirs.stopped == straight.stopped
    np.testing.assert_allclose(theirs.journal.rows, straight.journal.rows, rtol=1e-10, atol=1e-13)
