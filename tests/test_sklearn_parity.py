"""scikit-learn's MLPClassifier against deltarule (issue 15 item 6), 3 epochs of mini-batches to 1e-8.

Problems from scikit-learn's bundled data, standardised: breast cancer (569 × 30, binary: its
logistic output + binary log-loss = deltarule's sigmoid + ``bce``, one output) and iris (150 × 4,
three classes: softmax + log-loss = ``softmax`` + ``cross_entropy``), both with ``reduction: mean``.
Batches in file order (``shuffle=False``), the last one shorter (569 = 14·40 + 9, 150 = 9·16 + 6).
scikit-learn starts from our parameters (its ``coefs_`` are our W transposed) with a fresh optimizer.

Conventions mapped:
* ``sgd`` with ``momentum`` / ``nesterovs_momentum`` at a constant rate: its velocity is
  v = μv − ηg (P ← P + v), ours (PyTorch's) v = μv + g (P ← P − ηv): the same steps while η stays;
* ``learning_rate="invscaling"``: η / (t + 1)^power_t with t the samples seen, changed after each
  epoch = our ``inverse_scaling`` (η_e = η / (e·n + 1)^power_t);
* ``alpha``: L2 with λ = alpha / B for each batch of B, the last shorter batch included (its loss
  and gradient divide alpha·‖W‖² by the batch size);
* momentum with a changing rate does NOT match, by design: scikit-learn's velocity carries the rates
  of the steps it was made of, ours applies the epoch's rate to the whole velocity. The test asserts
  that difference (and that scikit-learn is our rule with η moved inside the velocity).

Also: a problem file trained by ``deltarule train --save`` (numpy and ``--backend torch``) equals
MLPClassifier; MLPRegressor steps by half_sse and reports half_mse (+ its penalty); the README's
early-stopping mapping (n_iter_no_change = k ↔ patience k + 1) against scikit-learn's own counter.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import deltarule as dr
from conftest import require_module
from deltarule import Layer, Network
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.descent import descent_step, optimize
from deltarule.losses import reduce
from deltarule.network import backward_arrays, forward_arrays
from deltarule.regularization import add_l2, penalty
from deltarule.schedule import Schedule

EPOCHS = 3
PROBLEMS = {  # name: (loader, batch, output activation, loss)
    "binary": ("load_breast_cancer", 40, "sigmoid", "bce"),
    "multiclass": ("load_iris", 16, "softmax", "cross_entropy"),
}
HIDDEN = {"logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
CASES = {
    #  name: (optimizer, schedule, alpha, rate, MLPClassifier's settings)
    "momentum": (opt.SGD(momentum=0.9), sch.Constant(), 0.0, 0.05,
                 {"momentum": 0.9, "nesterovs_momentum": False}),
    "nesterov": (opt.SGD(momentum=0.8, nesterov=True), sch.Constant(), 0.0, 0.05,
                 {"momentum": 0.8, "nesterovs_momentum": True}),
    "invscaling": (opt.SGD(), sch.InverseScaling(power_t=0.3), 0.0, 0.3,
                   {"momentum": 0.0, "learning_rate": "invscaling", "power_t": 0.3}),
    "l2": (opt.SGD(), sch.Constant(), 0.5, 0.3, {"momentum": 0.0}),
    "l2_nesterov": (opt.SGD(momentum=0.9, nesterov=True), sch.Constant(), 0.2, 0.05,
                    {"momentum": 0.9, "nesterovs_momentum": True}),
    "l2_invscaling": (opt.SGD(), sch.InverseScaling(power_t=0.5), 0.2, 0.3,
                      {"momentum": 0.0, "learning_rate": "invscaling", "power_t": 0.5}),
}


def _problem(name: str, hidden: str, seed: int = 0):
    """(network, x, labels, y, batch): standardised data, a random network in deltarule's shapes."""
    datasets = require_module("sklearn.datasets")
    loader, batch, out, loss = PROBLEMS[name]
    x, labels = getattr(datasets, loader)(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = labels[:, None].astype(float) if out == "sigmoid" else np.eye(labels.max() + 1)[labels]
    sizes = (x.shape[1], 8, 5, y.shape[1]) if name == "multiclass" else (x.shape[1], 6, 1)
    rng = np.random.default_rng(seed)
    acts = [HIDDEN[hidden]] * (len(sizes) - 2) + [out]
    layers = tuple(Layer(rng.normal(0, 0.5, (units, fan_in)), rng.normal(0, 0.2, units), act)
                   for fan_in, units, act in zip(sizes, sizes[1:], acts))
    return Network(layers, loss=loss, reduction="mean"), x, labels, y, batch


def _sklearn_fit(net: Network, x, labels, batch: int, hidden: str, lr: float, alpha: float, epochs=EPOCHS,
                 estimator="MLPClassifier", **kw):
    """``estimator`` from ``net``'s parameters: (its parameters in our order, its loss_curve_)."""
    nn = require_module("sklearn.neural_network")
    from sklearn.exceptions import ConvergenceWarning

    clf = getattr(nn, estimator)(hidden_layer_sizes=[lay.units for lay in net.layers[:-1]], activation=hidden,
                                 solver="sgd", learning_rate_init=lr, alpha=alpha, batch_size=batch, shuffle=False,
                                 max_iter=epochs, n_iter_no_change=100, warm_start=True, random_state=0, **kw)
    first = {"classes": np.unique(labels)} if estimator == "MLPClassifier" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.partial_fit(x, labels, **first)                       # builds the model; replaced:
        clf.coefs_ = [lay.W.T.copy() for lay in net.layers]
        clf.intercepts_ = [lay.b.copy() for lay in net.layers]
        clf.t_, clf.loss_curve_, clf.best_loss_, clf._no_improvement_count = 0, [], np.inf, 0
        clf.fit(x, labels)                          # warm start: from those parameters, a new optimizer
    assert clf.n_iter_ == epochs and clf.out_activation_ == {"sigmoid": "logistic"}.get(
        net.layers[-1].activation.name, net.layers[-1].activation.name)
    params = np.concatenate([np.concatenate([c.T.ravel(), b]) for c, b in zip(clf.coefs_, clf.intercepts_)])
    return params, np.array(clf.loss_curve_)


def _ours(net: Network, x, y, batch: int, lr: float, optimizer, lr_schedule, alpha: float,
          epochs=EPOCHS, rate_in_velocity=False, data_scale=1.0):
    """deltarule's rule with λ = alpha / B for each batch of B: (parameters, each epoch's mean batch loss
    weighted by batch size, as scikit-learn's loss_curve_, its data part times ``data_scale``).
    ``rate_in_velocity``: the optimizer steps η_e·g at rate 1 (scikit-learn's momentum convention);
    else :func:`descent_step` itself."""
    Ws, bs = [lay.W for lay in net.layers], [lay.b for lay in net.layers]
    acts = [lay.activation for lay in net.layers]
    state, curve = optimizer.init(list(zip(Ws, bs))), []
    for epoch in range(epochs):
        rate, total = lr_schedule.rate(epoch, lr, len(x)), 0.0
        for s in range(0, len(x), batch):
            xb, yb, lam = x[s:s + batch], y[s:s + batch], alpha / len(x[s:s + batch])
            pen = penalty(Ws, lam)
            if not rate_in_velocity:
                Ws, bs, state, loss = descent_step(Ws, bs, acts, net.loss, net.reduction, xb, yb, optimizer,
                                                   state, rate, lam)
            else:
                zs, as_ = forward_arrays(Ws, bs, acts, xb)
                per_example, _, _, dWs, dbs = backward_arrays(Ws, acts, net.loss, net.reduction, xb, yb, zs, as_)
                loss = reduce(per_example, net.reduction) + pen
                grads = [(rate * dW, rate * db) for dW, db in zip(add_l2(dWs, Ws, lam), dbs)]
                new, state = optimizer.step(list(zip(Ws, bs)), grads, state, 1.0)
                Ws, bs = [W for W, _ in new], [b for _, b in new]
            total += ((loss - pen) * data_scale + pen) * len(xb)
        curve.append(total / len(x))
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in zip(Ws, bs)]), np.array(curve)


