"""Optimizers in the compiled engine (issue 15 item 5): sgd with momentum and Nesterov, rate schedules
and L2 run in the numba loop with the registry's float kernel (``Optimizer.scalar``), equal to the
generic loop (descent.descent_step's rule) to 1e-12, and resume bit for bit from a checkpoint taken
inside one of the loop's chunks of epochs. Optimizers without a float kernel go to the buffered engine."""
from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.optimization import Optimization
from deltarule.training.run import choose


def _net(seed=0, frozen=False):
    rng = np.random.default_rng(seed)
    net = dr.Network((dr.Layer(rng.normal(0, 1, (3, 2)), rng.normal(0, .5, 3), "tanh", train_weights=not frozen),
                      dr.Layer(rng.normal(0, 1, (1, 3)), rng.normal(0, .5, 1), "sigmoid")), "half_sse", "mean")
    return net, rng.normal(0, 1, (5, 2)), rng.random((5, 1))


SETTINGS = [
    dict(optimizer=opt.SGD(momentum=0.9)),
    dict(optimizer=opt.SGD(momentum=0.5, nesterov=True), l2=0.01),
    dict(optimizer=opt.SGD(momentum=0.9), lr_schedule=sch.Step(step_size=3, gamma=0.5), l2=0.02),
    dict(lr_schedule=sch.Exponential(gamma=0.95)),  # plain sgd at a changing rate
    dict(l2=0.05),
]


@pytest.mark.parametrize("journal", ["epoch", "running", "batch"])
@pytest.mark.parametrize("kw", SETTINGS, ids=range(len(SETTINGS)))
def test_the_compiled_engine_steps_like_the_generic_loop(kw, journal):
    net, x, y = _net(1, frozen=journal == "running")
    schedule = dr.Schedule("minibatch", 2, epochs=40, shuffle=True, seed=3)
    settings = Optimization(kw.get("optimizer"), kw.get("lr_schedule"), kw.get("l2", 0.0))
    assert choose(net, len(x), schedule, journal, "scalar", None, settings) == "scalar"
    got = dr.train(net, x, y, 0.3, schedule, engine="scalar", journal_loss=journal, **kw)
    want = dr.train(net, x, y, 0.3, schedule, engine="generic", journal_loss=journal, **kw)
    assert got.journal.rows.shape == want.journal.rows.shape == (41, 2 + 13 + ("lr_schedule" in kw))
    np.testing.assert_allclose(got.journal.rows, want.journal.rows, rtol=1e-12, atol=1e-14)
    moved = np.abs(got.network.parameters() - net.parameters())
    assert (moved[:6] == 0).all() == (journal == "running")  # W1 frozen in the running case
    assert moved[6:].min() > 1e-6
    assert got.updates == want.updates == 40 * 3


def test_w1_with_momentum_takes_the_compiled_engine_by_default():
    p = dr.load_problem("seed-000-neuron")
    schedule = dr.Schedule("stochastic", epochs=2000)
    momentum = Optimization(opt.SGD(momentum=0.9))
    assert choose(p.network, len(p.x), schedule, "epoch", None, None, momentum) == "scalar"
    # adam has no float kernel yet: the buffered engine takes it
    assert choose(p.network, len(p.x), schedule, "epoch", None, None, Optimization(opt.Adam())) == "buffered"
    got = dr.train(p.network, p.x, p.y, 0.1, schedule, optimizer=opt.SGD(momentum=0.9))
    want = dr.train(p.network, p.x, p.y, 0.1, schedule, optimizer=opt.SGD(momentum=0.9), engine="generic")
    np.testing.assert_allclose(got.journal.rows, want.journal.rows, rtol=1e-12, atol=1e-14)


def test_checkpoints_inside_a_chunk_hold_their_epochs_state_and_resume_bit_for_bit():
    net, x, y = _net(7)
    schedule = dr.Schedule("minibatch", 2, epochs=30, shuffle=True, seed=2)
    kw = dict(optimizer=opt.SGD(momentum=0.9, nesterov=True), lr_schedule=sch.Exponential(gamma=0.9), l2=0.02)
    saved, ref = [], []
    straight = dr.train(net, x, y, 0.1, schedule, engine="scalar", on_epoch=lambda e: saved.append(e.checkpoint()),
                        **kw)
    dr.train(net, x, y, 0.1, schedule, engine="generic", on_epoch=lambda e: ref.append(e.checkpoint()), **kw)
    assert len(saved) == 30 and saved[9].engine == "scalar"
    for mine, theirs in zip(saved, ref):  # each epoch's own state, not the chunk's last one
        assert mine.state["t"] == theirs.state["t"] == 3 * mine.epoch
        for name in ("vW1", "vb1", "vW2", "vb2"):
            np.testing.assert_allclose(mine.state[name], theirs.state[name], rtol=1e-12, atol=1e-14)
    assert not np.array_equal(saved[9].state["vW1"], saved[10].state["vW1"])
    resumed = dr.train(net, x, y, 0.1, schedule, start=saved[9], **kw)
    assert np.array_equal(resumed.journal.rows, straight.journal.rows)
    assert np.array_equal(resumed.network.parameters(), straight.network.parameters())
