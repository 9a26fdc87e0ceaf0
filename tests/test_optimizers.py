"""Optimizers, learning-rate schedules and L2 (issue 15): the reference loop against PyTorch and scikit-learn.

* every optimizer × schedule × L2, 100 updates of mini-batches on random small float64 networks:
  parameters, batch losses and the optimizer state equal ``torch.optim`` + ``lr_scheduler`` to 1e-10
  relative (L2 as PyTorch's weight_decay on a weights-only parameter group; AdamW's in the loss);
* sgd with momentum / Nesterov at a constant rate, plain sgd with inverse_scaling, and L2 equal
  scikit-learn's MLPRegressor to 1e-8 after 3 epochs of mini-batches (shuffle off), alpha = λ·B
  for each batch of B, the last shorter one included;
* seed 002's network worked by hand: two momentum steps and two Adam steps.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from _parity import close as _close, torch_run
from conftest import require_module
from deltarule import Layer, Network
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.descent import descent_step, optimize
from deltarule.regularization import add_l2, penalty
from deltarule.schedule import Schedule

OPTIMIZERS = {
    "sgd": (opt.SGD(), 0.5),
    "momentum": (opt.SGD(momentum=0.9), 0.2),
    "nesterov": (opt.SGD(momentum=0.8, nesterov=True), 0.2),
    "rmsprop": (opt.RMSprop(), 0.01),
    "adam": (opt.Adam(), 0.02),
    "adamw": (opt.AdamW(weight_decay=0.05), 0.02),
}
SCHEDULES = {
    "constant": sch.Constant(),
    "step": sch.Step(step_size=3, gamma=0.5),
    "exponential": sch.Exponential(gamma=0.9),
    "cosine": sch.Cosine(t_max=8),          # 20 epochs: down to 0 at epoch 8, up again, as PyTorch
    "inverse_scaling": sch.InverseScaling(power_t=0.25),
}
N, BATCH, EPOCHS = 18, 4, 20                 # 5 batches an epoch (the last of 2): 100 updates


def _network(seed: int, acts: tuple[str, ...], sizes: tuple[int, ...], loss="half_sse", frozen=False) -> Network:
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.normal(0, 0.8, (units, fan_in)), rng.normal(0, 0.3, units), act,
                    train_weights=not (frozen and l == 0), train_biases=not (frozen and l == 1))
              for l, (fan_in, units, act) in enumerate(zip(sizes, sizes[1:], acts))]
    return Network(tuple(layers), loss=loss)


def _data(seed: int, d: int, k: int, n: int = N):
    rng = np.random.default_rng(100 + seed)
    return rng.normal(size=(n, d)), rng.uniform(0.1, 0.9, (n, k))


# -- PyTorch (the loop itself: tests/_parity.py) --------------------------------------------------------
def _torch_run(net: Network, x, y, lr: float, optimizer, schedule, l2: float, batch=BATCH, epochs=EPOCHS):
    return torch_run(net, x, y, lr, optimizer, schedule, l2, batch, epochs)


@pytest.mark.parametrize("l2", [0.0, 0.03], ids=["no_l2", "l2"])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_equals_torch_optim(name, schedule, l2):
    optimizer, lr = OPTIMIZERS[name]
    seed = sorted(OPTIMIZERS).index(name) * 10 + sorted(SCHEDULES).index(schedule)
    shape = [((3, 4, 2), ("sigmoid", "sigmoid")), ((2, 5, 3, 2), ("tanh", "sigmoid", "identity"))][seed % 2]
    net = _network(seed, shape[1], shape[0])
    x, y = _data(seed, shape[0][0], shape[0][-1])
    run = optimize(net, x, y, lr, optimizer, SCHEDULES[schedule], l2,
                   Schedule("minibatch", BATCH, EPOCHS))
    theirs, losses, state = _torch_run(net, x, y, lr, optimizer, SCHEDULES[schedule], l2)
    assert len(run.losses) == 100 and run.state["t"] == 100
    moved = np.abs(run.network.parameters() - net.parameters()).max()
    assert moved > 1e-3                                   # the runs went somewhere
    _close(run.network.parameters(), theirs.parameters())
    _close(run.losses, losses)
    assert sorted(state) == sorted(k for k in run.state if k != "t")   # every state array compared
    for key, value in state.items():
        _close(run.state[key], value)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_equals_torch_optim_on_digits(name):
    # 160 of the built-in digits, 64-32-10 sigmoid/softmax, cross-entropy (fused in PyTorch: logits),
    # batches of 16: 10 epochs of 10 updates, cosine schedule, L2
    from deltarule.examples import path

    with path("digits") as yaml_file, np.load(yaml_file.parent / "digits.npz") as data:
        x = data["inputs"][:160].astype(np.float64) / data["inputs"].max()
        y = np.eye(10)[data["targets"][:160]]
    rng = np.random.default_rng(0)
    net = Network((Layer(rng.normal(0, 0.2, (32, 64)), np.zeros(32), "sigmoid"),
                   Layer(rng.normal(0, 0.2, (10, 32)), np.zeros(10), "softmax")), loss="cross_entropy")
    optimizer, lr = OPTIMIZERS[name]
    run = optimize(net, x, y, lr, optimizer, sch.Cosine(t_max=10), 1e-3, Schedule("minibatch", 16, 10))
    theirs, losses, state = _torch_run(net, x, y, lr, optimizer, sch.Cosine(t_max=10), 1e-3, batch=16, epochs=10)
    assert len(run.losses) == 100 and run.losses[-1] < 0.8 * run.losses[0]       # it learns
    _close(run.network.parameters(), theirs.parameters())
    _close(run.losses, losses)
    for key, value in state.items():
        _close(run.state[key], value)


@pytest.mark.parametrize("loss, reduction, out", [("bce", "mean", "sigmoid"), ("mse", "sum", "tanh"),
                                                  ("sse", "mean", "identity")])
@pytest.mark.parametrize("name", ["nesterov", "rmsprop", "adamw"])
def test_equals_torch_optim_for_other_losses(name, loss, reduction, out):
    optimizer, lr = OPTIMIZERS[name]
    net = _network(21, ("tanh", out), (3, 4, 2), loss=loss)
    net = Network(net.layers, loss, reduction)
    x, y = _data(21, 3, 2)
    y = (y > 0.5).astype(float) if loss == "bce" else y
    run = optimize(net, x, y, lr / 4, optimizer, sch.Step(step_size=4, gamma=0.7), 0.01,
                   Schedule("minibatch", BATCH, EPOCHS))
    theirs, losses, _ = _torch_run(net, x, y, lr / 4, optimizer, sch.Step(step_size=4, gamma=0.7), 0.01)
    assert np.abs(run.network.parameters() - net.parameters()).max() > 1e-3
    _close(run.network.parameters(), theirs.parameters())
    _close(run.losses, losses)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_run_continued_from_its_state_is_bit_identical(name):
    # what a checkpoint must carry: the parameters, the optimizer state with t, the next epoch
    optimizer, lr = OPTIMIZERS[name]
    net = _network(4, ("sigmoid", "sigmoid"), (3, 4, 2))
    x, y = _data(4, 3, 2)
    whole = optimize(net, x, y, lr, optimizer, sch.Cosine(t_max=5), 0.01, Schedule("minibatch", BATCH, 6))
    half = optimize(net, x, y, lr, optimizer, sch.Cosine(t_max=5), 0.01, Schedule("minibatch", BATCH, 3))
    rest = optimize(half.network, x, y, lr, optimizer, sch.Cosine(t_max=5), 0.01, Schedule("minibatch", BATCH, 3),
                    state=half.state, first_epoch=3)
    np.testing.assert_array_equal(rest.network.parameters(), whole.network.parameters())
    np.testing.assert_array_equal(np.concatenate([half.losses, rest.losses]), whole.losses)
    assert rest.state["t"] == whole.state["t"] == 30 and rest.rates == whole.rates[3:]
    for key in whole.state:
        np.testing.assert_array_equal(rest.state[key], whole.state[key])


@pytest.mark.parametrize("name", ["momentum", "adam", "adamw"])
def test_frozen_parameters_never_move_and_keep_zero_state(name):
    optimizer, lr = OPTIMIZERS[name]
    net = _network(7, ("sigmoid", "tanh", "identity"), (3, 4, 3, 2), frozen=True)   # W1 and b2 frozen
    x, y = _data(7, 3, 2)
    run = optimize(net, x, y, lr, optimizer, sch.Exponential(gamma=0.95), 0.02, Schedule("minibatch", BATCH, EPOCHS))
    np.testing.assert_array_equal(run.network.layers[0].W, net.layers[0].W)
    np.testing.assert_array_equal(run.network.layers[1].b, net.layers[1].b)
    for k in optimizer.moments:
        assert not run.state[f"{k}W1"].any() and not run.state[f"{k}b2"].any()
        assert np.abs(run.state[f"{k}b1"]).max() > 0 and np.abs(run.state[f"{k}W2"]).max() > 0
    assert np.abs(run.network.layers[1].W - net.layers[1].W).max() > 1e-3
    theirs, _, state = _torch_run(net, x, y, lr, optimizer, sch.Exponential(gamma=0.95), 0.02)
    _close(run.network.parameters(), theirs.parameters())


def test_plain_sgd_is_todays_gradient_descent():
    net = _network(3, ("sigmoid", "sigmoid"), (3, 4, 2))
    x, y = _data(3, 3, 2)
    run = optimize(net, x, y, 0.5, opt.SGD(), schedule=Schedule("minibatch", BATCH, 2))
    expected = net
    for _ in range(2):
        for s in range(0, N, BATCH):
            expected = expected.step(x[s:s + BATCH], y[s:s + BATCH], 0.5).after
    np.testing.assert_array_equal(run.network.parameters(), expected.parameters())
    # and the driver's generic engine, shuffled: the same batches in the same order, the same numbers
    import deltarule as dr

    shuffled = Schedule("minibatch", BATCH, 3, shuffle=True, seed=3)
    trained = dr.train(net, x, y, 0.5, shuffled, engine="generic")
    ours = optimize(net, x, y, 0.5, opt.SGD(), schedule=shuffled)
    np.testing.assert_array_equal(ours.network.parameters(), trained.network.parameters())


# -- scikit-learn --------------------------------------------------------------------------------------
def _sklearn_run(net: Network, x, y, lr: float, hidden: str, **kw):
    """MLPRegressor started from ``net``'s parameters (its coefs_ are W transposed), 3 epochs, file order."""
    nn = require_module("sklearn.neural_network")
    reg = nn.MLPRegressor(hidden_layer_sizes=[lay.units for lay in net.layers[:-1]], activation=hidden,
                          solver="sgd", learning_rate_init=lr, batch_size=BATCH, shuffle=False, max_iter=3,
                          n_iter_no_change=100, warm_start=True, random_state=0, **kw)
    return _sklearn_fit_from(reg, net, x, y)


