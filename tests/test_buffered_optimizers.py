"""The buffered engine runs every optimizer, rate schedule and L2 (issue 15, item 5 "engines").

Each case trains on the buffered engine (``fast._BufferedRun`` with the optimizers' in-place
kernels, ``Optimizer.update_into``) and on the generic loop (the reference rule,
``Optimizer.step`` as :func:`deltarule.descent.descent_step` runs it) and compares whole
journals — losses with the L2 penalty, every parameter after every epoch, the learning-rate
column — to 1e-12 relative in float64. Checkpoints of the buffered engine carry the state under
the optimizer's names and resume bit for bit.
"""
from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import fast
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.descent import optimize
from deltarule.optimization import Optimization
from deltarule.training import run as _run

OPTIMIZERS = {
    "sgd": opt.SGD(),
    "momentum": opt.SGD(momentum=0.9),
    "nesterov": opt.SGD(momentum=0.8, nesterov=True),
    "rmsprop": opt.RMSprop(alpha=0.9),
    "adam": opt.Adam(beta1=0.85),
    "adamw": opt.AdamW(weight_decay=0.2),
}
SCHEDULES = {
    "constant": None,
    "step": sch.Step(step_size=2, gamma=0.5),
    "cosine": sch.Cosine(t_max=3),
    "inverse_scaling": sch.InverseScaling(power_t=0.5),
}
METHODS = {"batch": dr.Schedule("batch", epochs=4),
           "minibatch": dr.Schedule("minibatch", 4, epochs=4, shuffle=True, seed=1),
           "stochastic": dr.Schedule("stochastic", epochs=4)}


