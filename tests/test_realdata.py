"""Real data without friction (issue 17): class labels as text, scaling stored with the model, the
model's own column names; breast-cancer and iris from scikit-learn's bundled data (no download)."""
import csv
import io
import json

import numpy as np
import pytest

import deltarule as dr
from deltarule.cli import main
from deltarule.errors import InputError

BC = """layers:
  - {{units: 8, inputs: 30, activation: tanh, init: xavier}}
  - {{units: 1, activation: sigmoid}}
loss: bce
{pre}data: {{file: bc.csv, targets: [target]}}
learning_rate: 0.1
validation: 0.2
training: {{method: minibatch, batch_size: 32, epochs: 30, shuffle: true}}
"""
IRIS = """layers:
  - {units: 8, inputs: 4, activation: tanh}
  - {units: 3, activation: softmax}
loss: cross_entropy
preprocess: {scale: standard}
data: {file: iris.csv, targets: [species]}
learning_rate: 0.1
validation: 0.2
training: {method: minibatch, batch_size: 16, epochs: 50, shuffle: true}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from conftest import require_module

    sklearn_datasets = require_module("sklearn.datasets")  # bundled data: no download
    d = tmp_path_factory.mktemp("real")
    sklearn_datasets.load_breast_cancer(as_frame=True).frame.to_csv(d / "bc.csv", index=False)
    iris = sklearn_datasets.load_iris(as_frame=True)
    frame = iris.frame.copy()
    frame["species"] = [iris.target_names[t] for t in frame.pop("target")]
    frame.to_csv(d / "iris.csv", index=False)
    (d / "bc.yaml").write_text(BC.format(pre=""))
    (d / "bcs.yaml").write_text(BC.format(pre="preprocess: {scale: standard}\n"))
    (d / "iris.yaml").write_text(IRIS)
    return d


def read(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_text_labels_become_one_hot_with_sorted_classes(folder):
    p = dr.load_problem(folder / "iris.yaml")
    assert p.classes == ("setosa", "versicolor", "virginica")  # sorted; the CSV lists them in this order too
    species = [row[-1] for row in read((folder / "iris.csv").read_text())[1]]
    assert p.y.shape == (150, 3) and p.y.sum() == 150
    for row, name in zip(p.y, species):
        assert p.classes[int(np.argmax(row))] == name
    assert p.columns == {"inputs": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                                    "petal width (cm)"], "targets": ["species"]}


def test_classes_given_in_the_file_set_the_order_and_are_validated(folder):
    text = IRIS.replace("preprocess:", "classes: [virginica, setosa, versicolor]\npreprocess:")
    (folder / "order.yaml").write_text(text)
    p = dr.load_problem(folder / "order.yaml")
    assert p.classes == ("virginica", "setosa", "versicolor")
    assert p.y[0].tolist() == [0.0, 1.0, 0.0]  # the first row is a setosa
    for bad, message in (("[virginica, setosa]", "classes: 2 class names, but the output layer has 3 units"),
                         ("[virginica, setosa, setosa]", "classes: class names must be distinct"),
                         ("[virginica, setosa, rosa]", "data.targets: label 'versicolor' is not one of the "
                                                       "classes (virginica, setosa, rosa)")):
        (folder / "bad.yaml").write_text(IRIS.replace("preprocess:", f"classes: {bad}\npreprocess:"))
        with pytest.raises(InputError) as e:
            dr.load_problem(folder / "bad.yaml")
        assert e.value.line().endswith(message)


def test_scaling_is_fitted_on_the_training_split_only(folder):
    raw = np.loadtxt(folder / "bc.csv", delimiter=",", skiprows=1)[:, :30]
    p = dr.load_problem(folder / "bcs.yaml")
    index = dr.load_problem(folder / "bc.yaml").split()[0]  # the unscaled training inputs, same split
    np.testing.assert_allclose(p.scaler.offset, index.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(p.scaler.divisor, index.std(axis=0), rtol=1e-12)
    assert not np.allclose(p.scaler.offset, raw.mean(axis=0))  # the held-out rows are left out of the fit
    np.testing.assert_allclose(p.x, (raw - p.scaler.offset) / p.scaler.divisor, rtol=1e-12)
    train_x = p.split()[0]
    np.testing.assert_allclose(train_x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train_x.std(axis=0), 1, rtol=1e-12)


def test_minmax_scaling_maps_the_training_split_to_0_1(folder):
    (folder / "mm.yaml").write_text(IRIS.replace("standard", "minmax"))
    p = dr.load_problem(folder / "mm.yaml")
    x = p.split()[0]
    assert x.min(axis=0).tolist() == [0.0] * 4 and np.allclose(x.max(axis=0), 1.0)


def test_unscaled_breast_cancer_stays_at_the_majority_scaled_trains(folder, capsys):
    assert main(["train", str(folder / "bc.yaml"), "--save", str(folder / "bc.json")]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "differ by 1.43e+05x" in warnings[0] and "'worst area'" in warnings[0]
    majority = 357 / 569
    model = dr.load_problem(folder / "bc.json")
    p = dr.load_problem(folder / "bc.yaml")
    acc = dr.metrics.accuracy(model.network.predict(p.x), p.y, "threshold")
    assert abs(acc - majority) < 0.03

    assert main(["train", str(folder / "bcs.yaml"), "--save", str(folder / "bcs.json")]) == 0
    assert "warning" not in capsys.readouterr().err
    doc = json.loads((folder / "bcs.json").read_text())
    assert doc["preprocess"]["scale"] == "standard" and len(doc["preprocess"]["offset"]) == 30
    assert doc["columns"]["targets"] == ["target"]
    scaled = dr.load_problem(folder / "bcs.json")  # the saved model is a valid problem file
    x_val, y_val = dr.load_problem(folder / "bcs.yaml").split()[2:]
    assert dr.metrics.accuracy(scaled.network.predict(x_val), y_val, "threshold") > 0.9


def test_a_fitted_scaling_is_validated(folder):
    if not (folder / "bcs.json").exists():
        assert main(["train", str(folder / "bcs.yaml"), "--quiet", "--save", str(folder / "bcs.json")]) == 0
    base = json.loads((folder / "bcs.json").read_text())
    for change, message in ((lambda d: d["preprocess"].pop("divisor"), "preprocess: missing field 'divisor'"),
                            (lambda d: d["preprocess"]["divisor"].__setitem__(2, 0),
                             "preprocess.divisor[3]: divisors must be positive, got 0"),
                            (lambda d: d["preprocess"].__setitem__("scale", "robust"), "preprocess.scale: unknown")):
        doc = json.loads(json.dumps(base))
        change(doc)
        with pytest.raises(InputError) as e:
            dr.parse_problem(doc, "m.json")
        assert message in e.value.line()


def test_the_iris_walk_train_predict_evaluate_with_the_training_csv(folder, capsys):
    model, data = str(folder / "iris.json"), str(folder / "iris.csv")
    assert main(["train", str(folder / "iris.yaml"), "--save", model]) == 0
    capsys.readouterr()
    saved = dr.load_problem(model)
    assert saved.classes == ("setosa", "versicolor", "virginica")
    raw = np.loadtxt(data, delimiter=",", skiprows=1, usecols=range(4))
    expected = saved.network.predict((raw - saved.scaler.offset) / saved.scaler.divisor)

    assert main(["predict", model, data]) == 0  # the training CSV as it is, target column included
    out = capsys.readouterr()
    header, rows = read(out.out)
    assert header == ["p_setosa", "p_versicolor", "p_virginica", "class"]
    np.testing.assert_array_equal(np.array([r[:3] for r in rows], dtype=float), expected)
    names = [saved.classes[k] for k in expected.argmax(axis=1)]
    assert [r[3] for r in rows] == names
    truth = [r[-1] for r in read(open(data).read())[1]]
    right = sum(a == b for a, b in zip(names, truth))
    assert right > 140 and out.err.strip() == f"accuracy {right / 150:.2%} on the 150 rows of {data} (the data the " \
        "model was trained on: 120 rows trained on, 30 held out)"

    assert main(["evaluate", model, data, "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["classes"] == ["setosa", "versicolor", "virginica"]
    assert round(r["accuracy"] * 150) == right and sum(map(sum, r["confusion"])) == 150

    (folder / "new.csv").write_text("a,b,c,d,species\n" + "5.1,3.5,1.4,0.2,setosa\n6.5,3.0,5.5,1.8,virginica\n")
    assert main(["predict", model, str(folder / "new.csv"), "--target", "species"]) == 0
    out = capsys.readouterr()
    assert [r[3] for r in read(out.out)[1]] == ["setosa", "virginica"]
    assert out.err.strip() == f"accuracy 100.00% on the 2 rows of {folder / 'new.csv'}"  # not training data


def test_solve_says_the_inputs_are_scaled(folder, capsys):
    assert main(["solve", str(folder / "iris.yaml"), "--format", "json"]) == 0
    out = capsys.readouterr()
    assert "the inputs x are scaled (standard" in out.err
    p = dr.load_problem(folder / "iris.yaml")
    step = json.loads(out.out)["steps"][0]
    x, y = p.split()[:2]
    rows = np.array(step["examples"])  # the training examples drawn (0-based)
    assert step["loss"] == pytest.approx(p.network.evaluate(x[rows], y[rows]), rel=1e-12)
    raw = x[rows] * p.scaler.divisor + p.scaler.offset
    assert abs(step["loss"] - p.network.evaluate(raw, y[rows])) > 0.1  # not the unscaled numbers


def test_journal_floats_read_back_exactly_and_parameters_can_be_left_out(folder, capsys):
    import pandas as pd

    full, bare = folder / "full.csv", folder / "bare.csv"
    assert main(["train", str(folder / "iris.yaml"), "--epochs", "5", "--quiet", "--journal", str(full)]) == 0
    assert main(["train", str(folder / "iris.yaml"), "--epochs", "5", "--quiet", "--journal", str(bare),
                 "--journal-params", "none"]) == 0
    journal = dr.load_problem(folder / "iris.yaml").train(dr.Schedule("minibatch", 16, 5, True, 0)).journal
    header, text = read(full.read_text())
    assert header[:3] == ["epoch", "loss", "W1[1,1]"]  # the contract: parameters after loss
    assert header[-3:] == ["accuracy", "val_loss", "val_accuracy"] and len(header) == 2 + (8 * 4 + 8) + (3 * 8 + 3) + 3
    back = [[float(v) for v in line] for line in text]
    assert len(back) == 6 and np.array_equal(np.array(back), journal.rows)  # every float bit for bit
    shortest = text[0][1]
    assert shortest == repr(float(journal.rows[0, 1])) and len(shortest) <= 19  # not %.17g's padding
    frame = pd.read_csv(bare)
    assert list(frame.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    np.testing.assert_array_equal(frame.to_numpy(), journal.rows[:, [0, 1, -3, -2, -1]])


def test_train_plot_draws_loss_val_loss_and_accuracy_on_a_second_axis(folder, tmp_path):
    from deltarule.commands.plot import read_journal
    from deltarule.plots import journal_figure

    run = tmp_path / "run.csv"
    assert main(["train", str(folder / "iris.yaml"), "--epochs", "8", "--quiet", "--journal", str(run),
                 "--plot", str(tmp_path / "run.png"), "--logy"]) == 0
    assert (tmp_path / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    journal = read_journal(str(run))  # plot --journal reads back what train wrote, bit for bit
    trained = dr.load_problem(folder / "iris.yaml").train(dr.Schedule("minibatch", 16, 8, True, 0)).journal
    assert journal.columns == trained.columns and np.array_equal(journal.rows, trained.rows)
    fig = journal_figure(journal, logy=True)
    left, right = fig.axes[0], fig.axes[-1]
    assert left.get_yscale() == "log" and right.get_ylabel() == "accuracy" and right is not left
    drawn = {line.get_label(): line.get_ydata() for line in left.get_lines() + right.get_lines()}
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_array_equal(drawn[name], journal.rows[:, journal.columns.index(name)])
    assert drawn["accuracy"][-1] > 0.8


def test_plot_journal_draws_a_saved_journal_and_refuses_other_files(folder, tmp_path, capsys):
    run = tmp_path / "run.csv"
    assert main(["train", str(folder / "iris.yaml"), "--epochs", "3", "--quiet", "--journal", str(run)]) == 0
    assert main(["plot", "--journal", str(run), "--log", "-o", str(tmp_path / "j.svg")]) == 0
    svg = (tmp_path / "j.svg").read_text()
    assert "val_accuracy" in svg and "val_loss" in svg
    assert main(["plot", "--journal", str(folder / "bc.csv"), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.strip().endswith("not a journal: the columns start mean radius, mean texture, "
                                                    "not epoch, loss")
    assert not (tmp_path / "x.png").exists()


def test_the_train_summary_names_the_method_once(capsys):
    assert main(["train", "seed-000-neuron", "--epochs", "3"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("seed-000 single sigmoid neuron, stochastic gradient descent: 3 epochs, 18 updates")
    assert first.count("stochastic") == 1
    assert main(["train", "seed-004-example-3", "--method", "stochastic", "--epochs", "3"]) == 0
    first = capsys.readouterr().out.splitlines()[0]  # the name says batch, the run is stochastic: said
    assert first.startswith("seed-004 example 3, batch gradient descent on three points: stochastic, 3 epochs, 9 updates")


def test_train_on_torch_with_a_small_network_says_numpy_is_faster(capsys):
    from conftest import require_module

    require_module("torch")
    assert main(["train", "seed-002", "--backend", "torch", "--epochs", "2", "--quiet"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "small for PyTorch" in line]
    assert len(notes) == 1 and notes[0].startswith("deltarule train: note: 9 parameters")
    assert main(["train", "seed-002", "--epochs", "2", "--quiet"]) == 0
    assert "PyTorch" not in capsys.readouterr().err


def test_the_breast_cancer_walk_scaling_travels_with_the_model(folder, tmp_path, capsys):
    model, data = str(tmp_path / "bcs.json"), str(folder / "bc.csv")
    assert main(["train", str(folder / "bcs.yaml"), "--quiet", "--save", model]) == 0
    saved = dr.load_problem(model)
    raw = np.loadtxt(data, delimiter=",", skiprows=1)
    x, target = raw[:, :30], raw[:, 30]
    expected = saved.network.predict((x - saved.scaler.offset) / saved.scaler.divisor)
    capsys.readouterr()
    assert main(["predict", model, data]) == 0  # the training CSV as it is: 31 columns, no --inputs
    out = capsys.readouterr()
    header, rows = read(out.out)
    assert header == ["yhat1", "class"]  # integer 0/1 targets: no class names to write
    np.testing.assert_array_equal(np.array([r[0] for r in rows], dtype=float), expected[:, 0])
    right = int(((expected[:, 0] >= 0.5) == (target == 1)).sum())
    assert right / 569 > 0.95 and f"accuracy {right / 569:.2%} on the 569 rows of {data} (the data " \
        "the model was trained on: 455 rows trained on, 114 held out)" == out.err.strip()
    assert main(["evaluate", model, data, "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["examples"] == 569 and round(r["accuracy"] * 569) == right
    assert r["loss"] == pytest.approx(saved.network.evaluate(saved.scale(x), target.reshape(-1, 1)), rel=1e-12)


@pytest.mark.parametrize("rows", ["", "1\n", "cat\n"])
def test_a_csv_of_only_the_target_column_is_one_line(tmp_path, capsys, rows):
    # found by test_hostile_readers: a header `y` and no input column crashed reshape(-1, 0)
    # (a traceback) once text targets were read as labels; it is a file with no inputs
    (tmp_path / "d.csv").write_text("y\n" + rows)
    (tmp_path / "p.yaml").write_text("layers:\n  - units: 1\n    inputs: 1\n    activation: sigmoid\n"
                                     "loss: half_sse\ndata: {file: d.csv, targets: [y]}\nlearning_rate: 0.5\n")
    assert main(["solve", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "0 input columns" in err and "Traceback" not in err