@pytest.mark.parametrize("hidden", list(HIDDEN))
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_equals_sklearn_mlp_classifier(problem, case, hidden):
    optimizer, lr_schedule, alpha, lr, settings = CASES[case]
    net, x, labels, y, batch = _problem(problem, hidden)
    assert len(x) % batch                                          # a last, shorter batch
    theirs, their_curve = _sklearn_fit(net, x, labels, batch, hidden, lr, alpha, **settings)
    ours, curve = _ours(net, x, y, batch, lr, optimizer, lr_schedule, alpha)
    assert np.abs(ours - net.parameters()).max() > 1e-2           # the runs went somewhere
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(curve, their_curve, rtol=1e-8)      # the loss it reports, penalty included
    run = optimize(net, x, y, lr, optimizer, lr_schedule, alpha / batch, Schedule("minibatch", batch, EPOCHS))
    if alpha:  # one λ for every batch (optimize, dr.train) is not scikit-learn's: the last batch's λ differs
        assert np.abs(run.network.parameters() - theirs).max() > 1e-6
    else:      # the library's own loop and the engine dr.train picks give scikit-learn's numbers
        np.testing.assert_allclose(run.network.parameters(), theirs, rtol=1e-8, atol=1e-10)
        trained = dr.train(net, x, y, lr, Schedule("minibatch", batch, EPOCHS), optimizer=optimizer,
                           lr_schedule=None if isinstance(lr_schedule, sch.Constant) else lr_schedule)
        np.testing.assert_allclose(trained.network.parameters(), theirs, rtol=1e-8, atol=1e-10)
    if isinstance(lr_schedule, sch.InverseScaling):                # t = 0, n, 2n samples seen
        n, p = len(x), lr_schedule.power_t
        assert run.rates == (lr, lr / (n + 1) ** p, lr / (2 * n + 1) ** p)


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_l2_with_whole_batches_equals_sklearn_through_dr_train(nesterov):
    # 150 = 10 batches of 15: one λ = alpha / 15 for every batch, so dr.train's constant l2 is scikit-learn's
    net, x, labels, y, _ = _problem("multiclass", "tanh", seed=1)
    theirs, their_curve = _sklearn_fit(net, x, labels, 15, "tanh", 0.05, 0.3, momentum=0.9,
                                       nesterovs_momentum=nesterov)
    optimizer = opt.SGD(momentum=0.9, nesterov=nesterov)
    trained = dr.train(net, x, y, 0.05, Schedule("minibatch", 15, EPOCHS), optimizer=optimizer, l2=0.3 / 15)
    assert np.abs(trained.network.parameters() - net.parameters()).max() > 1e-2
    np.testing.assert_allclose(trained.network.parameters(), theirs, rtol=1e-8, atol=1e-10)
    _, curve = _ours(net, x, y, 15, 0.05, optimizer, sch.Constant(), 0.3)
    np.testing.assert_allclose(curve, their_curve, rtol=1e-8)


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_momentum_with_invscaling_differs_from_sklearn_by_design(problem, nesterov):
    # scikit-learn: v ← μv − η_e·g, P ← P + v (Nesterov: P ← P + μv − η_e·g): the velocity keeps each
    # step's own rate. deltarule (PyTorch): v ← μv + g, P ← P − η_e·v: the epoch's rate scales the
    # whole velocity. Equal in the first epoch (one rate so far), apart from the second on.
    net, x, labels, y, batch = _problem(problem, "tanh", seed=2)
    optimizer, schedule = opt.SGD(momentum=0.9, nesterov=nesterov), sch.InverseScaling(power_t=0.5)
    settings = {"momentum": 0.9, "nesterovs_momentum": nesterov, "learning_rate": "invscaling", "power_t": 0.5}
    for epochs in (1, EPOCHS):
        theirs, their_curve = _sklearn_fit(net, x, labels, batch, "tanh", 0.05, 0.0, epochs=epochs, **settings)
        ours, curve = _ours(net, x, y, batch, 0.05, optimizer, schedule, 0.0, epochs=epochs)
        inside, inside_curve = _ours(net, x, y, batch, 0.05, optimizer, schedule, 0.0, epochs=epochs,
                                     rate_in_velocity=True)
        np.testing.assert_allclose(inside, theirs, rtol=1e-8, atol=1e-10)   # scikit-learn's rule, exactly
        np.testing.assert_allclose(inside_curve, their_curve, rtol=1e-8)
        if epochs == 1:
            np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
        else:
            assert np.abs(ours - theirs).max() > 1e-3 * np.abs(theirs).max()


