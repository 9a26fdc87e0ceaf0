"""Rules beyond the contract's list that keep a problem meaningful."""
import pytest

from deltarule.errors import InputError
from deltarule.problem import parse_problem

BASE = {"layers": [{"weights": [[0.5]], "biases": [0.0], "activation": "tanh"}],
        "loss": "bce", "data": {"inputs": [[1.0]], "targets": [[1.0]]}, "learning_rate": 0.1}


@pytest.mark.parametrize("activation", ["tanh", "identity", "relu", "leaky_relu", "softplus", "elu"])
def test_bce_needs_outputs_in_unit_interval(activation):
    doc = {**BASE, "layers": [{**BASE["layers"][0], "activation": activation}]}
    with pytest.raises(InputError) as e:
        parse_problem(doc, "p.yaml")
    assert e.value.line() == (f"p.yaml: loss: bce needs outputs between 0 and 1 (a sigmoid or softmax "
                              f"output layer), but layers[1] is {activation}")


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_bce_accepts_sigmoid_and_softmax_outputs(activation):
    doc = {**BASE, "layers": [{**BASE["layers"][0], "activation": activation}]}
    assert parse_problem(doc, "p.yaml").network.loss.name == "bce"


def test_a_layer_without_activation_is_told_every_activation_there_is():
    from deltarule.activations import ACTIVATIONS

    doc = {**BASE, "layers": [{"weights": [[0.5]], "biases": [0.0]}]}
    with pytest.raises(InputError) as e:
        parse_problem(doc, "p.yaml")
    assert e.value.line() == f"p.yaml: layers[1]: missing field 'activation' ({', '.join(ACTIVATIONS)})"
    assert "softplus" in e.value.line() and "elu)" in e.value.line()  # the two the old list forgot


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


# -- the API checks what files get (issue 12.17) ------------------------------------------------------
import math  # noqa: E402

import numpy as np  # noqa: E402

import deltarule as dr  # noqa: E402


@pytest.mark.parametrize("lr, message", [
    (-1.0, "seed-002: learning_rate: must be positive, got -1"),
    (0, "seed-002: learning_rate: must be positive, got 0"),
    (math.nan, "seed-002: learning_rate: expected a finite number, got nan"),
    (math.inf, "seed-002: learning_rate: expected a finite number, got inf"),
    ("0.5", "seed-002: learning_rate: expected a number, got the text '0.5' (remove the quotes to make it a number)"),
])
def test_problem_train_refuses_a_learning_rate_a_file_could_not_give(lr, message):
    with pytest.raises(InputError) as e:
        dr.load_problem("seed-002").train(learning_rate=lr)
    assert e.value.line() == message


def test_problem_train_takes_a_good_learning_rate_and_numpy_numbers():
    p = dr.load_problem("seed-002")
    a, b = p.train(learning_rate=0.5), p.train(learning_rate=np.float32(0.5))
    np.testing.assert_array_equal(a.network.parameters(), b.network.parameters())
    np.testing.assert_array_equal(a.network.parameters(), p.train().network.parameters())  # the file's 0.5


@pytest.mark.parametrize("value, message", [
    (math.nan, "W1[1,1]: expected a finite number, got nan"),
    (-math.inf, "W1[1,1]: expected a finite number, got -inf"),
    (None, "W1[1,1]: expected a number, got nothing"),
])
def test_with_parameter_refuses_what_is_not_a_finite_number(value, message):
    with pytest.raises(InputError) as e:
        dr.load_problem("seed-002").with_parameter("W1[1,1]", value)
    assert e.value.line() == message
    assert dr.load_problem("seed-002").with_parameter("W1[1,1]", np.float64(0.25)).network.layers[0].W[0, 0] == 0.25


@pytest.mark.parametrize("call", [lambda: dr.load_problem(12), lambda: dr.load_problem(None),
                                  lambda: dr.load_network(3.5), lambda: dr.parse_problem([1, 2]),
                                  lambda: dr.parse_problem(BASE, 7), lambda: dr.parse_problem(BASE, "p.yaml", None)])
def test_non_path_arguments_raise_the_documented_error(call):
    with pytest.raises(InputError):
        call()


def test_parse_problem_takes_numpy_arrays_wherever_lists_are():
    # issue 17: numpy data used to raise "ValueError: operands could not be broadcast"
    X, y = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0.0, 1.0, 1.0, 0.0])
    doc = {"layers": [{"weights": np.full((2, 2), 0.5), "biases": np.zeros(2), "activation": "tanh"},
                      {"weights": [np.array([1.0, -1.0])], "biases": (0.0,), "activation": "sigmoid"}],
           "loss": "bce", "learning_rate": np.float32(0.5), "seed": np.int64(3), "data": {"inputs": X, "targets": y}}
    p = dr.parse_problem(doc)
    as_lists = dr.parse_problem({**doc, "layers": [{"weights": [[0.5, 0.5], [0.5, 0.5]], "biases": [0, 0],
                                                    "activation": "tanh"},
                                                   {"weights": [[1, -1]], "biases": [0], "activation": "sigmoid"}],
                                 "data": {"inputs": X.tolist(), "targets": y.tolist()}})
    np.testing.assert_array_equal(p.x, X)
    np.testing.assert_array_equal(p.y, y.reshape(-1, 1))
    assert (p.learning_rate, p.seed) == (0.5, 3)
    np.testing.assert_array_equal(p.network.parameters(), as_lists.network.parameters())
    with pytest.raises(InputError) as e:  # a complex array is refused like any non-number
        dr.parse_problem({**doc, "data": {"inputs": X + 1j, "targets": y}})
    assert e.value.line() == "data.inputs[1][1]: expected a number, got a complex"


# -- numbers must fit the problem's dtype (issue 12.14) -----------------------------------------------
@pytest.mark.parametrize("where, path", [("weights", "layers[1].weights"), ("biases", "layers[1].biases")])
def test_a_weight_that_overflows_float32_is_refused_at_load(where, path):
    layer = {"weights": [[0.5]], "biases": [0.0], "activation": "sigmoid", where: [[1e39]] if where == "weights" else [1e39]}
    doc = {**BASE, "layers": [layer], "dtype": "float32"}
    with pytest.raises(InputError) as e:
        parse_problem(doc, "p.yaml")
    assert e.value.line() == f"p.yaml: {path}: 1e+39 does not fit in float32 (at most 3.403e+38; use dtype: float64)"
    assert parse_problem({**doc, "dtype": "float64"}).network.layers[0].W.dtype == np.float64  # float64 holds it


def test_data_and_learning_rate_that_overflow_float32_are_refused(tmp_path, capsys):
    from deltarule.cli import main

    layer = {"weights": [[0.5]], "biases": [0.0], "activation": "sigmoid"}
    doc = {**BASE, "layers": [layer], "dtype": "float32", "data": {"inputs": [[1e39]], "targets": [[1.0]]}}
    with pytest.raises(InputError, match=r"^data\.inputs: 1e\+39 does not fit in float32"):
        parse_problem(doc)
    f = tmp_path / "lr.yaml"
    f.write_text("layers: [{weights: [[0.5]], biases: [0], activation: sigmoid}]\nloss: bce\ndtype: float32\n"
                 "learning_rate: 1e39\ndata: {inputs: [1], targets: [1]}\n")
    assert main(["train", str(f), "--quiet"]) == 2
    assert capsys.readouterr().err == f"{f}: learning_rate: 1e+39 does not fit in float32 (at most 3.403e+38; " \
                                      "use dtype: float64)\n"