def _sklearn_fit_from(reg, net: Network, x, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.partial_fit(x, y)                       # builds the model; its parameters are replaced:
        reg.coefs_ = [lay.W.T.copy() for lay in net.layers]
        reg.intercepts_ = [lay.b.copy() for lay in net.layers]
        reg.t_, reg.loss_curve_, reg.best_loss_, reg._no_improvement_count = 0, [], np.inf, 0
        reg.fit(x, y)                               # warm start: from those parameters, a new optimizer
    assert reg.n_iter_ == 3
    return np.concatenate([np.concatenate([c.T.ravel(), b]) for c, b in zip(reg.coefs_, reg.intercepts_)])


def _sklearn_reference(net: Network, x, y, lr, optimizer, lr_schedule, alpha: float):
    """Our loop with λ = alpha / B for each batch of B (the last, shorter one: a larger λ)."""
    Ws, bs = [lay.W for lay in net.layers], [lay.b for lay in net.layers]
    acts = [lay.activation for lay in net.layers]
    state = optimizer.init(list(zip(Ws, bs)))
    for epoch in range(3):
        rate = lr_schedule.rate(epoch, lr, len(x))
        for s in range(0, len(x), BATCH):
            xb, yb = x[s:s + BATCH], y[s:s + BATCH]
            Ws, bs, state, _ = descent_step(Ws, bs, acts, net.loss, net.reduction, xb, yb, optimizer, state, rate,
                                            alpha / len(xb))
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in zip(Ws, bs)])


