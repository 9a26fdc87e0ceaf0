"""Rules beyond the contract's list that keep a problem meaningful."""
import pytest

from deltarule.errors import InputError
from deltarule.problem import parse_problem

BASE = {"layers": [{"weights": [[0.5]], "biases": [0.0], "activation": "tanh"}],
        "loss": "bce", "data": {"inputs": [[1.0]], "targets": [[1.0]]}, "learning_rate": 0.1}


@pytest.mark.parametrize("activation", ["tanh", "identity", "relu", "leaky_relu"])
def test_bce_needs_outputs_in_unit_interval(activation):
    doc = {**BASE, "layers": [{**BASE["layers"][0], "activation": activation}]}
    with pytest.raises(InputError) as e:
        parse_problem(doc, "p.yaml")
    assert e.value.line() == (f"p.yaml: loss: bce needs outputs between 0 and 1 (a sigmoid or softmax "
                              f"output layer), but layers[0] is {activation}")


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_bce_accepts_sigmoid_and_softmax_outputs(activation):
    doc = {**BASE, "layers": [{**BASE["layers"][0], "activation": activation}]}
    assert parse_problem(doc, "p.yaml").network.loss.name == "bce"


def test_solve_refuses_numbers_that_overflow(tmp_path, capsys):
    # z = 1e307 * 100 overflows to inf: a worked solution of inf and nan helps nobody
    from deltarule.cli import main

    f = tmp_path / "huge.yaml"
    f.write_text("layers:\n  - {weights: [[1e307]], biases: [0.0], activation: identity}\n"
                 "loss: sse\ndata: {inputs: [[100.0]], targets: [[0.0]]}\nlearning_rate: 0.1\n")
    for fmt in ("json", "text"):
        assert main(["solve", str(f), "--format", fmt]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.strip().splitlines() == [f"{f}: z1 of update 1 is not finite (the numbers overflow "
                                            f"float64: scale the inputs, weights or learning rate down)"]


def test_with_loss_and_with_parameter_change_one_thing():
    import deltarule as dr

    p = dr.load_problem("seed-003")
    # seed 003's printed dL/da2 = a2 - y = [0.68, -0.17] is half_sse's; half_mse halves it
    assert [round(float(v), 2) for v in p.with_loss("half_sse").steps(1)[0].values()["dL_da2"]] == [0.68, -0.17]
    assert [round(float(v), 2) for v in p.steps(1)[0].values()["dL_da2"]] == [0.34, -0.09]
    q = p.with_parameter("W2[2,1]", 0.9)
    assert q.network.layers[1].W.tolist() == [[0.5, 0.6], [0.9, 0.8]] and p.network.layers[1].W[1, 0] == 0.7
    with pytest.raises(InputError, match="cross_entropy needs a softmax output layer"):
        p.with_loss("cross_entropy")
    with pytest.raises(InputError, match="no parameter 'W3\\[1,1\\]'"):
        p.with_parameter("W3[1,1]", 1.0)
