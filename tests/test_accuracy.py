"""Accuracy for classifiers, the held-out split, and the digits example end to end."""
import csv
import io

import numpy as np
import pytest

from conftest import require_module

import deltarule as dr
from deltarule import metrics
from deltarule.cli import main
from deltarule.network import Layer, Network
from deltarule.training import Schedule, train


def test_argmax_accuracy_by_hand():
    # classes of the outputs: 1, 0, 2, 2; of the targets: 1, 0, 1, 2 -> 3 of 4 right
    yhat = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    y = np.eye(3)[[1, 0, 1, 2]]
    assert metrics.accuracy(yhat, y, "argmax") == 0.75


def test_threshold_accuracy_is_subset_accuracy():
    # one output: 0.5 counts as class 1 (>= 0.5); 0.49 as 0 -> right, right, wrong = 2/3
    assert metrics.accuracy(np.array([[0.5], [0.49], [0.9]]), np.array([[1.0], [0.0], [0.0]]),
                            "threshold") == pytest.approx(2 / 3, abs=1e-15)
    # two outputs: an example is right only when both are: rows 1 and 3 right -> 2/3
    yhat = np.array([[0.9, 0.1], [0.9, 0.9], [0.2, 0.6]])
    y = np.array([[1, 0], [1, 0], [0, 1]], dtype=float)
    assert metrics.accuracy(yhat, y, "threshold") == pytest.approx(2 / 3, abs=1e-15)


@pytest.mark.parametrize("act,loss,kind", [("softmax", "cross_entropy", "argmax"), ("sigmoid", "bce", "threshold"),
                                           ("sigmoid", "half_sse", None), ("softmax", "sse", None)])
def test_which_networks_are_classifiers(act, loss, kind):
    net = Network((Layer(np.ones((2, 2)), np.zeros(2), act),), loss)
    assert metrics.classifier(net) == kind
    cols = metrics.extra_columns(net, validation=True)
    assert cols == (("accuracy", "val_loss", "val_accuracy") if kind else ("val_loss",))


def test_split_is_seeded_disjoint_and_in_file_order():
    x, y = np.arange(10.0).reshape(10, 1), np.arange(10.0).reshape(10, 1) * 2
    xt, yt, xv, yv = metrics.split(x, y, 0.25, seed=3)
    assert len(xv) == 2 and len(xt) == 8  # round(2.5) = 2 held out
    assert sorted(np.concatenate([xt, xv]).ravel()) == list(range(10))
    assert np.all(np.diff(xt.ravel()) > 0) and np.all(np.diff(xv.ravel()) > 0)
    np.testing.assert_array_equal(yt, 2 * xt)
    np.testing.assert_array_equal(metrics.split(x, y, 0.25, seed=3)[2], xv)  # same seed, same split
    assert len(metrics.split(x, y, 0.01)[2]) == 1 and len(metrics.split(x, y, 0.99)[0]) == 1


def test_journal_accuracy_and_validation_columns_are_the_networks_numbers():
    rng = np.random.default_rng(0)
    net = Network((Layer(rng.normal(size=(5, 2)), np.zeros(5), "tanh"),
                   Layer(rng.normal(size=(1, 5)), np.zeros(1), "sigmoid")), "bce")
    x = rng.normal(size=(30, 2))
    y = (x[:, :1] * x[:, 1:] > 0).astype(float)
    xt, yt, xv, yv = metrics.split(x, y, 0.3, seed=1)
    r = train(net, xt, yt, 0.5, Schedule("minibatch", 4, 5, True, 2), validation=(xv, yv))
    frame = r.journal.to_frame()
    assert list(frame.columns[-3:]) == ["accuracy", "val_loss", "val_accuracy"]
    last = frame.iloc[-1]
    assert last["loss"] == pytest.approx(r.network.evaluate(xt, yt), abs=1e-14)
    assert last["val_loss"] == pytest.approx(r.network.evaluate(xv, yv), abs=1e-14)
    assert last["accuracy"] == np.mean((r.network.predict(xt) >= 0.5) == yt)
    assert last["val_accuracy"] == np.mean((r.network.predict(xv) >= 0.5) == yv)
    first = frame.iloc[0]
    assert first["val_loss"] == pytest.approx(net.evaluate(xv, yv), abs=1e-14)


