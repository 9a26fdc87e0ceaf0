"""The buffered engine's journal pass (issue 13 item 3): its rows are the loss and accuracy of the
parameters in the same row, as the generic forward pass computes them, whatever the pass's shortcuts
(slices of EVAL_ROWS, the output layer in column order, the softmax's own row sums for the loss)."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import deltarule as dr
from deltarule import fast, losses, metrics
from deltarule.network import Layer, Network
from deltarule.regularization import penalty


def problem(acts, loss, reduction="mean", dtype=np.float64, n=450, k=10, seed=3):
    rng = np.random.default_rng(seed)
    net = Network((Layer(rng.normal(0, 0.5, (16, 12)).astype(dtype), rng.normal(0, 0.1, 16).astype(dtype), acts[0]),
                   Layer(rng.normal(0, 0.5, (k, 16)).astype(dtype), rng.normal(0, 0.1, k).astype(dtype), acts[1])),
                  loss, reduction)
    x = rng.uniform(-1, 1, (n, 12))
    labels = rng.integers(0, k, n)
    y = np.eye(k)[labels] if loss == "cross_entropy" else rng.uniform(0.05, 0.95, (n, k))
    return net, x, y


def reference(net, x, y, row, l2=0.0):
    """The loss and accuracy of the row's parameters by the generic forward pass."""
    P = net.parameters().size
    at = net.with_parameters(np.asarray(row[2:2 + P]))
    x, y = np.asarray(x, net.dtype), np.asarray(y, net.dtype)
    per, a = fast.eval_outputs(at, x, y)
    loss = losses.reduce(per, net.reduction) + penalty([lay.W for lay in at.layers], l2)
    kind = metrics.classifier(net)
    return loss, (metrics.accuracy(a, y, kind) if kind else None)


CASES = [  # (activations, loss, reduction): the fused batch sum, the per-example fused loss, an unfused one
    (("sigmoid", "softmax"), "cross_entropy", "mean"),
    (("tanh", "softmax"), "cross_entropy", "sum"),
    (("relu", "sigmoid"), "bce", "mean"),
    (("sigmoid", "identity"), "mse", "mean"),
]


@pytest.mark.parametrize("eval_rows", [8192, 100])  # one slice; five, the last one short
@pytest.mark.parametrize("acts,loss,reduction", CASES)
def test_each_row_is_the_loss_and_accuracy_of_its_parameters(acts, loss, reduction, eval_rows, monkeypatch):
    monkeypatch.setattr(fast, "EVAL_ROWS", eval_rows)
    net, x, y = problem(acts, loss, reduction)
    schedule = dr.Schedule("minibatch", batch_size=32, epochs=4, shuffle=True, seed=1)
    got = dr.train(net, x, y, 0.1, schedule, engine="buffered")
    rows = got.journal.rows
    assert len(rows) == 5  # row 0 and four epochs
    assert len(set(rows[:, 1])) == 5  # the loss moved each epoch: every row is checked on its own
    for row in rows:
        want, acc = reference(net, x, y, row)
        assert row[1] == pytest.approx(want, rel=1e-13, abs=0)
        if acc is not None:
            assert row[-1] == acc
    # the same run on the generic loop: the same journal to rounding
    ref = dr.train(net, x, y, 0.1, schedule, engine="generic")
    np.testing.assert_allclose(rows, ref.journal.rows, rtol=1e-12, atol=1e-13)


def test_float32_rows_and_l2():
    net, x, y = problem(("sigmoid", "softmax"), "cross_entropy", dtype=np.float32)
    schedule = dr.Schedule("minibatch", batch_size=64, epochs=3)
    got = dr.train(net, x, y, 0.5, schedule, engine="buffered", l2=0.01)
    assert got.journal.rows.shape[0] == 4
    for row in got.journal.rows:
        want, acc = reference(net, x, y, row, l2=0.01)
        assert row[1] == pytest.approx(want, rel=2e-6)
        assert row[-1] == acc


def test_journal_sum_is_the_same_on_one_thread_and_on_two():
    # past BLAS's threading size (here 20,000 outputs) the pass's sums go by einsum: the same
    # bits whatever the thread count (BLAS's dot splits its sum over threads)
    net, x, y = problem(("sigmoid", "softmax"), "cross_entropy", n=2000)
    run = fast._BufferedRun(net, x, y, 0.5, dr.Schedule("batch", epochs=1), "epoch")
    with threadpool_limits(1):
        one = run.journal_loss()
    with threadpool_limits(2):
        two = run.journal_loss()
    assert one[0] == two[0]
    assert np.array_equal(one[1], two[1])
    assert one[0] == pytest.approx(reference(net, x, y, np.r_[0, 0, net.parameters()])[0], rel=1e-13)