SKLEARN_CASES = {
    #  name: (optimizer, schedule, alpha, MLPRegressor's settings)
    "momentum": (opt.SGD(momentum=0.9), sch.Constant(), 0.0, {"momentum": 0.9, "nesterovs_momentum": False}),
    "nesterov": (opt.SGD(momentum=0.7, nesterov=True), sch.Constant(), 0.0,
                 {"momentum": 0.7, "nesterovs_momentum": True}),
    "invscaling": (opt.SGD(), sch.InverseScaling(power_t=0.5), 0.0,
                   {"momentum": 0.0, "learning_rate": "invscaling", "power_t": 0.5}),
    "l2": (opt.SGD(), sch.Constant(), 0.2, {"momentum": 0.0}),
    "l2_momentum": (opt.SGD(momentum=0.9, nesterov=True), sch.Constant(), 0.1,
                    {"momentum": 0.9, "nesterovs_momentum": True}),
}


@pytest.mark.parametrize("hidden", ["logistic", "tanh"])
@pytest.mark.parametrize("case", list(SKLEARN_CASES))
def test_equals_sklearn_mlp_regressor(case, hidden):
    optimizer, lr_schedule, alpha, settings = SKLEARN_CASES[case]
    act = {"logistic": "sigmoid", "tanh": "tanh"}[hidden]
    # MLPRegressor: identity output, gradient of half_sse averaged over the batch, for 2 outputs too
    net = _network(11, (act, act, "identity"), (3, 5, 4, 2))
    x, y = _data(11, 3, 2)                           # 18 examples, batches of 4: the last holds 2
    theirs = _sklearn_run(net, x, y, 0.1, hidden, alpha=alpha, **settings)
    ours = _sklearn_reference(net, x, y, 0.1, optimizer, lr_schedule, alpha)
    assert np.abs(ours - net.parameters()).max() > 1e-2
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    if alpha:  # one λ for every batch (optimize) is not scikit-learn's: the last batch's λ differs
        same_lambda = optimize(net, x, y, 0.1, optimizer, lr_schedule, alpha / BATCH, Schedule("minibatch", BATCH, 3))
        assert np.abs(same_lambda.network.parameters() - theirs).max() > 1e-6
    if case == "invscaling":  # and optimize's own schedule gives scikit-learn's rates
        run = optimize(net, x, y, 0.1, optimizer, lr_schedule, 0.0, Schedule("minibatch", BATCH, 3))
        np.testing.assert_allclose(run.network.parameters(), theirs, rtol=1e-8, atol=1e-10)
        assert run.rates == (0.1, 0.1 / 19 ** 0.5, 0.1 / 37 ** 0.5)   # t = 0, 18, 36 samples seen


