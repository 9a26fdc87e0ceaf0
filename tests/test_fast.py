"""The fast engines (fast.py) give the generic loop's numbers: journal, parameters, updates,
divergence — to 1e-12 in float64, for every activation, loss, reduction, method and journal mode."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import require_module

import deltarule as dr
from deltarule import fast, training
from deltarule.training import driver
from deltarule.network import Layer, Network


def generic(net, x, y, lr, schedule, **kw):
    # the generic loop: the reference
    return training.generic(net, x, y, lr, schedule, **kw)


def net_of(sizes, acts, loss, reduction="mean", seed=0, dtype=np.float64, frozen=()):
    rng = np.random.default_rng(seed)
    layers = []
    for l, (fan, units, act) in enumerate(zip(sizes, sizes[1:], acts)):
        layers.append(Layer(rng.normal(0, 0.8, (units, fan)).astype(dtype), rng.normal(0, 0.3, units).astype(dtype),
                            act, train_weights=(l, "W") not in frozen, train_biases=(l, "b") not in frozen))
    return Network(tuple(layers), loss, reduction)


def data(n, d, k, loss, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, d))
    if loss == "cross_entropy":
        y = np.eye(k)[rng.integers(0, k, n)]
    else:
        y = rng.uniform(0, 1, (n, k))
    return x, y


def assert_same(a, b, tol=1e-12):
    assert a.journal.columns == b.journal.columns
    assert a.updates == b.updates
    np.testing.assert_allclose(a.journal.rows, b.journal.rows, rtol=tol, atol=tol)
    np.testing.assert_allclose(a.network.parameters(), b.network.parameters(), rtol=tol, atol=tol)
    assert a.network.dtype == b.network.dtype


CASES = [  # hidden and output activations, loss
    (("sigmoid", "sigmoid"), "sse"),
    (("tanh", "identity"), "half_sse"),
    (("relu", "sigmoid"), "mse"),
    (("leaky_relu", "tanh"), "half_mse"),
    (("sigmoid", "sigmoid"), "bce"),
    (("tanh", "softmax"), "cross_entropy"),
    (("relu", "softmax"), "sse"),  # softmax without its fused loss: the Jacobian product
    (("identity", "relu"), "sse"),
]
SCHEDULES = [dr.Schedule("stochastic", epochs=7), dr.Schedule("minibatch", 3, epochs=5, shuffle=True, seed=4),
             dr.Schedule("batch", epochs=6)]


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
@pytest.mark.parametrize("acts,loss", CASES)
@pytest.mark.parametrize("schedule", SCHEDULES, ids=["stochastic", "minibatch-shuffled", "batch"])
def test_engines_match_the_generic_loop(engine, acts, loss, schedule):
    if engine == "scalar":
        require_module("numba")
    net = net_of((3, 4, 2), acts, loss)
    x, y = data(8, 3, 2, loss)
    ref = generic(net, x, y, 0.3, schedule)
    got = training.train(net, x, y, 0.3, schedule, engine=engine)
    assert_same(got, ref)


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
@pytest.mark.parametrize("mode", ["epoch", "running", "batch"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_journal_modes_reductions_and_frozen_parameters(engine, mode, reduction):
    if engine == "scalar":
        require_module("numba")
    net = net_of((2, 3, 1), ("sigmoid", "sigmoid"), "sse", reduction, frozen={(0, "b"), (1, "W")})
    x, y = data(5, 2, 1, "sse")
    schedule = dr.Schedule("minibatch", 2, epochs=4)
    ref = generic(net, x, y, 0.5, schedule, journal_loss=mode, initial_row=False)
    got = training.train(net, x, y, 0.5, schedule, engine=engine, journal_loss=mode, initial_row=False)
    assert_same(got, ref)
    # frozen: b1 and W2 never move
    assert np.array_equal(got.network.layers[0].b, net.layers[0].b)
    assert np.array_equal(got.network.layers[1].W, net.layers[1].W)


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
def test_seed_000_ten_epochs_through_the_fast_engines(engine):
    # seed 000, per-example updates from w = -2, b = 1, eta = 0.9: ten epochs end at b = -0.3844
    if engine == "scalar":
        require_module("numba")
    p = dr.load_problem("seed-000-update")
    got = training.train(p.network, p.x, p.y, p.learning_rate, p.schedule, engine=engine)
    assert round(float(got.network.layers[0].b[0]), 4) == -0.3844
    assert_same(got, generic(p.network, p.x, p.y, p.learning_rate, p.schedule))


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
def test_classifier_extras_and_validation(engine, monkeypatch):
    if engine == "scalar":
        require_module("numba")
    monkeypatch.setattr(fast, "EVAL_ROWS", 4)  # the whole-data passes go in slices of 4 rows
    net = net_of((4, 5, 3), ("tanh", "softmax"), "cross_entropy")
    x, y = data(20, 4, 3, "cross_entropy")
    schedule = dr.Schedule("minibatch", 6, epochs=3)
    ref = generic(net, x[:15], y[:15], 0.2, schedule, validation=(x[15:], y[15:]))
    got = training.train(net, x[:15], y[:15], 0.2, schedule, engine=engine, validation=(x[15:], y[15:]))
    assert got.journal.columns[-3:] == ("accuracy", "val_loss", "val_accuracy")
    assert_same(got, ref)


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
def test_divergence_is_reported_where_the_generic_loop_reports_it(engine):
    if engine == "scalar":
        require_module("numba")
    net = net_of((2, 3, 1), ("identity", "identity"), "sse")
    x, y = data(6, 2, 1, "sse")
    x = x * 1e3
    schedule = dr.Schedule("stochastic", epochs=50)
    with pytest.raises(dr.Diverged) as ref:
        generic(net, x, y, 10.0, schedule)
    with pytest.raises(dr.Diverged) as got:
        training.train(net, x, y, 10.0, schedule, engine=engine)
    assert (got.value.epoch, got.value.update, got.value.reason) == (ref.value.epoch, ref.value.update,
                                                                      ref.value.reason)
    assert np.isfinite(got.value.network.parameters()).all()
    np.testing.assert_allclose(got.value.network.parameters(), ref.value.network.parameters(), rtol=1e-12)
    np.testing.assert_allclose(got.value.journal.rows, ref.value.journal.rows, rtol=1e-12)


def test_float32_stays_float32_in_the_buffered_engine():
    net = net_of((6, 5, 3), ("sigmoid", "softmax"), "cross_entropy", dtype=np.float32)
    x, y = data(40, 6, 3, "cross_entropy")
    schedule = dr.Schedule("minibatch", 8, epochs=3, shuffle=True)
    run = fast._BufferedRun(net, x.astype(np.float32), y.astype(np.float32), np.float32(0.1), schedule, "batch")
    assert all(b.dtype == np.float32 for b in (*run.Z, *run.A, *run.D, *run.GW, *run.Gb, run.p))
    got = training.train(net, x, y, 0.1, schedule, engine="buffered")
    ref = generic(net, x, y, 0.1, schedule)
    assert got.network.dtype == np.float32
    assert_same(got, ref, tol=2e-5)


def test_train_picks_an_engine_by_size():
    p = dr.load_problem("seed-000-update")
    long_run = dr.Schedule("stochastic", epochs=20_000)
    try:
        import numba  # noqa: F401
        expected = "scalar"
    except ImportError:
        expected = "buffered"
    assert fast.engine_for(p.network, 6, long_run) == expected
    assert fast.engine_for(p.network, 6, dr.Schedule("stochastic", epochs=3)) == "buffered"
    big = net_of((64, 32, 10), ("sigmoid", "softmax"), "cross_entropy")
    assert fast.engine_for(big, 1797, dr.Schedule("minibatch", 32, epochs=50)) == "buffered"
    tiny_classifier = net_of((2, 3, 2), ("tanh", "softmax"), "cross_entropy")
    assert fast.engine_for(tiny_classifier, 4, long_run, "batch") == "buffered"  # keeps the outputs
    hidden_softmax = net_of((2, 3, 1), ("softmax", "sigmoid"), "sse")
    assert fast.engine_for(hidden_softmax, 4, long_run) is None  # the generic loop handles it


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
def test_ctrl_c_gives_the_checkpoint_of_a_completed_epoch(engine):
    if engine == "scalar":
        require_module("numba")
    net = net_of((2, 3, 1), ("tanh", "sigmoid"), "half_sse")
    x, y = data(6, 2, 1, "sse")
    schedule = dr.Schedule("stochastic", epochs=10, shuffle=True, seed=2)

    def stop(epoch, loss):
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(training.Interrupted) as ref:
        generic(net, x, y, 0.5, schedule, callback=stop)
    with pytest.raises(training.Interrupted) as got:
        training.train(net, x, y, 0.5, schedule, engine=engine, callback=stop)
    g, r = got.value.checkpoint, ref.value.checkpoint
    # the buffered engine stops where the generic loop does; the scalar one at the end of its chunk
    assert g.epoch == 3 if engine == "buffered" else g.epoch >= 3
    full = generic(net, x, y, 0.5, dr.Schedule("stochastic", epochs=g.epoch, shuffle=True, seed=2))
    np.testing.assert_allclose(g.network.parameters(), full.network.parameters(), rtol=1e-12, atol=1e-12)
    rng = schedule.rng()  # the shuffle generator after g.epoch epochs' permutations
    for _ in range(g.epoch):
        rng.permutation(6)
    assert g.updates == full.updates and g.rng_state == rng.bit_generator.state
    if engine == "buffered":
        assert g.rng_state == r.rng_state
    np.testing.assert_allclose(g.journal.rows, full.journal.rows, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("engine", ["scalar", "buffered"])
@pytest.mark.parametrize("mode", ["running", "batch"])
def test_softmax_cross_entropy_journal_modes(engine, mode):
    # the buffered engine takes the batch's cross-entropy from the softmax's own row max and sum
    if engine == "scalar":
        require_module("numba")
    net = net_of((5, 4, 3), ("sigmoid", "softmax"), "cross_entropy", seed=3)
    x, y = data(23, 5, 3, "cross_entropy")
    y[::4] = [0.2, 0.5, 0.3]  # probability rows, not only one-hot
    schedule = dr.Schedule("minibatch", 4, epochs=4, shuffle=True, seed=9)
    ref = generic(net, x * 3, y, 0.7, schedule, journal_loss=mode)
    got = training.train(net, x * 3, y, 0.7, schedule, engine=engine, journal_loss=mode)
    assert_same(got, ref)


@pytest.mark.parametrize("sizes", [(1, 1), (2, 1), (1, 3), (3, 4, 2), (12, 11, 10, 1)])
def test_parameter_names_are_the_networks(sizes):
    net = net_of(sizes, ("sigmoid",) * (len(sizes) - 1), "sse")
    assert list(driver.parameter_names(net.sizes)) == net.parameter_names()


@pytest.mark.parametrize("engine", [None, "buffered"])
def test_batch_mode_measures_the_training_passes(engine):
    # with one batch per epoch, the batch-mode loss and accuracy of epoch e are those of the
    # parameters before its update: the epoch-mode row of epoch e - 1
    net = net_of((4, 6, 3), ("tanh", "softmax"), "cross_entropy", seed=5)
    x, y = data(30, 4, 3, "cross_entropy")
    schedule = dr.Schedule("batch", epochs=6)
    run = generic if engine is None else (lambda *a, **k: training.train(*a, engine=engine, **k))
    by_batch = run(net, x, y, 0.8, schedule, journal_loss="batch").journal.to_frame()
    by_epoch = run(net, x, y, 0.8, schedule, journal_loss="epoch").journal.to_frame()
    np.testing.assert_allclose(by_batch["loss"][1:].to_numpy(), by_epoch["loss"][:-1].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(by_batch["accuracy"][1:].to_numpy(), by_epoch["accuracy"][:-1].to_numpy())
    assert len(set(by_epoch["accuracy"])) > 1  # the accuracy does change over these epochs


@pytest.mark.parametrize("acts,loss", CASES)
@pytest.mark.parametrize("mode", ["epoch", "batch"])
def test_generated_step_is_the_readable_step(acts, loss, mode):
    # the buffered engine runs straight-line source generated per network; _step is the same
    # sequence of numpy calls written as ordinary code
    net = net_of((3, 4, 2), acts, loss, frozen={(1, "b")})
    x, y = data(10, 3, 2, loss)
    schedule = dr.Schedule("minibatch", 4, epochs=3, shuffle=True, seed=1)
    orders = np.stack([np.random.default_rng(1).permutation(10) for _ in range(3)])
    runs = [fast._BufferedRun(net, x, y, np.float64(0.4), schedule, mode) for _ in range(2)]
    runs[1].step = lambda xb, yb, idx, V, c: runs[1]._step(xb, yb, idx)
    (rows0, _, f0), (rows1, _, f1) = (r.epochs(1, 4, orders) for r in runs)
    assert f0 is None and f1 is None
    np.testing.assert_array_equal(rows0, rows1)