# -- early stopping: scikit-learn's n_iter_no_change/tol against early_stopping: {patience, min_delta} ---------
def _watch_stop(rule, values):
    """Epoch after which deltarule's early stopping ends a run whose epochs 1, 2, ... score ``values``
    as val_loss (None: it runs them all), and its best epoch."""
    from deltarule.early_stopping import Watch

    rows = np.array([[e, 0.0, v] for e, v in enumerate([np.inf, *values])])   # row 0: epoch 0, skipped
    watch = Watch(rule, ("epoch", "loss", "val_loss"), 0)
    at = watch.scan(rows)
    return (None if at is None else int(rows[at, 0])), watch.best_epoch


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_sklearn_early_stopping_is_patience_k_plus_1_on_its_scores(problem, k):
    # MLPClassifier(early_stopping=True, n_iter_no_change=k, tol) stops after k + 1 epochs whose validation
    # accuracy is not ≥ best + tol, and keeps the best epoch's parameters: our rule with patience k + 1,
    # min_delta tol and restore_best, fed its scores as a loss (−accuracy), stops at the same epoch.
    from deltarule.early_stopping import EarlyStopping
    from sklearn.exceptions import ConvergenceWarning

    nn = require_module("sklearn.neural_network")
    _, x, labels, _, _ = _problem(problem, "tanh")
    clf = nn.MLPClassifier(hidden_layer_sizes=[8], solver="sgd", learning_rate_init=0.05, early_stopping=True,
                           validation_fraction=0.2, n_iter_no_change=k, tol=1e-4, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, labels)
    scores = np.array(clf.validation_scores_)
    assert len(scores) == clf.n_iter_ < 300                            # it stopped early
    stop, best = _watch_stop(EarlyStopping(patience=k + 1, min_delta=1e-4), list(-scores))
    assert stop == clf.n_iter_
    assert best == int(np.argmax(scores)) + 1 and clf.best_validation_score_ == scores.max()
    assert _watch_stop(EarlyStopping(patience=k, min_delta=1e-4), list(-scores))[0] < clf.n_iter_   # not k


