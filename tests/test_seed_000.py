"""Seed 000 (Backpropagation Algorithms: Basics, D. R. Micheal): one sigmoid neuron.

    yhat = sigmoid(w x + b),  L = (y - yhat)^2  (our ``sse`` with one output),
    dL/dw = -2 (y - yhat) yhat (1 - yhat) x,  dL/db = -2 (y - yhat) yhat (1 - yhat),
    eta = 0.9, per-example (stochastic) updates in file order.

The notebook prints full-precision floats (checked here to ~1e-12) and a journal table
rounded to 4 decimals (checked at 4 decimals). Every number comes out of the public API.
"""
import numpy as np
import pytest

import deltarule as dr

from printed import shown

X = [3.5, 0.35, 3.2, -2.0, 1.5, -0.5]
Y = [0.5, 0.50, 0.5, 0.5, 0.1, 0.3]


def close(got, printed, tol=1e-12):
    np.testing.assert_allclose(np.asarray(got, float), printed, rtol=tol, atol=tol)


def neuron(w, b):
    return dr.Network([dr.Layer([[w]], [b], "sigmoid")], "sse")


# -- cells [29]-[34]: the first feed-forward at w = -1, b = 2 ---------------------------------
def test_feed_forward_at_w_minus_1_b_2():
    p = dr.load_problem("seed-000-forward")
    assert (p.network.layers[0].W[0, 0], p.network.layers[0].b[0]) == (-1.0, 2.0)
    tr = p.network.trace(p.x, p.y)
    a = tr.layers[0].a[:, 0]
    # cell [29]: h = sigmoid(-x + 2); e.g. x = 3.5: sigmoid(-1.5) = 1/(1 + e^1.5) = 0.1824...
    close(a, [0.18242552380635635, 0.8388910504234147, 0.23147521650098232,
              0.9820137900379085, 0.6224593312018546, 0.9241418199787566])
    # cell [32]: err = h - y; e.g. 0.1824 - 0.5 = -0.3176
    close(a - p.y[:, 0], [-0.31757447619364365, 0.3388910504234147, -0.26852478349901765,
                          0.48201379003790845, 0.5224593312018546, 0.6241418199787565])
    # cell [33]: (h - y)^2 per example: the per-example sse loss
    close(tr.per_example_loss, [0.10085354792966714, 0.11484714405708542, 0.0721055593531943,
                                0.2323372937867089, 0.2729637527598892, 0.3895530114463945])
    # cell [34]: their sum, the batch loss with reduction: sum
    assert p.network.reduction == "sum"
    close(tr.loss, 1.1826603093329395)
    close(p.network.evaluate(p.x, p.y), 1.1826603093329395)


# -- cell [48]: grad_w at w = 2, b = 1 for every example ----------------------------------------
@pytest.mark.parametrize("i, printed", list(enumerate([
    0.001172544893670911, 0.03159017550957496, 0.001951232942678785,
    0.08178314932188695, 0.046736251348533014, -0.05])))
def test_grad_w_at_w_2_b_1(i, printed):
    # grad_w = -2 (y - yhat) yhat (1 - yhat) x = delta * x with delta = dL/dz of one example.
    # Last row: x = -0.5 gives z = 0, yhat = 0.5: -2 (0.3 - 0.5)(0.25)(-0.5) = -0.05 exactly.
    tr = neuron(2.0, 1.0).trace([[X[i]]], [[Y[i]]])
    close(tr.layers[0].dW[0, 0], printed)
    close(tr.layers[0].delta[0, 0] * X[i], printed)
    close(tr.layers[0].db[0], printed / X[i])  # grad_b = grad_w / x for one example


# -- cells [49]-[73]: one update from w = -2, b = 1 at x = 3.5 ----------------------------------
def test_single_update_from_w_minus_2_b_1():
    p = dr.load_problem("seed-000-update")
    step = p.steps(1)[0]
    v = step.values()
    assert step.examples == (0,) and v["a0"][0] == 3.5
    # grad w = -2 (0.5 - s(-6)) s(-6)(1 - s(-6)) 3.5 with s(-6) = 0.002473
    close(v["dW1"][0, 0], -0.008590091283831066)
    close(v["db1"][0], -0.0024543117953803044)  # printed under the label "grad w =" (their typo)
    # w_new = -2 - 0.9 (-0.00859) = -1.99227; b_new = 1 - 0.9 (-0.002454) = 1.00221
    close(v["W1_new"][0, 0], -1.992268917844552)
    close(v["b1_new"][0], 1.0022088806158422)


