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
