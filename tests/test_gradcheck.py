"""deltarule gradcheck: the delta rule against central finite differences."""
import json
from dataclasses import replace

import numpy as np
import pytest

import deltarule as dr
from deltarule import activations, examples
from deltarule.cli import main
from deltarule.explain import gradcheck_report
from deltarule.gradcheck import ATOL, RTOL, STEP, relative_error

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
OUTPUTS = [(loss, act) for loss in ("sse", "half_sse", "mse", "half_mse")
           for act in ("sigmoid", "tanh", "relu", "identity", "leaky_relu", "softmax")]
OUTPUTS += [("bce", "sigmoid"), ("cross_entropy", "softmax")]
# every activation as the hidden layer, and every output activation with every loss it suits
CASES = [(h, "half_sse", "sigmoid") for h in HIDDEN] + [("tanh", loss, out) for loss, out in OUTPUTS]


def small_network(hidden, out, loss, seed=0):
    rng = np.random.default_rng(seed)
    net = dr.Network([dr.Layer(rng.normal(0, 0.8, (4, 3)), rng.normal(0, 0.3, 4), hidden),
                      dr.Layer(rng.normal(0, 0.8, (2, 4)), rng.normal(0, 0.3, 2), out)], loss)
    x = rng.normal(0, 1, (5, 3))
    y = rng.dirichlet([1, 1], 5) if loss == "cross_entropy" else rng.uniform(0, 1, (5, 2))
    return net, x, y


@pytest.mark.parametrize("hidden, loss, out", CASES)
def test_every_activation_and_loss_agrees(hidden, loss, out):
    net, x, y = small_network(hidden, out, loss)
    for reduction in ("mean", "sum"):
        g = dr.gradcheck(replace(net, reduction=reduction), x, y)
        # keep the relu kinks away from the difference quotient: no z within 1e-3 of 0
        zs = [lt.z for lt in net.trace(x, y).layers]
        assert min(np.min(np.abs(z)) for z in zs) > 1e-3
        assert g.ok, gradcheck_report.text(g)
        assert len(g.rows) == 4 * 3 + 4 + 2 * 4 + 2
        # where the gradient is not tiny, the two agree to far better than the tolerance
        big = [r.relative_error for r in g.rows if abs(r.analytic) > 1e-3]
        assert big and max(big) < 1e-6


def test_rows_are_the_trace_gradients_and_named_1_based():
    p = dr.load_problem("seed-002")
    g = dr.gradcheck(p)
    lt = p.network.trace(p.x, p.y).layers
    assert [r.name for r in g.rows][:3] == ["W1[1,1]", "W1[1,2]", "W1[2,1]"]
    assert g.rows[-1].name == "b2[1]" and g.rows[-1].analytic == lt[1].db[0]
    # dE/dw5 = delta_o h1 = 0.047 x 0.593 = 0.028 (seed 002, section 4.1)
    assert abs(g.rows[6].numeric - 0.028) < 0.0005 and g.rows[6].name == "W2[1,1]"
    r = relative_error(np.array([1.0, 0.0]), np.array([1.0 + 1e-7, 1e-12]))
    np.testing.assert_allclose(r, [1e-7 / (1 + 1e-7), 1e-4])


def test_a_broken_derivative_is_caught(monkeypatch, capsys, tmp_path):
    # tanh' = 1 - a^2; break it to 1 - a and make the problem files pick up the broken one
    broken = replace(activations.tanh, derivative=lambda z, a: 1.0 - a)
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", broken)
    net, x, y = small_network("tanh", "sigmoid", "half_sse")
    g = dr.gradcheck(net.__class__([replace(net.layers[0], activation=broken), net.layers[1]], net.loss), x, y)
    bad = [r.name for r in g.rows if not r.agree]
    assert not g.ok and bad and all(n.startswith(("W1", "b1")) for n in bad)
    # W2 and b2 do not go through tanh': they still agree
    second = [r for r in g.rows if r.name.startswith(("W2", "b2"))]
    assert len(second) == net.layers[1].W.size + net.layers[1].b.size > 0 and all(r.agree for r in second)
    # and from the command line, through the problem file's activation name
    f = tmp_path / "p.yaml"
    f.write_text(examples.text("seed-002").replace("activation: sigmoid", "activation: tanh", 1))
    assert main(["gradcheck", str(f)]) == 1
    out = capsys.readouterr().out
    assert "DISAGREE" in out and "6 disagree" in out  # W1 (4) and b1 (2), not W2, b2
    monkeypatch.undo()
    assert main(["gradcheck", str(f)]) == 0


def test_a_broken_sigmoid_derivative_is_caught(monkeypatch):
    broken = replace(activations.sigmoid, derivative=lambda z, a: a * (1.0 + a))
    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", broken)
    p = dr.load_problem("seed-001")
    assert p.network.layers[0].activation is broken
    assert not dr.gradcheck(p).ok


