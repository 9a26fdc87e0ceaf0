"""Renderers read a trace that already holds every number: the core computes f'(z), each
example's loss and gradient, and the pass after the update once; explain/, diagram and plots
only read them, and import no training, engine, problem or data module."""
import ast
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr
from deltarule import activations
from deltarule.explain import FORMATS, Solution
from deltarule.network import Network

SRC = Path(dr.__file__).resolve().parent
RENDERERS = sorted(SRC.glob("explain/*.py")) + [SRC / "diagram.py", SRC / "plots.py"]
# modules a renderer may not import, not even lazily (compute and file-reading layers)
FORBIDDEN = {"training", "fast", "_scalar", "problem", "data", "loader", "checkpoint", "torch_bridge",
             "landscape", "solution", "metrics"}
# (not "update": dict.update is everywhere; the run-time test below switches Network.update off)
COMPUTING = {"trace", "step", "steps", "evaluate", "predict", "derivative", "backward", "train",
             "forward_arrays", "backward_arrays", "output_layer", "example_gradients"}


def test_step_holds_f_prime_example_losses_and_gradients_and_the_pass_after():
    # seed 004 example 3: w = 0.5 on x = 1, 2, 3 (batch, mean of three examples)
    p = dr.load_problem("seed-004-example-3")
    step = p.steps(1)[0]
    tr, net = step.trace, step.before
    for lay, lt in zip(net.layers, tr.layers):
        np.testing.assert_array_equal(lt.fprime, lay.activation.derivative(lt.z, lt.a))
        assert lt.fprime.shape == lt.z.shape and not lt.fprime.flags.writeable
    assert tr.per_example_loss.shape == (3,)
    # each example's own gradient is a one-example trace's; their mean is the batch gradient
    g = step.example_gradients
    assert g.shape == (3, net.parameters().size) and not g.flags.writeable
    for e in range(3):  # (from the batch's deltas: equal up to the rounding of 1/n times n)
        np.testing.assert_allclose(g[e], net.trace(tr.x[e:e + 1], tr.y[e:e + 1]).gradient(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.mean(axis=0), tr.gradient(), rtol=1e-12)
    assert abs(g[:, 0]).min() > 0  # three real, different numbers
    # the pass with the new parameters: loss_after is its loss
    again = step.after_trace
    assert again.loss == step.loss_after == step.after.evaluate(tr.x, tr.y)
    np.testing.assert_array_equal(again.layers[0].z, step.after.trace(tr.x, tr.y).layers[0].z)


def test_example_gradients_are_left_out_of_a_huge_batch():
    from deltarule.trace import EXAMPLE_GRADIENTS_MAX

    net = Network((dr.Layer(np.zeros((4, 8)), np.zeros(4), "tanh"), dr.Layer(np.ones((1, 4)), [0.0], "sigmoid")))
    P = net.parameters().size
    n = EXAMPLE_GRADIENTS_MAX // P + 1
    rng = np.random.default_rng(0)
    step = net.step(rng.normal(size=(n, 8)), rng.uniform(size=(n, 1)), 0.1)
    assert step.example_gradients is None and step.after_trace is not None
    assert net.step(np.ones((2, 8)), np.ones((2, 1)), 0.1).example_gradients.shape == (2, P)


def test_json_contract_unchanged_by_the_new_fields():
    step = dr.load_problem("seed-002").steps(1)[0]
    out = step.to_json()
    assert set(out) == {"examples", "loss", "loss_after", "layers"}
    assert set(out["layers"][0]) == {"W", "b", "z", "a", "dL_da", "delta", "dW", "db", "W_new", "b_new"}
    assert "fprime1" not in step.values()


@pytest.fixture(scope="module")
def taken():
    """Steps taken while the core works, before any test switches it off."""
    return {(name, count): (dr.load_problem(name), dr.load_problem(name).steps(count))
            for name, count in (("seed-002", 1), ("seed-004-example-3", 1), ("xor", 2))}


@pytest.fixture
def no_computing(taken, monkeypatch):
    """Every way the core computes a model value, made to fail while a solution is built."""
    def boom(*_a, **_k):
        raise AssertionError("a renderer computed a model value")

    for name in ("trace", "evaluate", "predict", "step", "update", "example_gradients"):
        monkeypatch.setattr(Network, name, boom)
    saved = [(f, f.derivative) for f in activations.ACTIVATIONS.values()]
    for f, _ in saved:  # frozen dataclasses: set the field directly, and put it back below
        object.__setattr__(f, "derivative", boom)
    try:
        yield taken
    finally:
        for f, old in saved:
            object.__setattr__(f, "derivative", old)


@pytest.mark.parametrize("name, count, style, chain", [
    ("seed-002", 1, "neuron", "W1[1,1]"), ("seed-002", 1, "matrix", None),
    ("seed-004-example-3", 1, "neuron", None), ("seed-004-example-3", 1, "matrix", "w"), ("xor", 2, "neuron", None),
])
def test_a_solution_is_built_and_rendered_without_computing(name, count, style, chain, no_computing):
    p, steps = no_computing[(name, count)]
    with pytest.raises(AssertionError, match="computed"):  # the core is really off
        p.network.trace(p.x, p.y)
    sol = Solution(p, steps, 3, style, chain)
    for fmt in FORMATS:
        out = sol.render(fmt)
        assert "0." in out and len(out) > 1000
    text = sol.to_text()
    assert "After the update" in text and "L' = " in text
    if name == "seed-004-example-3" and style == "neuron":  # the per-example gradient table, read
        assert "Each example's own gradient" in text


def _imports(path: Path) -> set[str]:
    """Every deltarule module a file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = path.parent.relative_to(SRC.parent).parts  # ('deltarule',) or ('deltarule', 'explain')
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("deltarule.")}
        elif isinstance(node, ast.ImportFrom):
            base = list(pkg[:len(pkg) - node.level + 1]) if node.level else []
            mod = (base + (node.module.split(".") if node.module else []))
            if mod[:1] == ["deltarule"]:
                names = mod[1:2] or [a.name for a in node.names]
                out |= set(names)
    return out


def test_renderers_import_no_training_engine_problem_or_data_module():
    assert len(RENDERERS) >= 9
    for path in RENDERERS:
        bad = _imports(path) & FORBIDDEN
        assert not bad, f"{path.name} imports {sorted(bad)}"
    # the checker itself finds such an import
    assert _imports(SRC / "solution.py") & FORBIDDEN == {"problem"}


def test_renderers_call_no_computing_method():
    for path in RENDERERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                 for n in ast.walk(tree) if isinstance(n, ast.Call)}
        assert not calls & COMPUTING, f"{path.name} calls {sorted(calls & COMPUTING)}"


def test_library_errors_name_fields_not_options():
    p = dr.load_problem("seed-002")
    with pytest.raises(dr.InputError) as e:
        dr.solve(p, chain="W9[1,1]")
    assert e.value.field == "chain" and "--" not in e.value.line()
    with pytest.raises(dr.InputError) as e:
        dr.solve(p, style="tensor")
    assert e.value.field == "style"
    with pytest.raises(dr.InputError) as e:
        dr.solve(p).render("pdf")
    assert e.value.field == "format"


def test_solve_and_solution_stay_importable():
    from deltarule.explain import Solution as S1
    from deltarule.solution import Solution as S2, solve

    assert issubclass(S2, S1) and S2 is dr.Solution and solve is dr.solve
    assert isinstance(dr.solve("seed-002"), S1)