def test_sklearn_best_moves_on_gains_under_tol_ours_does_not():
    # a loss falling by 0.6·tol an epoch: scikit-learn's best follows every lower value, so no epoch beats
    # it by tol and it stops after k + 1 epochs; ours keeps the best of the last real gain, and two small
    # gains together are one: it never stops.
    nn = require_module("sklearn.neural_network")
    tol, k = 1e-3, 2
    losses = [1.0 - 0.6 * tol * e for e in range(30)]
    stub = nn.MLPClassifier(tol=tol, n_iter_no_change=k)
    stub.loss_curve_, stub.best_loss_, stub._no_improvement_count = [], np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        stub.loss_curve_.append(loss)
        stub._update_no_improvement_count(False, None, None, None)    # what fit calls after each epoch
        if stub._no_improvement_count > k:
            break
    from deltarule.early_stopping import EarlyStopping

    assert epoch == k + 2                                             # epoch 1 sets the best, then k + 1 fail
    assert _watch_stop(EarlyStopping(patience=k + 1, min_delta=tol), losses) == (None, 29)


# -- the same through a problem file and `deltarule train` ------------------------------------------------
FILE_CASES = {  # name: (problem, fields of the file, MLPClassifier's settings, its alpha)
    "nesterov_l2": ("multiclass", {"optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True},
                                   "regularization": {"l2": 0.3 / 15}},
                    {"momentum": 0.9, "nesterovs_momentum": True}, 0.3),
    "invscaling": ("binary", {"learning_rate_schedule": {"name": "inverse_scaling", "power_t": 0.3}},
                   {"momentum": 0.0, "learning_rate": "invscaling", "power_t": 0.3}, 0.0),
    "momentum": ("binary", {"optimizer": {"name": "sgd", "momentum": 0.8}},
                 {"momentum": 0.8, "nesterovs_momentum": False}, 0.0),
}


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("case", list(FILE_CASES))
def test_problem_file_trained_by_the_cli_equals_sklearn(tmp_path, case, backend):
    # the file's fields mean scikit-learn's settings: its weights, inline data, 3 epochs of batches of 15
    # (whole batches: one λ = alpha/15), `train --save`, the saved model's parameters against MLPClassifier
    import json

    from deltarule.cli import main

    problem, fields, settings, alpha = FILE_CASES[case]
    net, x, labels, y, _ = _problem(problem, "tanh", seed=3)
    x, labels, y = x[:150], labels[:150], y[:150]                     # breast cancer: its first 150 too
    if backend == "torch":
        require_module("torch")
    layers = [{"weights": lay.W.tolist(), "biases": lay.b.tolist(), "activation": lay.activation.name}
              for lay in net.layers]
    doc = dict(layers=layers, loss=net.loss.name, reduction="mean", learning_rate=0.1,
               data={"inputs": x.tolist(), "targets": y.tolist()},
               training={"method": "minibatch", "batch_size": 15, "epochs": EPOCHS}, **fields)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    argv = ["train", str(tmp_path / "p.json"), "--save", str(tmp_path / "m.json"), "--quiet", "--backend", backend]
    assert main(argv) == 0
    trained = dr.load_problem(tmp_path / "m.json").network
    theirs, _ = _sklearn_fit(net, x, labels, 15, "tanh", 0.1, alpha, **settings)
    assert np.abs(trained.parameters() - net.parameters()).max() > 1e-2
    np.testing.assert_allclose(trained.parameters(), theirs, rtol=1e-8, atol=1e-10)


