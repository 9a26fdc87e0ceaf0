"""The exit to PyTorch: Network.to_torch / torch_loss / from_torch, and train_torch.

One gradient-descent update in deltarule (the delta rule) and one in PyTorch (autograd on
the matching loss module) must give the same parameters to 1e-12 in float64, for every
activation and every loss convention, both reductions, frozen parameters included.
"""
import numpy as np
import pytest

from conftest import require_module

torch = require_module("torch")

import deltarule as dr  # noqa: E402
from deltarule.network import Layer, Network  # noqa: E402
from deltarule.torch_bridge import train_torch  # noqa: E402
from deltarule.training import Diverged, Schedule, train  # noqa: E402


def random_network(sizes, acts, loss, reduction="mean", seed=0, dtype="float64", **flags):
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.normal(0, 0.8, (m, n)), rng.normal(0, 0.3, m), act)
              for n, m, act in zip(sizes, sizes[1:], acts)]
    if flags:
        layers[0] = Layer(layers[0].W, layers[0].b, layers[0].activation, **flags)
    return Network(tuple(layers), loss, reduction).astype(dtype)


def targets(loss, n, k, seed=1):
    rng = np.random.default_rng(seed)
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    if loss == "bce":
        return rng.integers(0, 2, (n, k)).astype(float)
    return rng.normal(0, 1, (n, k))


def torch_update(net, x, y, lr):
    """One SGD update done the PyTorch way; returns (loss before, the network after)."""
    model, loss_fn = net.to_torch(), net.torch_loss()
    loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    loss = loss.detach()
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p -= lr * p.grad
    return loss.item(), Network.from_torch(model, loss_fn)


CASES = [  # sizes, activations, loss, reduction
    ((2, 2, 1), ("sigmoid", "sigmoid"), "half_sse", "mean"),
    ((3, 4, 2), ("tanh", "identity"), "sse", "sum"),
    ((3, 5, 2), ("relu", "linear"), "mse", "mean"),
    ((3, 4, 3), ("sigmoid", "softmax"), "half_mse", "sum"),      # softmax without the fused loss
    ((4, 3, 1), ("leaky_relu", "sigmoid"), "bce", "mean"),        # fused: the model gives logits
    ((4, 3, 2), ("identity", "sigmoid"), "bce", "sum"),
    ((3, 6, 4, 3), ("tanh", "relu", "softmax"), "cross_entropy", "mean"),
    ((3, 4, 2), ("sigmoid", "tanh"), "sse", "mean"),
]


@pytest.mark.parametrize("sizes,acts,loss,reduction", CASES)
def test_one_update_is_the_same_in_torch(sizes, acts, loss, reduction):
    net = random_network(sizes, acts, loss, reduction)
    x = np.random.default_rng(2).normal(0, 1, (5, sizes[0]))
    y = targets(loss, 5, sizes[-1])
    step = net.step(x, y, 0.3)
    loss_torch, after = torch_update(net, x, y, 0.3)
    assert abs(loss_torch - step.trace.loss) < 1e-12
    assert after.loss.name == loss and after.reduction == reduction
    assert [lay.activation.name for lay in after.layers] == [lay.activation.name for lay in net.layers]
    np.testing.assert_allclose(after.parameters(), step.after.parameters(), rtol=0, atol=1e-12)
    # the update really moved the parameters: the comparison is not of two copies of the start
    assert np.abs(step.after.parameters() - net.parameters()).max() > 1e-3


def test_frozen_parameters_stay_frozen_in_torch():
    # seed 004, example 3: z = w x, no bias trained; one batch update w = 0.5 - 0.1 * dL/dw.
    # The notes round dL/dw to -0.0275 first and print 0.5028; unrounded dL/dw = -0.02740,
    # so w = 0.50274 (0.5027 to the notes' four decimals).
    p = dr.load_problem("seed-004-example-3")
    model = p.network.to_torch()
    assert model[0].weight.requires_grad and not model[0].bias.requires_grad
    _, after = torch_update(p.network, p.x, p.y, p.learning_rate)
    assert after.layers[0].train_biases is False
    np.testing.assert_allclose(after.parameters(), p.steps(1)[0].after.parameters(), rtol=0, atol=1e-12)
    assert round(float(after.layers[0].W[0, 0]), 5) == 0.50274