def test_adam_against_sklearn_only_to_its_eps_placement():
    # scikit-learn's adam folds the bias correction into the rate, η·√(1-β2ᵗ)/(1-β1ᵗ)·m/(√s + ε): its ε
    # stands against the uncorrected √s, i.e. ε·√(1-β2ᵗ) against √ŝ here. With PyTorch's placement (the
    # default) agreement is to ~1e-5 relative, not exact; with ε = 0 both are the same formula.
    # eps_placement="sklearn" is exact: tests/test_sklearn_adam.py.
    net = _network(12, ("tanh", "identity"), (3, 5, 2))
    x, y = _data(12, 3, 2)
    nn = require_module("sklearn.neural_network")
    for eps, rtol in ((1e-8, 1e-5), (1e-300, 1e-10)):
        ours = _sklearn_reference(net, x, y, 0.01, opt.Adam(eps=eps), sch.Constant(), 0.0)
        reg = nn.MLPRegressor(hidden_layer_sizes=[5], activation="tanh", solver="adam", epsilon=eps, alpha=0.0,
                              learning_rate_init=0.01, batch_size=BATCH, shuffle=False, max_iter=3,
                              n_iter_no_change=100, warm_start=True, random_state=0)
        theirs = _sklearn_fit_from(reg, net, x, y)
        assert np.abs(ours - net.parameters()).max() > 1e-2
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-2)
    assert np.abs(_sklearn_reference(net, x, y, 0.01, opt.Adam(), sch.Constant(), 0.0) - theirs).max() > 1e-12


