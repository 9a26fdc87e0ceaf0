"""Gradient descent: batch, mini-batch and stochastic as one loop; the journal; saving; dtypes.

``train()`` may run on a fast engine (deltarule.fast); ``training.generic`` is the generic
loop. Both are checked against ``steps()``, which chains ``Network.step`` (the reference).
"""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import deltarule as dr

RNG = np.random.default_rng(2026)
X = RNG.normal(size=(7, 3))
Y = RNG.uniform(size=(7, 2))


def make_net(dtype="float64", loss="half_sse", reduction="mean", freeze=False):
    rng = np.random.default_rng(3)
    layers = [dr.Layer(rng.normal(size=(4, 3)), rng.normal(size=4), "tanh",
                       train_weights=not freeze),
              dr.Layer(rng.normal(size=(2, 4)), rng.normal(size=2), "sigmoid", train_biases=not freeze)]
    return dr.Network(layers, loss, reduction).astype(dtype)


ENGINES = {
    "default": lambda *a, **k: dr.train(*a, **k),
    "generic": lambda *a, **k: dr.training.generic(*a, **k),
}


@pytest.fixture(params=list(ENGINES))
def train(request):
    return ENGINES[request.param]


def reference(net, x, y, lr, schedule):
    """The run as a chain of Network.step records: the reference for every engine."""
    n_updates = schedule.epochs * -(-len(x) // schedule.size(len(x)))
    return dr.steps(net, x, y, lr, schedule, n_updates)


# -- one loop, three methods ---------------------------------------------------------------------
def test_minibatch_of_n_is_batch(train):
    net = make_net()
    a = train(net, X, Y, 0.5, dr.Schedule("minibatch", batch_size=7, epochs=5))
    b = train(net, X, Y, 0.5, dr.Schedule("batch", epochs=5))
    assert a.updates == b.updates == 5
    np.testing.assert_array_equal(a.journal.rows, b.journal.rows)
    # a batch size larger than n is one batch too
    c = train(net, X, Y, 0.5, dr.Schedule("minibatch", batch_size=100, epochs=5))
    np.testing.assert_array_equal(c.journal.rows, b.journal.rows)


def test_minibatch_of_1_is_stochastic(train):
    net = make_net()
    a = train(net, X, Y, 0.5, dr.Schedule("minibatch", batch_size=1, epochs=3))
    b = train(net, X, Y, 0.5, dr.Schedule("stochastic", epochs=3))
    assert a.updates == b.updates == 21
    np.testing.assert_array_equal(a.journal.rows, b.journal.rows)


@pytest.mark.parametrize("schedule", [dr.Schedule("batch", epochs=4), dr.Schedule("stochastic", epochs=2),
                                      dr.Schedule("minibatch", batch_size=3, epochs=3),
                                      dr.Schedule("minibatch", batch_size=2, epochs=2, shuffle=True, seed=9)],
                         ids=["batch", "stochastic", "minibatch", "minibatch-shuffled"])
def test_training_equals_the_chain_of_steps(train, schedule):
    net = make_net()
    r = train(net, X, Y, 0.3, schedule)
    chain = reference(net, X, Y, 0.3, schedule)
    assert r.updates == len(chain)
    np.testing.assert_allclose(r.network.parameters(), chain[-1].after.parameters(), rtol=1e-12, atol=1e-14)


def test_last_minibatch_holds_the_remainder(train):
    net = make_net()
    sched = dr.Schedule("minibatch", batch_size=3, epochs=2)
    chain = dr.steps(net, X, Y, 0.5, sched, 6)
    # 7 examples in batches of 3: (0, 1, 2), (3, 4, 5), (6,) — the last one is used, not dropped
    assert [s.examples for s in chain] == [(0, 1, 2), (3, 4, 5), (6,)] * 2
    assert chain[2].trace.x.shape == (1, 3)
    np.testing.assert_array_equal(chain[2].trace.x, X[6:7])
    r = train(net, X, Y, 0.5, sched)
    assert r.updates == 6
    # the remainder's update is the mean over ITS examples (one here), as a batch of 1
    alone = net.step(X[6:7], Y[6:7], 0.5)
    after2 = chain[1].after.step(X[6:7], Y[6:7], 0.5)
    np.testing.assert_array_equal(after2.after.parameters(), chain[2].after.parameters())
    assert alone.trace.layers[0].dW.shape == (4, 3)


def test_shuffle_is_seeded_reproducible_and_not_file_order(train):
    net = make_net()
    sched = dr.Schedule("stochastic", epochs=3, shuffle=True, seed=42)
    a = train(net, X, Y, 0.5, sched)
    b = train(net, X, Y, 0.5, sched)
    np.testing.assert_array_equal(a.journal.rows, b.journal.rows)  # bit for bit
    plain = train(net, X, Y, 0.5, dr.Schedule("stochastic", epochs=3))
    other = train(net, X, Y, 0.5, dr.Schedule("stochastic", epochs=3, shuffle=True, seed=43))
    assert not np.array_equal(a.network.parameters(), plain.network.parameters())
    assert not np.array_equal(a.network.parameters(), other.network.parameters())
    # the order: a permutation of all examples in every epoch, not the file order, and new each epoch
    orders = [s.examples[0] for s in dr.steps(net, X, Y, 0.5, sched, 21)]
    epochs = [orders[i:i + 7] for i in range(0, 21, 7)]
    assert all(sorted(e) == list(range(7)) for e in epochs)
    assert epochs[0] != list(range(7)) and epochs[0] != epochs[1]
    assert orders == [s.examples[0] for s in dr.steps(net, X, Y, 0.5, sched, 21)]


def test_frozen_parameters_stay_put_while_their_gradients_are_reported(train):
    net = make_net(freeze=True)
    r = train(net, X, Y, 0.5, dr.Schedule("minibatch", batch_size=2, epochs=4))
    np.testing.assert_array_equal(r.network.layers[0].W, net.layers[0].W)
    np.testing.assert_array_equal(r.network.layers[1].b, net.layers[1].b)
    assert not np.array_equal(r.network.layers[0].b, net.layers[0].b)
    assert not np.array_equal(r.network.layers[1].W, net.layers[1].W)
    assert r.network.layers[0].train_weights is False and r.network.layers[1].train_biases is False
    step = net.step(X, Y, 0.5)
    assert np.abs(step.trace.layers[0].dW).min() > 0 and np.abs(step.trace.layers[1].db).min() > 0
    np.testing.assert_array_equal(step.after.layers[0].W, net.layers[0].W)
    np.testing.assert_array_equal(step.after.layers[1].b, net.layers[1].b)
    # the journal's frozen columns are constant
    df = r.journal.to_frame()
    assert (df["W1[2,3]"] == net.layers[0].W[1, 2]).all() and (df["b2[1]"] == net.layers[1].b[0]).all()


# -- the journal ---------------------------------------------------------------------------------------
def test_journal_columns():
    r = dr.train(make_net(), X, Y, 0.5, dr.Schedule(epochs=2))
    W1 = [f"W1[{i},{j}]" for i in range(1, 5) for j in range(1, 4)]
    b1 = [f"b1[{i}]" for i in range(1, 5)]
    W2 = [f"W2[{i},{j}]" for i in range(1, 3) for j in range(1, 5)]
    b2 = ["b2[1]", "b2[2]"]
    assert r.journal.columns == ("epoch", "loss", *W1, *b1, *W2, *b2)  # a regression: nothing more
    # a classifier (bce) may add columns after the parameters (the contract allows it)
    bce = dr.train(make_net(loss="bce"), X, Y, 0.5, dr.Schedule(epochs=2)).journal.columns
    assert bce[:28] == r.journal.columns
    # one neuron with one input: w and b, as the notes write them
    one = dr.Network([dr.Layer([[0.5]], [0.1], "sigmoid")], "sse")
    assert dr.train(one, [[1.0], [2.0]], [[0.0], [1.0]], 0.1).journal.columns == ("epoch", "loss", "w", "b")
    # one neuron with two inputs is not that case
    two = dr.Network([dr.Layer([[0.5, 0.2]], [0.1], "sigmoid")], "sse")
    assert dr.train(two, [[1.0, 2.0]], [[0.0]], 0.1).journal.columns == ("epoch", "loss", "W1[1,1]",
                                                                            "W1[1,2]", "b1[1]")


def test_journal_row_0_is_the_initial_state_and_epoch_loss_is_evaluate(train):
    net = make_net()
    sched = dr.Schedule("minibatch", batch_size=3, epochs=4)
    r = train(net, X, Y, 0.5, sched)
    rows = r.journal.rows
    assert list(r.journal.epochs) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(rows[0, 2:2 + net.parameters().size], net.parameters())
    np.testing.assert_allclose(rows[0, 1], net.evaluate(X, Y), rtol=1e-14)
    # journal_loss="epoch": the loss over ALL examples with the parameters at the end of the epoch
    p = net.parameters().size
    for row in rows:
        np.testing.assert_allclose(row[1], net.with_parameters(row[2:2 + p]).evaluate(X, Y), rtol=1e-13)
    chain = reference(net, X, Y, 0.5, sched)
    for epoch in range(1, 5):
        after = chain[3 * epoch - 1].after
        np.testing.assert_allclose(rows[epoch, 1], after.evaluate(X, Y), rtol=1e-12)
    assert r.journal.loss_mode == "epoch"
    assert len(dr.train(net, X, Y, 0.5, sched, initial_row=False).journal) == 4


def test_journal_frame_and_csv_round_trip(tmp_path):
    r = dr.train(make_net(), X, Y, 0.5, dr.Schedule(epochs=3))
    df = r.journal.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(r.journal.columns)
    assert df["epoch"].dtype.kind == "i" and list(df["epoch"]) == [0, 1, 2, 3]
    path = tmp_path / "journal.csv"
    r.journal.to_csv(str(path))
    back = pd.read_csv(path)
    assert list(back.columns) == list(r.journal.columns)
    np.testing.assert_array_equal(back.to_numpy(dtype=float), r.journal.rows)  # bit for bit
    assert path.read_text().splitlines()[0].startswith("epoch,loss,")


# -- saving, dtypes, divergence --------------------------------------------------------------------------
def test_to_dict_parses_back_bit_identical():
    net = make_net(loss="bce", reduction="sum", freeze=True)
    trained = dr.train(net, X, Y, 0.7, dr.Schedule("stochastic", epochs=3)).network
    for doc in (trained.to_dict(), json.loads(json.dumps(trained.to_dict()))):
        back = dr.parse_problem(doc, "model.json").network
        np.testing.assert_array_equal(back.parameters(), trained.parameters())
        assert back.parameters().tobytes() == trained.parameters().tobytes()
        assert (back.loss.name, back.reduction, back.dtype) == ("bce", "sum", np.float64)
        assert [(lay.activation.name, lay.train_weights, lay.train_biases) for lay in back.layers] == \
               [(lay.activation.name, lay.train_weights, lay.train_biases) for lay in trained.layers]
    f32 = dr.parse_problem(make_net("float32").to_dict()).network
    assert f32.dtype == np.float32
    assert f32.parameters().tobytes() == make_net("float32").parameters().tobytes()


def test_float32_stays_float32_end_to_end(train):
    doc = make_net().to_dict()
    doc.update(dtype="float32", data={"inputs": X.tolist(), "targets": Y.tolist()}, learning_rate=0.5,
               training={"method": "minibatch", "batch_size": 3, "epochs": 2})
    p = dr.parse_problem(doc)
    assert p.network.dtype == np.float32
    step = p.steps(1)[0]
    for name, value in step.values().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, name
    for lay in step.after.layers:
        assert lay.W.dtype == lay.b.dtype == np.float32
    r = train(p.network, p.x, p.y, p.learning_rate, p.schedule)
    assert r.network.dtype == np.float32
    assert all(lay.W.dtype == lay.b.dtype == np.float32 for lay in r.network.layers)
    assert p.network.trace(p.x, p.y).layers[-1].delta.dtype == np.float32
    assert p.network.predict(p.x).dtype == np.float32
    # float32 arithmetic: close to the float64 run, not equal to it
    r64 = train(make_net(), X, Y, 0.5, p.schedule)
    np.testing.assert_allclose(r.network.parameters(), r64.network.parameters(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("lr", [1e3, 1e30, 1e300])
def test_diverging_run_raises_with_finite_parameters(train, lr):
    net = dr.Network([dr.Layer([[0.5, 0.2], [0.1, -0.3]], [0.0, 0.1], "tanh"),
                      dr.Layer([[1.0, 2.0]], [0.0], "identity")], "sse")
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    y = np.array([[1.0], [2.0], [0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # diverging is reported, not warned about
        with pytest.raises(dr.Diverged) as info:
            train(net, x, y, lr, dr.Schedule("batch", epochs=200))
    e = info.value
    assert np.isfinite(e.network.parameters()).all()
    assert e.learning_rate == lr and e.epoch >= 1
    assert "diverged" in str(e)
    # the journal so far holds finite rows only
    assert np.isfinite(e.journal.rows).all() and len(e.journal) == e.epoch


def test_seed_000_running_journal_matches_the_chain_of_steps(train):
    # journal_loss="running": each batch's loss right after its update, summed, over n
    p = dr.load_problem("seed-000-neuron")
    r = train(p.network, p.x, p.y, p.learning_rate, p.schedule, journal_loss="running")
    chain = dr.steps(p.network, p.x, p.y, p.learning_rate, p.schedule, 60)
    for epoch in range(1, 11):
        running = sum(s.loss_after for s in chain[6 * (epoch - 1):6 * epoch]) / 6
        np.testing.assert_allclose(r.journal.loss[epoch], running, rtol=1e-12)



def test_traces_and_networks_are_immutable():
    net = make_net()
    step = net.step(X, Y, 0.5)
    for arr in (step.trace.x, step.trace.layers[0].z, step.trace.layers[1].delta, step.trace.layers[0].dW,
                step.after.layers[0].W, net.layers[1].b):
        with pytest.raises(ValueError):
            arr[..., 0] = 0.0
    before = net.parameters().copy()
    dr.train(net, X, Y, 0.5, dr.Schedule("stochastic", epochs=2))
    np.testing.assert_array_equal(net.parameters(), before)  # training returns a new network


@pytest.mark.parametrize("engine", ["generic", "buffered"])
def test_the_driver_keeps_one_journal_and_a_checkpoint_reads_it_without_a_copy(engine):
    # training/driver.py: the journal is one table for the run; each epoch's checkpoint sees its
    # prefix (a read-only view), so writing checkpoints costs no copy of the journal per epoch
    from deltarule.training import train

    p = dr.load_problem("seed-000-neuron")
    seen = []
    result = train(p.network, p.x, p.y, 0.9, dr.Schedule("stochastic", epochs=5), engine=engine,
                   on_epoch=lambda end: seen.append(end.checkpoint()))
    assert [c.epoch for c in seen] == [1, 2, 3, 4, 5] and {c.engine for c in seen} == {engine}
    assert [len(c.journal) for c in seen] == [2, 3, 4, 5, 6]
    for c in seen:
        assert np.shares_memory(c.journal.rows, result.journal.rows) and not c.journal.rows.flags.writeable
        np.testing.assert_array_equal(c.journal.rows, result.journal.rows[:c.epoch + 1])
        np.testing.assert_array_equal(c.network.parameters(), result.journal.rows[c.epoch, 2:])
    assert seen[-1].updates == result.updates == 30