def test_regression_journal_keeps_the_contract_columns_only():
    r = dr.load_problem("seed-002").train()
    assert r.journal.columns[:2] == ("epoch", "loss") and r.journal.columns[-1] == "b2[1]"


def test_validation_field_in_a_problem_file():
    doc = {"layers": [{"weights": [[1.0]], "biases": [0.0], "activation": "identity"}], "loss": "sse",
           "data": {"inputs": [[1.0], [2.0], [3.0], [4.0], [5.0]], "targets": [[1.0], [2.0], [3.0], [4.0], [5.0]]},
           "learning_rate": 0.01, "validation": {"fraction": 0.4, "seed": 5}}
    p = dr.parse_problem(doc, "p.yaml")
    assert p.validation == (0.4, 5) and len(p.x) == 5
    x, y, xv, yv = p.split()
    assert len(x) == 3 and len(xv) == 2
    assert p.train().journal.columns[-1] == "val_loss"
    assert dr.parse_problem({**doc, "validation": 0.2}, "p.yaml").validation == (0.2, 0)


@pytest.mark.parametrize("value,message", [
    (1.5, "p.yaml: validation: the share of examples held out must be between 0 and 1, got 1.5"),
    ({"seed": 1}, "p.yaml: validation: missing field 'fraction'"),
    ({"fraction": 0}, "p.yaml: validation.fraction: the share of examples held out must be between 0 and 1"),
    ({"fraction": 0.5, "sed": 1}, "p.yaml: validation.sed: unknown field (did you mean 'seed'?)"),
    ("half", "p.yaml: validation: expected a number, got the text 'half'"),
])
def test_bad_validation_field(value, message):
    doc = {"layers": [{"weights": [[1.0]], "biases": [0.0], "activation": "identity"}], "loss": "sse",
           "data": {"inputs": [[1.0], [2.0]], "targets": [[1.0], [2.0]]}, "validation": value}
    with pytest.raises(dr.InputError) as e:
        dr.parse_problem(doc, "p.yaml")
    assert e.value.line().startswith(message)


def test_digits_example_trains_to_real_accuracy():
    p = dr.load_problem("digits")
    assert p.x.shape == (1797, 64) and p.y.shape == (1797, 10)
    assert p.x.min() == 0.0 and p.x.max() == 1.0 and np.all(p.y.sum(axis=1) == 1)
    assert p.network.sizes == (64, 32, 10) and p.schedule.batch_size == 32
    r = p.train(Schedule("minibatch", 32, 8, True, 0))
    frame = r.journal.to_frame()
    assert frame["val_accuracy"].iloc[0] < 0.2  # chance is 0.1
    assert frame["val_accuracy"].iloc[-1] > 0.9 and frame["accuracy"].iloc[-1] > 0.9
    assert frame["val_loss"].iloc[-1] < 0.5 * frame["val_loss"].iloc[0]


def test_train_summary_reports_accuracy_and_the_held_out_split(tmp_path, capsys):
    journal = tmp_path / "j.csv"
    assert main(["train", "digits", "--epochs", "2", "--validation", "0.5", "--journal", str(journal)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # not a terminal: no progress bar
    lines = out.splitlines()
    assert lines[2].startswith("accuracy: 10.") and "%" in lines[2]
    assert lines[3].startswith("held out (898 examples): loss 2.4")  # round(0.5 * 1797) = 898
    header = next(csv.reader(io.StringIO(journal.read_text())))
    assert header[-3:] == ["accuracy", "val_loss", "val_accuracy"] and len(header) == 2 + 2410 + 3


def test_bad_validation_option_is_one_line(capsys):
    assert main(["train", "digits", "--validation", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--validation: must be between 0 and 1, got 1" in err


def test_train_backend_torch_gives_the_numpy_journal(tmp_path):
    require_module("torch")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["train", "digits", "--epochs", "1", "--quiet", "--journal", str(a)]) == 0
    assert main(["train", "digits", "--epochs", "1", "--quiet", "--journal", str(b), "--backend", "torch"]) == 0
    ra = np.loadtxt(a, delimiter=",", skiprows=1)
    rb = np.loadtxt(b, delimiter=",", skiprows=1)
    np.testing.assert_allclose(rb, ra, rtol=0, atol=1e-12)