# -- L2 ----------------------------------------------------------------------------------------------------
def test_l2_penalty_and_gradient_against_finite_differences():
    net = _network(5, ("tanh", "sigmoid"), (2, 3, 1))
    x, y = _data(5, 2, 1, n=6)
    lam = 0.3
    Ws = [lay.W for lay in net.layers]
    # (λ/2) Σ W²: by hand over every weight
    assert penalty(Ws, lam) == pytest.approx(0.15 * sum(float((W ** 2).sum()) for W in Ws), rel=1e-14)
    assert penalty(Ws, lam) > 0 and penalty(Ws, 0.0) == 0.0

    def total(vector):
        other = net.with_parameters(vector)
        return other.evaluate(x, y) + penalty([lay.W for lay in other.layers], lam)

    tr = net.trace(x, y)
    dWs = add_l2([lt.dW for lt in tr.layers], Ws, lam)
    analytic = np.concatenate([np.concatenate([dW.ravel(), lt.db]) for dW, lt in zip(dWs, tr.layers)])
    v, h = net.parameters(), 1e-6
    numeric = np.array([(total(v + h * e) - total(v - h * e)) / (2 * h) for e in np.eye(len(v))])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    biases = [len(v) - 1] + list(range(6, 9))          # b2[1] and b1[1..3]: no λW term
    np.testing.assert_array_equal(analytic[biases], np.concatenate([tr.layers[0].db, tr.layers[1].db])[[3, 0, 1, 2]])


# -- seed 002 by hand ----------------------------------------------------------------------------------
SEED_002 = Network((Layer([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35], "sigmoid"),
                    Layer([[0.40, 0.45]], [0.60], "sigmoid")), loss="half_sse")
X2, Y2 = [[0.05, 0.10]], [[0.5]]


def test_seed_002_two_momentum_steps_by_hand():
    # Seed 002's gradients (its worked solution): dW2 = [0.0278593, 0.0280290], db2 = 0.0469589.
    # sgd, μ = 0.9, η = 0.5. Step 1: v starts at 0, so vW2 = 0.9·0 + dW2 = dW2 (PyTorch: buffer = g)
    #   W2 = [0.40 - 0.5·0.0278593, 0.45 - 0.5·0.0280290] = [0.3860703, 0.4359855]   (= plain descent)
    # Step 2: the gradient at the new parameters is dW2 = [0.0275329, 0.0276977], so
    #   vW2[1,1] = 0.9·0.0278593 + 0.0275329 = 0.0250734 + 0.0275329 = 0.0526063
    #   W2[1,1]  = 0.3860703 - 0.5·0.0526063 = 0.3860703 - 0.0263031 = 0.3597672
    #   vb2 = 0.9·0.0469589 + 0.0464521 = 0.0422630 + 0.0464521 = 0.0887151
    #   b2  = (0.60 - 0.5·0.0469589) - 0.5·0.0887151 = 0.5765206 - 0.0443575 = 0.5321630
    one = optimize(SEED_002, X2, Y2, 0.5, opt.SGD(momentum=0.9), schedule=Schedule(epochs=1))
    np.testing.assert_allclose(one.state["vW2"], [[0.0278593, 0.0280290]], atol=1e-7)
    np.testing.assert_allclose(one.network.layers[1].W, [[0.3860703, 0.4359855]], atol=1e-7)
    np.testing.assert_array_equal(one.network.parameters(), SEED_002.step(X2, Y2, 0.5).after.parameters())
    two = optimize(SEED_002, X2, Y2, 0.5, opt.SGD(momentum=0.9), schedule=Schedule(epochs=2))
    assert two.state["t"] == 2
    assert two.state["vW2"][0, 0] == pytest.approx(0.0526063, abs=1e-7)
    assert two.network.layers[1].W[0, 0] == pytest.approx(0.3597672, abs=1e-7)
    assert two.state["vb2"][0] == pytest.approx(0.0887151, abs=1e-7)
    assert two.network.layers[1].b[0] == pytest.approx(0.5321630, abs=1e-7)
    assert two.losses[0] == pytest.approx(0.0315922, abs=1e-7)      # seed 002's loss, before any step


