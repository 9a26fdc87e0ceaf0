"""The registry (activations.py, losses.py): every registered activation x loss x engine is
supported with the generic loop's numbers, or refused with one clear line; the new entries
(softplus, elu) against finite differences and PyTorch autograd; the fields the other parts
read (notation, torch twin, mistakes, decision, kernels)."""
from __future__ import annotations

import ast
import math
import pathlib
from dataclasses import replace

import numpy as np
import pytest
from conftest import require_module

import deltarule as dr
from deltarule import activations as A
from deltarule import fast, metrics, training
from deltarule import losses as L
from deltarule.errors import InputError
from deltarule.training.run import choose

SRC = pathlib.Path(dr.__file__).parent
SCHEDULE = dr.Schedule("minibatch", 3, epochs=4, shuffle=True, seed=5)


def case(act: A.Activation, loss: L.Loss, dtype=np.float64, seed: int = 0):
    """A 3-4-2 network walking ``act`` (hidden layer, and output where the loss allows any), data."""
    rng = np.random.default_rng(seed)
    hidden = act if act.elementwise else A.tanh  # row-wise ones only at the output (see test below)
    out = act if loss.squared else A.get(next(iter(loss.fused)))
    layers = [dr.Layer(rng.normal(0, 0.8, (4, 3)).astype(dtype), rng.normal(0, 0.1, 4).astype(dtype), hidden),
              dr.Layer(rng.normal(0, 0.8, (2, 4)).astype(dtype), rng.normal(0, 0.1, 2).astype(dtype), out)]
    x = rng.normal(0, 1, (7, 3))
    if loss.squared:
        y = rng.normal(0, 1, (7, 2))
    elif loss.fused.get(out.name) is not None and loss.decision(out) == "argmax":
        y = np.eye(2)[rng.integers(0, 2, 7)]
    else:
        y = rng.uniform(0, 1, (7, 2))
    return dr.Network(tuple(layers), loss), x, y


PAIRS = [(a, f) for a in A.ACTIVATIONS.values() for f in L.LOSSES.values()]
IDS = [f"{a.name}-{f.name}" for a, f in PAIRS]


def assert_same(got, want, tol):
    assert got.journal.columns == want.journal.columns
    assert got.updates == want.updates > 0
    np.testing.assert_allclose(got.journal.rows, want.journal.rows, rtol=tol, atol=tol)
    np.testing.assert_allclose(got.network.parameters(), want.network.parameters(), rtol=tol, atol=tol)


# -- every activation x loss x engine ------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["buffered", "scalar"])
@pytest.mark.parametrize("act, loss", PAIRS, ids=IDS)
def test_every_pair_runs_on_the_fast_engines_with_the_generic_numbers(act, loss, engine):
    if engine == "scalar":
        require_module("numba")
    net, x, y = case(act, loss)
    assert fast.refusal(net, "epoch") is None  # supported: no silent fallback to hide behind
    assert choose(net, len(x), SCHEDULE, "epoch", engine, None) == engine  # the engine that runs
    want = training.generic(net, x, y, 0.1, SCHEDULE)
    got = training.train(net, x, y, 0.1, SCHEDULE, engine=engine)
    assert_same(got, want, 1e-12)
    assert np.abs(got.network.parameters() - net.parameters()).max() > 1e-3  # it trained


@pytest.mark.parametrize("act, loss", PAIRS, ids=IDS)
def test_every_pair_runs_on_torch_with_the_generic_numbers(act, loss):
    require_module("torch")
    from deltarule.torch_bridge import train_torch

    net, x, y = case(act, loss)
    want = training.generic(net, x, y, 0.1, SCHEDULE)
    got = train_torch(net, x, y, 0.1, SCHEDULE, device="cpu")
    assert_same(got, want, 1e-10)


def test_the_engine_chooser_says_which_engine_runs_and_why_not():
    # a row-wise activation (softmax) in a hidden layer, and an Activation object that is not the
    # registry's: the documented fallback is the generic loop, and the chooser says so
    net, x, y = case(A.sigmoid, L.sse)
    assert fast.engine_for(net, len(x), SCHEDULE) == "buffered"
    hidden_softmax = dr.Network((replace(net.layers[0], activation=A.softmax), net.layers[1]), L.sse)
    stranger = replace(A.sigmoid, name="sigmoid_copy")
    unregistered = dr.Network((replace(net.layers[0], activation=stranger), net.layers[1]), L.sse)
    for other, reason in ((hidden_softmax, "layer 1: softmax in a hidden layer"),
                          (unregistered, "layer 1: sigmoid_copy is not a registered activation with kernels")):
        assert fast.refusal(other, "epoch") == reason
        assert fast.engine_for(other, len(x), SCHEDULE) is None
        assert choose(other, len(x), SCHEDULE, "epoch", None, None) == "generic"
        assert choose(other, len(x), SCHEDULE, "epoch", "buffered", None) == "generic"
        assert_same(dr.train(other, x, y, 0.1, SCHEDULE), training.generic(other, x, y, 0.1, SCHEDULE), 0)