def test_round_trip_keeps_weights_dtype_and_outputs():
    net = random_network((3, 4, 3), ("leaky_relu", "softmax"), "cross_entropy", dtype="float32",
                         train_weights=False)
    model, loss_fn = net.to_torch(), net.torch_loss()
    assert isinstance(model, torch.nn.Sequential) and model[0].weight.dtype == torch.float32
    assert isinstance(model[1], torch.nn.LeakyReLU) and model[1].negative_slope == 0.01
    assert len(model) == 3  # Linear, LeakyReLU, Linear: softmax is inside the loss (logits)
    assert not model[0].weight.requires_grad and model[0].bias.requires_grad
    back = Network.from_torch(model, loss_fn)
    assert back.dtype == np.float32 and back.layers[0].train_weights is False
    np.testing.assert_array_equal(back.parameters(), net.parameters())
    x = np.random.default_rng(3).normal(0, 1, (4, 3)).astype(np.float32)
    probs = loss_fn.output(model(torch.from_numpy(x))).detach().numpy()
    np.testing.assert_allclose(probs, net.predict(x), rtol=1e-6)


def test_from_torch_reads_a_plain_pytorch_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2, bias=False)).double()
    net = Network.from_torch(model, "mse", "sum")
    assert [lay.activation.name for lay in net.layers] == ["tanh", "identity"]
    assert net.layers[1].train_biases is False and not net.layers[1].b.any()
    x = np.random.default_rng(0).normal(size=(3, 3))
    np.testing.assert_allclose(net.predict(x), model(torch.from_numpy(x)).detach().numpy(), rtol=1e-14)


@pytest.mark.parametrize("model,message", [
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LeakyReLU(0.2)), "slope"),
    (lambda: torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(2, 2)), "must follow a Linear"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU()), "cannot translate GELU"),
])
def test_from_torch_refuses_what_it_cannot_translate(model, message):
    with pytest.raises(ValueError, match=message):
        Network.from_torch(model())


@pytest.mark.parametrize("schedule", [Schedule("minibatch", 3, 4, True, 7), Schedule("stochastic", epochs=2),
                                      Schedule("batch", epochs=3)])
def test_train_torch_follows_the_numpy_training(schedule):
    # same batches in the same seeded order, same journal: loss, parameters, accuracy, validation
    net = random_network((3, 5, 3), ("tanh", "softmax"), "cross_entropy")
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(10, 3)), np.eye(3)[rng.integers(0, 3, 10)]
    val = (rng.normal(size=(4, 3)), np.eye(3)[rng.integers(0, 3, 4)])
    ref = train(net, x, y, 0.4, schedule, validation=val)
    got = train_torch(net, x, y, 0.4, schedule, validation=val, device="cpu")
    assert got.journal.columns == ref.journal.columns
    assert got.journal.columns[-3:] == ("accuracy", "val_loss", "val_accuracy")
    assert got.updates == ref.updates
    np.testing.assert_allclose(got.journal.rows, ref.journal.rows, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.network.parameters(), ref.network.parameters(), rtol=0, atol=1e-12)


def test_train_torch_running_loss_matches():
    p = dr.load_problem("seed-000-neuron") if "seed-000-neuron" in dr.examples.names() else None
    net = p.network if p is not None else random_network((1, 1), ("identity",), "sse")
    x = p.x if p is not None else np.array([[1.0], [2.0]])
    y = p.y if p is not None else np.array([[1.0], [3.0]])
    s = Schedule("stochastic", epochs=3)
    ref = train(net, x, y, 0.1, s, journal_loss="running")
    got = train_torch(net, x, y, 0.1, s, journal_loss="running", device="cpu")
    np.testing.assert_allclose(got.journal.rows, ref.journal.rows, rtol=0, atol=1e-12)


def test_train_torch_diverges_cleanly():
    net = random_network((2, 3, 1), ("relu", "identity"), "sse")
    x, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[1e3], [-1e3]])
    with pytest.raises(Diverged) as e:
        train_torch(net, x, y, 50.0, Schedule(epochs=2000), device="cpu")
    assert np.isfinite(e.value.network.parameters()).all()


@pytest.mark.parametrize("argv,env,message", [
    (["--backend", "torch", "--checkpoint", "c.json"], {}, "--backend: --checkpoint works with the numpy backend only"),
    ([], {"WORLD_SIZE": "2"}, "--backend: under torchrun, data-parallel training needs --backend torch"),
])
def test_train_refuses_what_the_torch_backend_cannot_do(argv, env, message, monkeypatch, tmp_path, capsys):
    from deltarule.cli import main

    monkeypatch.chdir(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["train", "seed-002", *argv]) == 2
    assert capsys.readouterr().err == message + "\n"
    assert not list(tmp_path.iterdir())