def test_seed_002_two_adam_steps_by_hand():
    # Adam (β1 0.9, β2 0.999, ε 1e-8), η = 0.01, on w5 = W2[1,1] = 0.40 with g1 = dW2[1,1] = 0.0278593162.
    # Step 1 (t = 1): m = 0.1·g1 = 0.00278593;  s = 0.001·g1² = 0.001·0.000776141 = 7.76141e-7
    #   m_hat = m / (1 - 0.9) = g1;  s_hat = s / (1 - 0.999) = g1²;  √s_hat = g1
    #   w5 = 0.40 - 0.01·g1 / (g1 + 1e-8) = 0.40 - 0.0099999964 = 0.3900000036  (a first Adam step is ≈ η·sign(g))
    # Step 2 (t = 2): at the new parameters g2 = 0.0275573377
    #   m = 0.9·0.00278593 + 0.1·0.0275573 = 0.00250734 + 0.00275573 = 0.00526307
    #   s = 0.999·7.76141e-7 + 0.001·0.000759407 = 7.75365e-7 + 7.59407e-7 = 1.534772e-6
    #   m_hat = 0.00526307 / (1 - 0.9²) = 0.00526307 / 0.19 = 0.0277004
    #   s_hat = 1.534772e-6 / (1 - 0.999²) = 1.534772e-6 / 0.001999 = 0.000767770;  √s_hat = 0.0277087
    #   w5 = 0.3900000036 - 0.01·0.0277004 / (0.0277087 + 1e-8) = 0.3900000036 - 0.01·0.999701 = 0.3800030
    one = optimize(SEED_002, X2, Y2, 0.01, opt.Adam(), schedule=Schedule(epochs=1))
    assert one.state["mW2"][0, 0] == pytest.approx(0.00278593, abs=1e-8)
    assert one.state["sW2"][0, 0] == pytest.approx(7.76141e-7, abs=1e-12)
    assert one.network.layers[1].W[0, 0] == pytest.approx(0.3900000036, abs=1e-10)
    assert one.network.trace(X2, Y2).layers[1].dW[0, 0] == pytest.approx(0.0275573377, abs=1e-10)
    two = optimize(SEED_002, X2, Y2, 0.01, opt.Adam(), schedule=Schedule(epochs=2))
    assert two.state["t"] == 2
    assert two.state["mW2"][0, 0] == pytest.approx(0.00526307, abs=1e-8)
    assert two.state["sW2"][0, 0] == pytest.approx(1.534772e-6, abs=1e-12)
    assert two.network.layers[1].W[0, 0] == pytest.approx(0.3800030, abs=1e-7)
    # the bias-corrected values the solution shows, from the step itself
    tr = one.network.trace(X2, Y2)
    _, _, shown = opt.Adam().step_values([(lay.W, lay.b) for lay in one.network.layers],
                                         [(lt.dW, lt.db) for lt in tr.layers], one.state, 0.01)
    assert sorted(shown) == sorted(opt.Adam().hat_names(2))
    assert shown["mW2_hat"][0, 0] == pytest.approx(0.0277004, abs=1e-7)
    assert shown["sW2_hat"][0, 0] == pytest.approx(0.000767770, abs=1e-9)


# -- the registries -----------------------------------------------------------------------------------------
def test_defaults_are_pytorchs():
    torch = require_module("torch")
    w = [torch.zeros(1, requires_grad=True)]
    for ours in (opt.RMSprop(), opt.Adam(), opt.AdamW(), opt.SGD()):
        theirs = getattr(torch.optim, ours.torch_name)(w, lr=0.1).defaults
        for key, value in ours.torch_kwargs().items():
            assert theirs[key] == value, (ours.name, key)
    assert opt.AdamW().weight_decay == 0.01 and opt.RMSprop().alpha == 0.99 and opt.Adam().beta2 == 0.999


