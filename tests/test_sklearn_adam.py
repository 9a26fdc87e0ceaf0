"""Adam's ``eps_placement: sklearn``: scikit-learn's Adam exactly (issue 15 item 6).

scikit-learn keeps Adam's moments as PyTorch does but folds the bias correction into the rate,
η_t = η·√(1−β2ᵗ)/(1−β1ᵗ), and puts ε against the uncorrected √s: P ← P − η_t·m/(√s + ε).
With ``eps_placement="sklearn"`` deltarule takes the same steps: equal to ``MLPRegressor`` and
``MLPClassifier(solver="adam")`` to 1e-8 after 3 epochs of mini-batches (file order; alpha
mapped to λ = alpha / B for each batch of B, as tests/test_optimizers.py does for SGD).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import deltarule as dr
from conftest import require_module
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.cli import main
from deltarule.errors import InputError
from deltarule.optimization import parse
from test_optimizers import BATCH, _network, _sklearn_fit_from, _sklearn_reference

SKLEARN_ADAM = opt.Adam(beta1=0.8, beta2=0.99, eps_placement="sklearn")


def _data(seed: int, n: int):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) * 2, rng.uniform(0.1, 0.9, (n, 2))


def _fit_classifier(net, x, labels, **kw):
    """MLPClassifier (softmax + log-loss for 3 classes) started from ``net``'s parameters, 3 epochs."""
    from sklearn.exceptions import ConvergenceWarning

    nn = require_module("sklearn.neural_network")
    clf = nn.MLPClassifier(hidden_layer_sizes=[net.layers[0].units], activation="tanh", solver="adam",
                           batch_size=BATCH, shuffle=False, max_iter=3, n_iter_no_change=100, warm_start=True,
                           random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.partial_fit(x, labels, classes=np.arange(3))   # builds the model; its parameters are replaced:
        clf.coefs_ = [lay.W.T.copy() for lay in net.layers]
        clf.intercepts_ = [lay.b.copy() for lay in net.layers]
        clf.t_, clf.loss_curve_, clf.best_loss_, clf._no_improvement_count = 0, [], np.inf, 0
        clf.fit(x, labels)                                  # warm start: a new optimizer from those
    assert clf.n_iter_ == 3
    return np.concatenate([np.concatenate([c.T.ravel(), b]) for c, b in zip(clf.coefs_, clf.intercepts_)])


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_equals_mlp_regressor(alpha):
    nn = require_module("sklearn.neural_network")
    net = _network(21, ("tanh", "identity"), (3, 5, 2))
    x, y = _data(21, 18)                                 # batches of 4: the last holds 2 (its λ = alpha / 2)
    reg = nn.MLPRegressor(hidden_layer_sizes=[5], activation="tanh", solver="adam", beta_1=0.8, beta_2=0.99,
                          alpha=alpha, learning_rate_init=0.01, batch_size=BATCH, shuffle=False, max_iter=3,
                          n_iter_no_change=100, warm_start=True, random_state=0)
    theirs = _sklearn_fit_from(reg, net, x, y)
    ours = _sklearn_reference(net, x, y, 0.01, SKLEARN_ADAM, sch.Constant(), alpha)
    assert np.abs(ours - net.parameters()).max() > 1e-2
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    # PyTorch's placement is another step: it differs from scikit-learn's well above rounding
    torch_placement = _sklearn_reference(net, x, y, 0.01, opt.Adam(beta1=0.8, beta2=0.99), sch.Constant(), alpha)
    assert np.abs(torch_placement - theirs).max() > 1e-7 and not np.allclose(torch_placement, theirs, 1e-8, 1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_equals_mlp_classifier_on_both_engines(alpha):
    net = _network(22, ("tanh", "softmax"), (3, 5, 3), loss="cross_entropy")
    x = _data(22, 20)[0]                                 # 20 examples: five batches of 4, one λ = alpha / 4
    labels = np.argmax(x @ np.array([[1.0, -1.0, 0.2], [0.5, 0.3, -1.0], [-0.4, 1.0, 0.6]]), axis=1)
    assert sorted(set(labels)) == [0, 1, 2]
    theirs = _fit_classifier(net, x, labels, alpha=alpha, beta_1=0.8, beta_2=0.99, learning_rate_init=0.05)
    y = np.eye(3)[labels]
    ours = _sklearn_reference(net, x, y, 0.05, SKLEARN_ADAM, sch.Constant(), alpha)
    assert np.abs(ours - net.parameters()).max() > 1e-2
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    torch_placement = _sklearn_reference(net, x, y, 0.05, opt.Adam(beta1=0.8, beta2=0.99), sch.Constant(), alpha)
    assert not np.allclose(torch_placement, theirs, rtol=1e-8, atol=1e-10)
    for engine in ("buffered", "generic"):
        r = dr.train(net, x, y, 0.05, dr.Schedule("minibatch", BATCH, 3), engine=engine, optimizer=SKLEARN_ADAM,
                     l2=alpha / BATCH)
        np.testing.assert_allclose(r.network.parameters(), theirs, rtol=1e-8, atol=1e-10)


def test_the_setting_is_read_checked_and_written_back():
    p = parse({"optimizer": {"name": "adam", "eps_placement": "sklearn"}})
    assert p.optimizer == opt.Adam(eps_placement="sklearn") and p.optimizer.sklearn
    assert p.settings()["optimizer"]["eps_placement"] == "sklearn"
    assert "eps_placement" not in opt.Adam().settings()       # the default is not written: files stay as they were
    assert opt.from_settings(opt.AdamW(eps_placement="sklearn").settings()) == opt.AdamW(eps_placement="sklearn")
    for bad, says in (("skl", "unknown 'skl' (did you mean 'sklearn'?)"), (3, "unknown 3")):
        with pytest.raises(InputError) as e:
            parse({"optimizer": {"name": "adam", "eps_placement": bad}})
        assert e.value.field == "optimizer.eps_placement" and says in e.value.message
    with pytest.raises(InputError, match="no torch.optim twin"):
        opt.Adam(eps_placement="sklearn").torch_kwargs()
    line = opt.Adam(eps_placement="sklearn").formulas("W1")[-1][1]
    assert line == "W1_new = W1 - η·√(1 - β2^t) / (1 - β1^t)·mW1 / (√sW1 + ε)"


def test_kernel_and_step_agree_and_differ_from_pytorch_placement():
    rng = np.random.default_rng(1)
    p, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) * 1e-6   # tiny gradients: where ε matters
    moments = (rng.normal(size=(4, 3)) * 1e-6, rng.uniform(0, 1e-12, (4, 3)))
    new, new_moments, _ = SKLEARN_ADAM.update(p, g, moments, 0.01, 2, True)
    q, ms = p.copy(), tuple(m.copy() for m in moments)
    SKLEARN_ADAM.update_into(q, g, ms, 0.01, 2, True, (np.empty_like(p), np.empty_like(p)))
    assert np.array_equal(q, new) and all(np.array_equal(a, b) for a, b in zip(ms, new_moments))
    # by hand: η_t = η·√(1 - β2²)/(1 - β1²), P - η_t·m/(√s + ε)
    m, s = new_moments
    rate = 0.01 * np.sqrt(1 - 0.99 ** 2) / (1 - 0.8 ** 2)
    np.testing.assert_allclose(new, p - rate * m / (np.sqrt(s) + 1e-8), rtol=1e-15, atol=0)
    pytorch = opt.Adam(beta1=0.8, beta2=0.99).update(p, g, moments, 0.01, 2, True)[0]
    assert np.abs(pytorch - new).max() > 1e-6


def test_backend_torch_refuses_it_in_one_line(tmp_path, capsys):
    require_module("torch")
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps({
        "layers": [{"weights": [[0.15, 0.2], [0.25, 0.3]], "biases": [0.35, 0.35], "activation": "sigmoid"},
                   {"weights": [[0.4, 0.45]], "biases": [0.6], "activation": "sigmoid"}],
        "loss": "half_sse", "data": {"inputs": [[0.05, 0.1]], "targets": [[0.5]]}, "learning_rate": 0.5,
        "optimizer": {"name": "adam", "eps_placement": "sklearn"}}))
    assert main(["train", str(problem), "--backend", "torch", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{problem}: optimizer.eps_placement: sklearn has no torch.optim twin")
    assert main(["train", str(problem), "--quiet"]) == 0   # numpy: trained