def test_cli_json_and_tolerance_documented(capsys):
    assert main(["gradcheck", "seed-003", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agree"] is True and len(out["parameters"]) == 12
    assert set(out["parameters"][0]) == {"name", "analytic", "numeric", "relative_error", "agree"}
    assert f"h = {STEP:g}" in out["tolerance"] and f"{RTOL:g}" in out["tolerance"]
    assert main(["gradcheck", "--help"]) == 0
    helptext = capsys.readouterr().out
    assert f"{ATOL:g} + {RTOL:g}" in helptext and "exit status" in helptext


def test_first_examples_only(capsys):
    p = dr.load_problem("seed-004-example-3")  # three examples
    one = dr.gradcheck(p, examples=1)
    # with the first example alone, dL/dw = 2 (yhat - 0) yhat (1 - yhat) x = 0.2926 (seed 004, example 1)
    assert abs(one.rows[0].analytic - 0.292561) < 1e-6 and one.ok
    assert main(["gradcheck", "seed-004-example-3", "--examples", "1", "--format", "json"]) == 0
    assert abs(json.loads(capsys.readouterr().out)["parameters"][0]["numeric"] - 0.292561) < 1e-6


def test_plain_table_in_a_pipe(capsys):
    assert main(["gradcheck", "seed-000-neuron"]) == 0
    out = capsys.readouterr().out
    # one neuron with one input: its parameters are w and b, as in the journal and the notes
    assert out.startswith("parameter") and "W1[1,1]" not in out and "2 parameters: all agree" in out
    assert [line.split()[0] for line in out.splitlines()[1:3]] == ["w", "b"]
    assert "\x1b[" not in out


def test_no_data_is_bad_input(tmp_path, capsys):
    f = tmp_path / "model.json"
    f.write_text(json.dumps(dr.load_problem("seed-002").network.to_dict()))
    assert main(["gradcheck", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data" in err


def test_huge_weights_refused_in_one_line_or_checked_without_warnings(tmp_path, capsys):
    # W2 = [1e200, 0.45] with an identity output: yhat ~ 0.59 x 1e200 and the loss (yhat - t)^2 / 2
    # overflows float64; pytest turns the RuntimeWarning it used to leak into an error
    f = tmp_path / "big.yaml"
    text = examples.text("seed-002")
    head, tail = text.split("[[0.40, 0.45]]")
    f.write_text(head + "[[1e200, 0.45]]" + tail.replace("activation: sigmoid", "activation: identity", 1))
    assert main(["gradcheck", str(f)]) == 2
    err = capsys.readouterr().err
    assert err == (f"{f}: layers: the loss or its gradient overflows float64 at these parameters "
                   "(the largest is W2[1,1] = 1e+200): gradcheck compares finite numbers only\n")
    with pytest.raises(dr.InputError, match=r"largest is w = 1e\+200"):
        dr.gradcheck(dr.Network([dr.Layer([[1e200]], [0.0], "identity")], "sse"), [[1.0]], [[0.0]])
    # W1[1,1] = 1e200 under a sigmoid output: z1[1] = 5e198 saturates a1[1] at 1, every number
    # stays finite, and the gradients through a1[1] are exactly 0 both ways: a clear result
    f.write_text(text.replace("[[0.15, 0.20]", "[[1e200, 0.20]", 1))
    assert main(["gradcheck", str(f), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    rows = {r["name"]: r for r in json.loads(out)["parameters"]}
    assert err == "" and rows["W1[1,1]"]["analytic"] == 0.0 == rows["W1[1,1]"]["numeric"]
    assert abs(rows["W2[1,1]"]["analytic"] - 0.0480552) < 1e-6  # delta2 x a1[1] = delta2 x 1


def test_api_arguments_refused_as_files_are(capsys):
    net = dr.Network([dr.Layer([[0.5]], [0.0], "sigmoid")], "sse")
    bad = [((net, [[1.0]], [[0.0]]), {"examples": 0}, "examples: must be at least 1"),
           ((net, [[1.0]], [[0.0]]), {"step": -1e-6}, "step: must be positive"),
           ((net, [[1.0]], [[0.0]]), {"rtol": float("nan")}, "rtol: expected a finite number"),
           ((net,), {}, "x: give the inputs x and the targets y"),
           ((net, [[1.0, 2.0]], [[0.0]]), {}, "x: expected rows of 1 number"),
           ((net, [[1.0]], [["a"]]), {}, "y[1][1]: expected a number"),
           ((12,), {}, "expected the name of a problem file")]
    for args, kw, message in bad:
        with pytest.raises(dr.InputError) as e:
            dr.gradcheck(*args, **kw)
        assert message in e.value.line(), (message, e.value.line())
    # dL/dw = 2 (yhat - 0) yhat (1 - yhat) x = 2 x 0.6225 x 0.2350 x 1 = 0.2926 (seed 004 example 1)
    assert abs(dr.gradcheck(net, [[1.0]], [[0.0]]).rows[0].analytic - 0.292561) < 1e-6