# -- MLPRegressor: steps by half_sse, reports half_mse ------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 0.3], ids=["no_l2", "l2"])
def test_mlp_regressor_steps_by_half_sse_and_reports_half_mse(alpha):
    # linnerud: 20 × 3 → 3 outputs, standardised, batches of 6 (the last of 2). MLPRegressor's gradient is
    # (ŷ − y) averaged over the batch: half_sse's with reduction mean, whatever the number of outputs K;
    # the loss_curve_ it reports is half_mse (the squared error averaged over outputs too, i.e. /K) plus
    # its penalty, which is not divided by K.
    datasets = require_module("sklearn.datasets")
    x, y = datasets.load_linnerud(return_X_y=True)
    x, y = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    rng = np.random.default_rng(5)
    layers = (Layer(rng.normal(0, 0.5, (6, 3)), rng.normal(0, 0.2, 6), "tanh"),
              Layer(rng.normal(0, 0.5, (3, 6)), rng.normal(0, 0.2, 3), "identity"))
    net = Network(layers, loss="half_sse", reduction="mean")
    optimizer = opt.SGD(momentum=0.9, nesterov=True)
    theirs, their_curve = _sklearn_fit(net, x, y, 6, "tanh", 0.05, alpha, estimator="MLPRegressor",
                                       momentum=0.9, nesterovs_momentum=True)
    ours, curve = _ours(net, x, y, 6, 0.05, optimizer, sch.Constant(), alpha, data_scale=1 / 3)
    assert np.abs(ours - net.parameters()).max() > 1e-2
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(curve, their_curve, rtol=1e-8)
    _, sse_curve = _ours(net, x, y, 6, 0.05, optimizer, sch.Constant(), alpha)
    assert np.all(sse_curve > 1.5 * their_curve)                      # half_sse's own numbers are not it
    mse = _ours(Network(layers, loss="half_mse", reduction="mean"), x, y, 6, 0.05, optimizer, sch.Constant(), alpha)
    assert np.abs(mse[0] - theirs).max() > 1e-3                       # nor are half_mse's steps
