"""Digits against torch.optim (issue 15 item 6): every optimizer × learning-rate schedule × L2 {0, > 0}.

160 of the built-in digits, a 64-32-10 sigmoid/softmax network with cross-entropy (mean), batches
of 16 in file order: 10 epochs of 10 updates = 100 steps in float64. The reference loop
(:func:`deltarule.descent.optimize`), ``dr.train`` (the engine a user gets) and ``train_torch``
(``--backend torch``, journal included) all equal ``torch.optim`` + ``torch.optim.lr_scheduler`` to
1e-10 relative: parameters, every batch loss (penalty included), every optimizer state array.
Every schedule has a PyTorch twin: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, and
``LambdaLR`` for constant and inverse_scaling (scikit-learn's invscaling, η/(e·n + 1)^power_t).
L2 is weight_decay on a weights-only parameter group (AdamW: its decoupled decay stays, L2 goes
into the loss). The PyTorch loop: tests/_parity.py. About 12 s CPU for the 60 cases.
"""
from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from _parity import close, digits, torch_run
from deltarule import Layer, Network
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.descent import optimize
from deltarule.schedule import Schedule
from deltarule.torch_bridge import train_torch

OPTIMIZERS = {                  # the rate each learns digits at in 100 steps
    "sgd": (opt.SGD(), 1.0),
    "momentum": (opt.SGD(momentum=0.9), 0.2),
    "nesterov": (opt.SGD(momentum=0.8, nesterov=True), 0.3),
    "rmsprop": (opt.RMSprop(), 0.003),
    "adam": (opt.Adam(), 0.01),
    "adamw": (opt.AdamW(weight_decay=0.05), 0.01),
}
SCHEDULES = {
    "constant": sch.Constant(),
    "step": sch.Step(step_size=3, gamma=0.5),
    "exponential": sch.Exponential(gamma=0.8),
    "cosine": sch.Cosine(t_max=7),               # 10 epochs: down to 0 at epoch 7, up again (PyTorch's)
    "inverse_scaling": sch.InverseScaling(power_t=0.25),
}
L2 = {"no_l2": 0.0, "l2": 0.01}
N, BATCH, EPOCHS = 160, 16, 10


@pytest.fixture(scope="module")
def problem():
    x, y = digits(N)
    rng = np.random.default_rng(0)
    net = Network((Layer(rng.normal(0, 0.2, (32, 64)), np.zeros(32), "sigmoid"),
                   Layer(rng.normal(0, 0.2, (10, 32)), np.zeros(10), "softmax")), loss="cross_entropy")
    return net, x, y


@pytest.mark.parametrize("l2", list(L2))
@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_digits_equal_torch_optim(problem, name, schedule, l2):
    net, x, y = problem
    optimizer, lr = OPTIMIZERS[name]
    lr_schedule, lam = SCHEDULES[schedule], L2[l2]
    run = optimize(net, x, y, lr, optimizer, lr_schedule, lam, Schedule("minibatch", BATCH, EPOCHS))
    theirs, losses, state = torch_run(net, x, y, lr, optimizer, lr_schedule, lam, BATCH, EPOCHS)
    assert len(run.losses) == 100 and run.state["t"] == 100
    assert run.losses[-1] < 0.8 * run.losses[0]                       # it learns: the runs went somewhere
    assert (run.rates[-1] != lr) == (schedule != "constant")
    close(run.network.parameters(), theirs.parameters())
    close(run.losses, losses)
    assert sorted(state) == sorted(k for k in run.state if k != "t")   # every state array compared
    assert len(state) == 4 * len(optimizer.moments)
    for key, value in state.items():
        close(run.state[key], value)
    # and the engine dr.train picks (the buffered one here) gives those numbers
    trained = dr.train(net, x, y, lr, Schedule("minibatch", BATCH, EPOCHS), optimizer=optimizer,
                       lr_schedule=None if schedule == "constant" else lr_schedule, l2=lam)
    assert trained.updates == 100
    close(trained.network.parameters(), theirs.parameters())
    # and `--backend torch` (train_torch: the bridge's own torch.optim/lr_scheduler mapping), journal included
    bridged = train_torch(net, x, y, lr, Schedule("minibatch", BATCH, EPOCHS), optimizer=optimizer,
                          lr_schedule=None if schedule == "constant" else lr_schedule, l2=lam, device="cpu")
    close(bridged.network.parameters(), theirs.parameters())
    assert bridged.journal.columns == trained.journal.columns
    assert ("learning_rate" in trained.journal.columns) == (schedule != "constant")
    assert len(trained.journal) == EPOCHS + 1
    close(bridged.journal.rows, trained.journal.rows)