def test_names_settings_and_bad_values():
    assert opt.Adam().state_names(2) == ["mW1", "sW1", "mb1", "sb1", "mW2", "sW2", "mb2", "sb2", "t"]
    assert opt.SGD(momentum=0.5).state_names(1) == ["vW1", "vb1", "t"] and opt.SGD().state_names(1) == ["t"]
    assert opt.RMSprop().state_names(1) == ["sW1", "sb1", "t"]
    for o in (opt.SGD(momentum=0.9, nesterov=True), opt.RMSprop(eps=1e-6), opt.AdamW(beta1=0.8)):
        assert opt.from_settings(o.settings()) == o
    for s in SCHEDULES.values():
        assert sch.from_settings(s.settings()) == s
    assert opt.setting_names("sgd") == ["momentum", "nesterov"]
    assert sch.setting_names("step") == ["step_size", "gamma"]
    for bad in ({"name": "sgd", "nesterov": True}, {"name": "adam", "beta1": 1.0}, {"name": "rmsprop", "eps": 0}):
        with pytest.raises(ValueError):
            opt.from_settings(bad)
    with pytest.raises(TypeError):
        opt.get("adam", weight_decay=0.1)                           # adam has none: use regularization
    with pytest.raises(KeyError):
        opt.get("adagrad")
    with pytest.raises(ValueError):
        sch.get("step", step_size=0)
    with pytest.raises(TypeError):
        sch.get("cosine")                                            # t_max is required
    # formulas: one line per operation, in plain text and LaTeX
    assert [t for _, t in opt.AdamW().formulas("W2")][0] == "W2 = W2 - η·λ·W2"
    assert len(opt.AdamW().formulas("b2")) == 5 and len(opt.SGD(momentum=0.9).formulas("b1")) == 2


def test_steps_are_pure():
    params = [(np.array([[1.0, 2.0]]), np.array([0.5]))]
    grads = [(np.array([[0.1, -0.2]]), np.array([0.3]))]
    for o in (opt.SGD(momentum=0.9), opt.RMSprop(), opt.AdamW()):
        state = o.init(params)
        before = {k: np.copy(v) for k, v in state.items()}
        new, after = o.step(params, grads, state, 0.1)
        assert params[0][0].tolist() == [[1.0, 2.0]] and all(np.array_equal(before[k], state[k]) for k in state)
        assert not np.array_equal(new[0][0], params[0][0]) and after["t"] == 1


def test_float32_stays_float32_and_update_is_the_step():
    net = _network(9, ("sigmoid", "sigmoid"), (3, 4, 2)).astype("float32")
    x, y = _data(9, 3, 2)
    for o in (opt.SGD(momentum=0.9), opt.RMSprop(), opt.Adam(), opt.AdamW()):
        run = optimize(net, x, y, 0.01, o, sch.Exponential(gamma=0.9), 0.01, Schedule("minibatch", BATCH, 2))
        assert run.network.dtype == np.float32
        assert all(v.dtype == np.float32 for k, v in run.state.items() if k != "t") and len(run.state) > 1
    # the per-parameter rule the checker will call: W2 alone, from the state of step 1, gives step 2's W2
    o = opt.Adam()
    one = optimize(SEED_002, X2, Y2, 0.01, o, schedule=Schedule(epochs=1))
    two = optimize(SEED_002, X2, Y2, 0.01, o, schedule=Schedule(epochs=2))
    g = one.network.trace(X2, Y2).layers[1].dW
    W2, moments, hats = o.update(one.network.layers[1].W, g, (one.state["mW2"], one.state["sW2"]), 0.01, 2, True)
    np.testing.assert_array_equal(W2, two.network.layers[1].W)
    np.testing.assert_array_equal(moments[0], two.state["mW2"])
    assert hats[0][0, 0] == pytest.approx(0.0277004, abs=1e-7)


@pytest.mark.parametrize("module, settings, field", [
    (opt, {"name": "adagrad"}, "name"), (opt, {"name": "adam", "weight_decay": 0.1}, "weight_decay"),
    (opt, {"name": "adam", "beta1": 1.0}, "beta1"), (opt, {"name": "sgd", "nesterov": True}, "nesterov"),
    (opt, {"name": "sgd", "momentum": "lots"}, "momentum"), (opt, {"name": ["sgd"]}, "name"),
    (sch, {"name": "cosine"}, "t_max"), (sch, {"name": "step", "step_size": 0}, "step_size"),
    (sch, {"name": "exponential", "gamma": -1.0}, "gamma"), (sch, {"gamma": 0.5}, "name"),
])
def test_bad_settings_name_their_field(module, settings, field):
    from deltarule.errors import InputError

    with pytest.raises(InputError) as caught:
        module.from_settings(settings)
    assert caught.value.field == field and caught.value.message