def _nets(seed: int):
    """Two small random networks: tanh + sigmoid with half_sse (the delta from output_layer),
    relu + softmax with cross-entropy summed (the fused delta), its first biases frozen."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(10, 3))
    a = dr.Network((dr.Layer(rng.normal(0, 0.7, (4, 3)), rng.normal(0, 0.2, 4), "tanh"),
                    dr.Layer(rng.normal(0, 0.7, (2, 4)), rng.normal(0, 0.2, 2), "sigmoid")), "half_sse")
    b = dr.Network((dr.Layer(rng.normal(0, 0.7, (5, 3)), rng.normal(0, 0.2, 5), "relu", train_biases=False),
                    dr.Layer(rng.normal(0, 0.7, (3, 5)), rng.normal(0, 0.2, 3), "softmax")),
                   "cross_entropy", "sum")
    return [(a, x, rng.uniform(0.1, 0.9, (10, 2))), (b, x, np.eye(3)[rng.integers(0, 3, 10)])]


def _both(net, x, y, lr, schedule, **kw):
    """(buffered result, generic result, the engine the buffered run's checkpoints record)."""
    engines = []
    r = dr.train(net, x, y, lr, schedule, on_epoch=lambda e: engines.append(e.checkpoint().engine), **kw)
    g = dr.train(net, x, y, lr, schedule, engine="generic", **kw)
    return r, g, set(engines)


def _close(a, b):
    scale = np.maximum(np.abs(b), 1.0)  # relative where values are large, absolute near 0
    assert np.max(np.abs(a - b) / scale) <= 1e-12, np.max(np.abs(a - b) / scale)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("l2", [0.0, 0.03])
@pytest.mark.parametrize("schedule_name", list(SCHEDULES))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_buffered_equals_the_generic_loop(name, schedule_name, l2, method):
    optimizer, lr_schedule, schedule = OPTIMIZERS[name], SCHEDULES[schedule_name], METHODS[method]
    plain = Optimization(optimizer, lr_schedule, l2).plain
    for net, x, y in _nets(11):
        r, g, engines = _both(net, x, y, 0.05, schedule, optimizer=optimizer, lr_schedule=lr_schedule, l2=l2)
        assert engines == ({"buffered"} if not plain else engines) and len(engines) == 1
        assert r.journal.columns == g.journal.columns and r.journal.rows.shape == (5, g.journal.rows.shape[1])
        _close(r.journal.rows, g.journal.rows)
        assert not np.array_equal(r.journal.rows[1, 2:], r.journal.rows[0, 2:])  # it trained
        if not plain:  # and the reference loop (file order only: it restarts the shuffle)
            if not schedule.shuffle:
                ref = optimize(net, x, y, 0.05, optimizer, lr_schedule or sch.Constant(), l2, schedule)
                _close(r.network.parameters(), ref.network.parameters())
            frozen = net.layers[0].train_biases is False
            assert not frozen or np.array_equal(r.network.layers[0].b, net.layers[0].b)


@pytest.mark.parametrize("journal_loss", ["batch", "running"])
def test_penalty_in_the_batch_and_running_journals(journal_loss):
    net, x, y = _nets(5)[0]
    schedule = dr.Schedule("minibatch", 3, epochs=3)
    kw = dict(optimizer=opt.Adam(), lr_schedule=sch.Exponential(gamma=0.7), l2=0.4, journal_loss=journal_loss)
    r, g, engines = _both(net, x, y, 0.1, schedule, **kw)
    assert engines == {"buffered"}
    _close(r.journal.rows, g.journal.rows)
    plain = dr.train(net, x, y, 0.1, schedule, **dict(kw, l2=0.0))
    assert r.journal.loss[1] - plain.journal.loss[1] > 0.01  # the penalty is in the loss


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_digits_buffered_equals_generic(name):
    p = dr.load_problem("digits")
    x, y = p.x[:400], p.y[:400]
    schedule = dr.Schedule("minibatch", 32, epochs=2, shuffle=True, seed=3)
    r, g, engines = _both(p.network, x, y, 0.05, schedule, optimizer=OPTIMIZERS[name],
                          lr_schedule=sch.Cosine(t_max=4), l2=1e-3)
    assert engines == {"buffered"} and r.updates == g.updates == 26
    _close(r.journal.rows, g.journal.rows)
    assert r.journal.loss[-1] < r.journal.loss[0]


def test_adam_resumes_mid_run_bit_for_bit():
    net, x, y = _nets(8)[1]
    schedule = dr.Schedule("minibatch", 3, epochs=6, shuffle=True, seed=5)
    kw = dict(optimizer=opt.Adam(), lr_schedule=sch.Step(step_size=2, gamma=0.5), l2=0.01)
    saved = []
    straight = dr.train(net, x, y, 0.05, schedule, on_epoch=lambda e: saved.append(e.checkpoint()), **kw)
    mid = saved[2]  # after epoch 3 of 6
    assert mid.engine == "buffered" and mid.state["t"] == mid.updates == 12
    assert sorted(mid.state) == ["mW1", "mW2", "mb1", "mb2", "sW1", "sW2", "sb1", "sb2", "t"]
    assert mid.state["sW2"].shape == (3, 5) and np.all(mid.state["sW2"] > 0)
    assert not np.any(mid.state["mb1"]) and not np.any(mid.state["sb1"])  # frozen: the state stays zero
    resumed = dr.train(net, x, y, 0.05, schedule, start=mid, **kw)
    assert np.array_equal(resumed.journal.rows, straight.journal.rows)
    assert resumed.updates == straight.updates == 24
    # the state after the run is the one a straight run ends with
    saved_after = []
    dr.train(net, x, y, 0.05, schedule, start=mid, on_epoch=lambda e: saved_after.append(e.checkpoint()), **kw)
    for k, v in saved[-1].state.items():
        assert np.array_equal(saved_after[-1].state[k], v)


def test_divergence_is_found_where_the_generic_loop_finds_it():
    rng = np.random.default_rng(2)
    net = dr.Network((dr.Layer(rng.normal(size=(3, 2)), np.zeros(3), "identity"),
                      dr.Layer(rng.normal(size=(1, 3)), np.zeros(1), "identity")), "half_sse")
    x, y = rng.normal(size=(8, 2)) * 10, rng.normal(size=(8, 1))
    schedule = dr.Schedule("minibatch", 4, epochs=40)
    kw = dict(optimizer=opt.SGD(momentum=0.9), l2=0.1)  # too fast: the loss grows past float64
    failures = []
    for engine in (None, "generic"):
        with pytest.raises(dr.Diverged) as info:
            dr.train(net, x, y, 0.5, schedule, engine=engine, **kw)
        failures.append(info.value)
    (a, b) = failures
    assert a.epoch > 2 and (a.epoch, a.update) == (b.epoch, b.update) and a.reason == b.reason
    assert np.array_equal(a.network.parameters(), b.network.parameters())


def test_float32_stays_float32():
    net, x, y = _nets(4)[0]
    net32 = dr.Network(tuple(dr.Layer(l.W.astype(np.float32), l.b.astype(np.float32), l.activation)
                             for l in net.layers), net.loss)
    schedule = dr.Schedule("minibatch", 4, epochs=3)
    r, g, engines = _both(net32, x, y, 0.05, schedule, optimizer=opt.Adam(), l2=0.01)
    assert engines == {"buffered"} and r.network.dtype == np.float32
    np.testing.assert_allclose(r.journal.rows, g.journal.rows, rtol=1e-5, atol=1e-6)


def test_refusal_names_an_optimizer_without_a_kernel():
    class Slow(opt.SGD):  # an update rule with no in-place kernel: the generic loop runs it
        name = "slow"

        def update(self, p, g, moments, lr, t, weight):
            return p - lr * g, (), ()

        update_into = opt.Optimizer.update_into

    net, x, y = _nets(1)[0]
    setting = Optimization(Slow(), None, 0.1)
    assert fast.refusal(net, "epoch", setting) == "the optimizer slow has no in-place kernel (update_into)"
    assert _run.choose(net, len(x), dr.Schedule(), "epoch", None, None, setting) == "generic"
    assert fast.refusal(net, "epoch", Optimization(opt.Adam())) is None


def test_kernels_are_the_update_bit_for_bit():
    rng = np.random.default_rng(0)
    for o in OPTIMIZERS.values():
        p, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        moments = tuple(rng.uniform(0, 1, (3, 4)) for _ in o.moments)
        for weight in (True, False):
            new, new_moments, _ = o.update(p, g, moments, 0.1, 3, weight)
            q, ms, tmp = p.copy(), tuple(m.copy() for m in moments), (np.empty_like(p), np.empty_like(p))
            o.update_into(q, g, ms, 0.1, 3, weight, tmp)
            assert np.array_equal(q, new) and all(np.array_equal(a, b) for a, b in zip(ms, new_moments))
            assert not np.array_equal(q, p)


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam", "adamw"])
def test_a_step_allocates_no_parameter_sized_array(name):
    # the speed engine updates in place: no array of the parameters' or the state's size per step
    import tracemalloc

    rng = np.random.default_rng(0)
    net = dr.Network((dr.Layer(rng.normal(0, 0.1, (300, 100)), np.zeros(300), "tanh"),
                      dr.Layer(rng.normal(0, 0.1, (4, 300)), np.zeros(4), "softmax")), "cross_entropy")
    x, y = rng.normal(size=(16, 100)), np.eye(4)[rng.integers(0, 4, 16)]
    setting = Optimization(OPTIMIZERS[name], sch.Cosine(t_max=5), 0.01)
    run = fast._BufferedRun(net, x, y, 0.01, dr.Schedule("minibatch", 8, 1), "epoch", setting)
    P = net.parameters().size
    assert P > 30_000 and run.opt is not None
    run._step(x[:8], y[:8], slice(0, 8))  # the views of this batch size are made once
    tracemalloc.start()
    try:
        before = run.p.copy()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            run._step(x[:8], y[:8], slice(0, 8))
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert not np.array_equal(run.p, before) and run.opt.t == 6
    assert peak < P * 8 / 10, (peak, P * 8)  # under a tenth of one float64 parameter vector


def test_a_resumed_optimizer_run_keeps_its_checkpoints_engine():
    net, x, y = _nets(9)[0]
    schedule = dr.Schedule("minibatch", 4, epochs=4)
    saved = {}
    for engine in ("buffered", "generic"):
        out = []
        dr.train(net, x, y, 0.05, schedule, engine=engine, optimizer=opt.RMSprop(),
                 on_epoch=lambda e: out.append(e.checkpoint()))
        saved[engine] = out[1]
        assert out[1].engine == engine
    rmsprop = Optimization(opt.RMSprop())
    for engine in ("buffered", "generic"):
        assert _run.choose(net, len(x), schedule, "epoch", None, saved[engine], rmsprop) == engine
    # asked for the other engine: refused when the run starts, as for plain descent
    with pytest.raises(dr.checkpoint.ResumeError, match="written by the buffered engine, not the generic one"):
        dr.train(net, x, y, 0.05, schedule, engine="generic", optimizer=opt.RMSprop(), start=saved["buffered"])