def test_torch_refuses_an_activation_without_a_twin_with_one_line():
    require_module("torch")
    from deltarule.torch_bridge import train_torch

    net, x, y = case(A.sigmoid, L.sse)
    twinless = replace(A.sigmoid, name="mine", torch=None)
    bad = dr.Network((replace(net.layers[0], activation=twinless), net.layers[1]), L.sse)
    for call in (lambda: dr.to_torch(bad), lambda: dr.torch_loss(bad),
                 lambda: train_torch(bad, x, y, 0.1, SCHEDULE, device="cpu")):
        with pytest.raises(InputError) as e:
            call()
        assert e.value.line() == ("layers[1].activation: the activation 'mine' has no PyTorch counterpart "
                                  "(activations.mine.torch)")


def test_the_torch_exit_is_attached_by_the_bridge_and_exported():
    torch = require_module("torch")
    net, x, _ = case(A.elu, L.half_sse)
    model = dr.to_torch(net)
    assert [type(m).__name__ for m in model] == ["Linear", "ELU", "Linear", "ELU"]
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), net.predict(x), rtol=1e-12, atol=1e-15)
    back = dr.from_torch(model, dr.torch_loss(net))
    assert [lay.activation for lay in back.layers] == [A.elu, A.elu]
    assert net.to_torch is not None and dr.Network.from_torch(model, "half_sse").loss is L.half_sse
    # the core does not import the bridge, not even lazily
    imports = [n for n in ast.walk(ast.parse((SRC / "network.py").read_text()))
               if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert len(imports) > 3
    assert not [n for n in imports if "torch" in ast.dump(n)]


# -- softplus and elu ------------------------------------------------------------------------------------
def test_softplus_and_elu_values():
    z = np.array([[-1e6, -30.0, -1.0, 0.0, 1.0, 30.0, 1e6]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        sp, el = A.softplus(z), A.elu(z)
    # ln(1 + e^z): 0 far left, z far right, ln 2 at 0; at -30 the series e^z - e^2z/2 to the last digit
    tiny = math.exp(-30.0) - math.exp(-60.0) / 2
    np.testing.assert_allclose(sp, [[0.0, tiny, 0.31326168751822286, math.log(2.0), 1.3132616875182228, 30.0 + tiny, 1e6]],
                               rtol=2e-16)
    np.testing.assert_array_equal(el, [[-1.0, np.expm1(-30.0), np.expm1(-1.0), 0.0, 1.0, 30.0, 1e6]])
    a = A.softplus(z)
    np.testing.assert_allclose(A.softplus.derivative(z, a), A.sigmoid(z), rtol=0)  # softplus' = sigma
    # elu' = a + 1 = e^z below 0: to the rounding of 1 (a + 1 with a near -1 keeps absolute digits)
    np.testing.assert_allclose(A.elu.derivative(z, A.elu(z)), [[0.0, math.exp(-30.0), math.exp(-1.0), 1.0, 1, 1, 1]],
                               rtol=0, atol=2.3e-16)


@pytest.mark.parametrize("f", [A.softplus, A.elu], ids=lambda f: f.name)
def test_new_derivatives_match_finite_differences_and_torch_autograd(f):
    rng = np.random.default_rng(3)
    z = rng.normal(0, 3, (6, 5))
    z[np.abs(z) < 1e-3] = 0.5  # elu's second derivative jumps at 0
    h = 1e-6
    np.testing.assert_allclose(f.derivative(z, f(z)), (f(z + h) - f(z - h)) / (2 * h), rtol=1e-7, atol=1e-9)
    torch = require_module("torch")
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    module = {"softplus": torch.nn.Softplus(), "elu": torch.nn.ELU()}[f.name]  # torch's own defaults
    out = module(t)
    out.backward(torch.ones_like(out))
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(f.derivative(z, f(z)), t.grad.numpy(), rtol=1e-15, atol=1e-15)


# -- the fields the other parts read --------------------------------------------------------------------
def test_symbols_and_derivative_forms():
    assert {a.name: a.symbol for a in A.ACTIVATIONS.values()} == {
        "sigmoid": "σ", "tanh": "tanh", "relu": "relu", "leaky_relu": "lrelu", "identity": "f",
        "softmax": "softmax", "softplus": "softplus", "elu": "elu"}
    assert sorted(a.name for a in A.ACTIVATIONS.values() if a.derivative_uses == "a") == ["elu", "sigmoid", "tanh"]
    from deltarule.explain import notation as N

    assert N.derivative_substituted(A.tanh, "-0.5").text == "1 - (-0.5)^2"
    assert N.derivative_substituted(A.sigmoid, "0.5").tex == "0.5(1 - 0.5)"
    assert N.derivative_substituted(A.elu, "0.5") is None  # piecewise: the formula is shown, not filled in
    assert N.loss_substituted(L.half_mse, ["0.2", "0.4"], ["0", "1"]).text == "1/2 · 1/2[(0.2 - 0)^2 + (0.4 - 1)^2]"
    assert N.grad_substituted(L.mse, "0.2", "1", 2, 3).text == "1/3 · 2/2(0.2 - 1)"


def test_sigmoid_mistakes_are_the_checkers_wrong_derivatives():
    z = np.array([[0.1, -1.2]])
    a = A.sigmoid(z)
    notes = [m.note.format(f=A.sigmoid.symbol, l=2) for m in A.sigmoid.mistakes]
    assert notes == ["σ(z2) used for σ'(z2)", "σ' taken of a2 instead of z2 (σ'(a2) = σ(a2)(1 - σ(a2)))",
                     "σ'(z2) computed with z2 in place of a2 (z2(1 - z2))", "the factor σ'(z2) left out"]
    got = [m.derivative(z, a) for m in A.sigmoid.mistakes]
    np.testing.assert_array_equal(got[0], a)
    np.testing.assert_array_equal(got[1], A.sigmoid(a) * (1 - A.sigmoid(a)))
    np.testing.assert_array_equal(got[2], z * (1 - z))
    np.testing.assert_array_equal(got[3], [[1.0, 1.0]])
    assert A.identity.mistakes == () and A.softmax.mistakes == ()
    assert all(len(a.mistakes) == 4 for a in A.ACTIVATIONS.values() if a.elementwise and not a.passthrough)


def test_loss_fields_squared_and_decision():
    assert sorted(f.name for f in L.LOSSES.values() if f.squared) == ["half_mse", "half_sse", "mse", "sse"]
    assert L.bce.decision(A.sigmoid) == "threshold" and L.cross_entropy.decision(A.softmax) == "argmax"
    assert L.bce.decision(A.softmax) is None and L.sse.decision(A.sigmoid) is None


def test_what_each_loss_takes():
    # the rules netfile (output layer) and data (targets) check, read off the registry
    takes = {f.name: sorted(a.name for a in A.ACTIVATIONS.values() if f.accepts_output(a)) for f in L.LOSSES.values()}
    assert takes["bce"] == ["sigmoid", "softmax"] and takes["cross_entropy"] == ["softmax"]
    assert takes["sse"] == sorted(A.ACTIVATIONS) and takes["half_mse"] == sorted(A.ACTIVATIONS)
    assert {f.name: f.targets for f in L.LOSSES.values() if f.targets} == {"bce": "unit", "cross_entropy": "distribution"}


def test_one_class_threshold_an_output_of_one_half_is_class_one():
    from deltarule import plots

    out = np.array([[0.5], [0.4999999], [0.75]])
    np.testing.assert_array_equal(metrics.predicted_classes(out, "threshold")[:, 0], [1, 0, 1])
    np.testing.assert_array_equal(plots.class_labels(out), [1, 0, 1])


def test_the_compiled_loops_cache_key_follows_the_kernels():
    _scalar = require_module("deltarule._scalar")
    assert _scalar.fingerprint([A.leaky_relu.scalar.value]) != _scalar.fingerprint([A.relu.scalar.value])
    f1, f2 = (lambda z: 0.5 * z), (lambda z: 0.25 * z)
    assert _scalar.fingerprint([f1]) != _scalar.fingerprint([f2])
    assert _scalar.fingerprint([f1]) == _scalar.fingerprint([lambda z: 0.5 * z])  # code, not identity
    assert [a.name for a in _scalar.ACTS] == [a.name for a in A.ACTIVATIONS.values() if a.elementwise] + ["softmax"]


# -- no module outside the registry repeats a formula or matches a name -----------------------------------
OWNED = ["fast.py", "_scalar.py", "torch_bridge.py", "metrics.py", "network.py", "plots.py",
         "explain/notation.py"]
NAMES = {"sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax", "softplus", "elu",
         "sse", "half_sse", "mse", "half_mse", "bce", "cross_entropy"}


@pytest.mark.parametrize("path", OWNED)
def test_no_name_matching_and_no_formula_outside_the_registry(path):
    tree = ast.parse((SRC / path).read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):  # a formula's name compared (== 'tanh', in ('sse', ...))
            for c in ast.walk(node):
                if isinstance(c, ast.Constant) and c.value in NAMES:
                    found.append(f"line {c.lineno}: {c.value!r}")
        # a table keyed by formula names (one such key, as metrics.regression's "mse", names a measure)
        if isinstance(node, ast.Dict) and sum(isinstance(k, ast.Constant) and k.value in NAMES for k in node.keys) > 1:
            found.append(f"line {node.lineno}: a table keyed by formula names")
        if isinstance(node, ast.Attribute) and node.attr == "tanh" and getattr(node.value, "id", "") in ("np", "math"):
            found.append(f"line {node.lineno}: {node.value.id}.tanh")
        if isinstance(node, ast.Constant) and node.value == 0.01:
            found.append(f"line {node.lineno}: the leaky slope")
        if isinstance(node, ast.Name) and node.id == "exec":
            found.append(f"line {node.lineno}: exec")
    assert found == []