def test_single_update_printed_yhat_used_stale_x():
    # Cell [49] prints y_hat = 0.8807970779778823 "at x = 3.5", but that is sigmoid(2):
    # w x + b = -2 (-0.5) + 1 = 2, i.e. x was still -0.5, left over from the loop of cell [48].
    # At x = 3.5 the forward pass gives sigmoid(-6) = 0.0024726..., not 0.8808.
    net = neuron(-2.0, 1.0)
    close(net.predict([[-0.5]])[0, 0], 0.8807970779778823)
    assert abs(net.predict([[3.5]])[0, 0] - 0.8807970779778823) > 0.8
    close(net.predict([[3.5]])[0, 0], 1.0 / (1.0 + np.exp(6.0)))
    # Cell [50]'s err = (0.5 - 0.8808)^2 = 0.1450 is the squared error of that stale forward pass.
    close(net.evaluate([[-0.5]], [[0.5]]), 0.14500641459649338)
    # The gradients of cell [70] were computed at x = 3.5 as intended (see the test above).


# -- cells [76]-[102]: one and ten epochs of per-example updates from w = -2, b = 1 ---------------
def test_one_epoch_from_w_minus_2_b_1():
    p = dr.load_problem("seed-000-update")
    r = p.train(dr.Schedule("stochastic", epochs=1))
    assert r.updates == 6
    close(r.network.layers[0].W[0, 0], -1.9284102929220686)
    close(r.network.layers[0].b[0], 0.8504362751346908)
    # the same six updates through Step records (solve) end at the same place
    steps = p.steps(6)
    assert [s.examples for s in steps] == [(i,) for i in range(6)]
    close(steps[-1].after.layers[0].W[0, 0], -1.9284102929220686)


def test_ten_epochs_from_w_minus_2_b_1():
    p = dr.load_problem("seed-000-update")
    assert p.schedule.method == "stochastic" and p.schedule.epochs == 10
    net = p.train().network
    close(net.layers[0].b[0], -0.384384524671664, 1e-11)
    # cell [101]: y_hat = sigmoid(w 3.5 + b); cell [102]: err = (0.5 - y_hat)^2
    close(net.predict([[3.5]])[0, 0], 0.24528950816097767, 1e-11)
    close(net.evaluate([[3.5]], [[0.5]]), 0.06487743465287667, 1e-11)


# -- cells [301]-[302]: the journal from w = 2, b = 1, ten epochs, 4 decimals ----------------------
# Their Loss column is err/6 where err sums (y - sigmoid(w x + b))^2 right after each update:
# our journal_loss="running". Their index 0..9 is our epoch 1..10 (our row 0 is the start).
JOURNAL = [  # w, b, Loss
    (1.8900, 0.8304, 0.2673), (1.7471, 0.6583, 0.2587), (1.5557, 0.4788, 0.2470),
    (1.2830, 0.2819, 0.2277), (0.8453, 0.0430, 0.1863), (0.0362, -0.2862, 0.0749),
    (-0.2105, -0.4255, 0.0118), (-0.2009, -0.4602, 0.0116), (-0.1964, -0.4812, 0.0115),
    (-0.1935, -0.4938, 0.0114),
]


def test_journal_table():
    p = dr.load_problem("seed-000-neuron")
    assert (p.network.layers[0].W[0, 0], p.network.layers[0].b[0]) == (2.0, 1.0)
    df = p.train(journal_loss="running").journal.to_frame()
    assert list(df.columns) == ["epoch", "loss", "w", "b"]
    assert list(df["epoch"]) == list(range(11))
    assert (df.loc[0, "w"], df.loc[0, "b"]) == (2.0, 1.0)
    for epoch, (w, b, loss) in enumerate(JOURNAL, start=1):
        row = df.loc[epoch]
        shown(row["w"], w, 4)
        shown(row["b"], b, 4)
        shown(row["loss"], loss, 4)


def test_journal_running_loss_is_the_notebooks_sum():
    # Epoch 1 by hand through the API: after each update k, add (y_k - yhat_k)^2 with the
    # updated parameters; divide by 6.
    p = dr.load_problem("seed-000-neuron")
    total = 0.0
    for s in p.steps(6):
        total += s.loss_after  # one-example batch: the loss right after its own update
    first = p.train(dr.Schedule("stochastic", epochs=1), journal_loss="running").journal.loss[1]
    close(first, total / 6)
    shown(first, 0.2673, 4)
