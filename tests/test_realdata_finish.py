"""Issue 17's remainder: the journal's metric columns wherever they stand, integer class labels other
than 0..K-1, and predict/evaluate saying which rows their accuracy is on."""
import csv
import io
import json

import numpy as np
import pytest

import deltarule as dr
from deltarule.cli import main
from deltarule.errors import InputError


def read(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]

NEURON = """name: neuron
layers: [{weights: [[2.0]], biases: [1.0], activation: sigmoid}]
loss: sse
data: {inputs: [3.5, 0.35, 3.2, -2.0, 1.5, -0.5], targets: [0.5, 0.5, 0.5, 0.5, 0.1, 0.3]}
learning_rate: 0.9
training: {method: batch, epochs: 4}
validation: {fraction: 0.34, seed: 3}
learning_rate_schedule: {name: step, step_size: 2, gamma: 0.5}
"""


# -- the journal: metrics after the parameters (the contract), found by name wherever they are ----------
def test_plot_journal_finds_metrics_by_name_and_draws_only_parameters_as_parameters(tmp_path):
    from deltarule.commands.plot import read_journal
    from deltarule.plots import journal_figure

    (tmp_path / "n.yaml").write_text(NEURON)
    full, bare = tmp_path / "full.csv", tmp_path / "bare.csv"
    assert main(["train", str(tmp_path / "n.yaml"), "--quiet", "--journal", str(full)]) == 0
    assert main(["train", str(tmp_path / "n.yaml"), "--quiet", "--journal", str(bare), "--journal-params", "none"]) == 0
    journal, metrics = read_journal(str(full)), read_journal(str(bare))
    assert journal.columns == ("epoch", "loss", "w", "b", "val_loss", "learning_rate")  # DESIGN's order
    assert metrics.columns == ("epoch", "loss", "val_loss", "learning_rate")  # metrics right after loss
    np.testing.assert_array_equal(journal.rows[:, -1], [0.9, 0.9, 0.9, 0.45, 0.45])  # row 0: the start
    for j in (journal, metrics):
        fig = journal_figure(j)
        drawn = {line.get_label(): line.get_ydata() for ax in fig.axes for line in ax.get_lines()}
        np.testing.assert_array_equal(drawn["val_loss"], journal.rows[:, 4])
        np.testing.assert_array_equal(drawn["loss"], journal.rows[:, 1])
        assert "learning_rate" not in drawn  # a rate is not a parameter: no line among w and b
    panels = journal_figure(journal).axes
    assert len(panels) == 2 and [li.get_label() for li in panels[1].get_lines()
                                   if not li.get_label().startswith("_")] == ["w", "b"]  # (_child: the zero line)
    assert len(journal_figure(metrics).axes) == 1  # no parameters, no parameter panel


# -- integer class labels other than 0..K-1 ------------------------------------------------------------
IRIS123 = """layers:
  - {units: 8, inputs: 4, activation: tanh}
  - {units: 3, activation: softmax}
loss: cross_entropy
preprocess: {scale: standard}
data: {file: iris.csv, targets: [kind]}
learning_rate: 0.1
validation: 0.2
training: {method: minibatch, batch_size: 16, epochs: 40, shuffle: true}
"""


@pytest.fixture(scope="module")
def iris123(tmp_path_factory):
    """scikit-learn's iris with its classes written 1, 2, 3 (a column of whole numbers, not 0..2)."""
    from conftest import require_module

    frame = require_module("sklearn.datasets").load_iris(as_frame=True).frame
    frame.insert(4, "kind", frame.pop("target") + 1)
    d = tmp_path_factory.mktemp("iris123")
    frame.to_csv(d / "iris.csv", index=False)
    (d / "iris.yaml").write_text(IRIS123)
    return d


def test_labels_1_2_3_become_one_hot_with_their_names_kept_and_written_back(iris123, capsys):
    p = dr.load_problem(iris123 / "iris.yaml")  # no one_hot: one column for three outputs is labels
    kinds = np.loadtxt(iris123 / "iris.csv", delimiter=",", skiprows=1, usecols=4).astype(int)
    assert p.classes == ("1", "2", "3")
    np.testing.assert_array_equal(p.y, np.eye(3)[kinds - 1])  # label 1 -> unit 1, ...
    model = str(iris123 / "m.json")
    assert main(["train", str(iris123 / "iris.yaml"), "--quiet", "--save", model]) == 0
    assert json.loads(open(model).read())["classes"] == ["1", "2", "3"]
    capsys.readouterr()
    assert main(["predict", model, str(iris123 / "iris.csv")]) == 0
    out = capsys.readouterr()
    header, rows = read(out.out)
    assert header == ["p_1", "p_2", "p_3", "class"]
    probs = np.array([r[:3] for r in rows], dtype=float)
    assert [r[3] for r in rows] == [str(k + 1) for k in probs.argmax(axis=1)]  # the original labels
    right = int((probs.argmax(axis=1) + 1 == kinds).sum())
    assert right > 135 and out.err.startswith(f"accuracy {right / 150:.2%} on the 150 rows of")
    assert main(["evaluate", model, str(iris123 / "iris.csv"), "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["classes"] == ["1", "2", "3"] and round(r["accuracy"] * 150) == right
    assert [sum(row) for row in r["confusion"]] == [50, 50, 50]


def _neuron(targets: str, extra: str = "") -> dict:
    import yaml

    return yaml.safe_load(f"""layers: [{{weights: [[2.0]], biases: [0.0], activation: sigmoid}}]
loss: bce
data: {{inputs: [1, -1, 2, -2], targets: {targets}{extra}}}
""")


def test_minus_one_and_one_with_one_hot_for_one_sigmoid_output():
    p = dr.parse_problem(_neuron("[-1, 1, 1, -1]", ", one_hot: true"))
    assert p.classes == ("-1", "1")  # sorted by value; one sigmoid output: 1 means the second class
    np.testing.assert_array_equal(p.y, [[0], [1], [1], [0]])
    with pytest.raises(InputError) as e:  # without one_hot they are targets, and bce refuses -1
        dr.parse_problem(_neuron("[-1, 1, 1, -1]"), "p.yaml")
    assert str(e.value) == "p.yaml: data.targets: bce needs targets between 0 and 1, got -1 in example 1 " \
                           "(whole numbers are class labels with one_hot: true)"
    # classes: in the file name the order, and make the column labels without one_hot
    p = dr.parse_problem({**_neuron("[-1, 1, 1, -1]"), "classes": [1, -1]})
    assert p.classes == ("1", "-1") and p.y[:, 0].tolist() == [1, 0, 0, 1]
    p = dr.parse_problem(_neuron("[0, 1, 1, 0]", ", one_hot: true"))  # 0/1: the unit's own values, as before
    assert p.classes is None and p.y[:, 0].tolist() == [0, 1, 1, 0]


def test_ten_and_twenty_sort_by_value_not_as_text(tmp_path):
    doc = {"layers": [{"units": 3, "inputs": 1, "activation": "softmax"}], "loss": "cross_entropy",
           "data": {"inputs": [1, 2, 3, 4], "targets": [20, 9, 10, 9]}}
    p = dr.parse_problem(doc)
    assert p.classes == ("9", "10", "20")  # as text, "10" < "20" < "9"
    np.testing.assert_array_equal(p.y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    with pytest.raises(InputError, match=r"labels 9, 20 are 2 classes, but the output layer has 3 units"):
        dr.parse_problem({**doc, "data": {"inputs": [1, 2], "targets": [20, 9]}})
    with pytest.raises(InputError, match=r"label '7' is not one of the classes \(9, 10, 20\)"):
        dr.parse_problem({**doc, "classes": [9, 10, 20], "data": {"inputs": [1, 2], "targets": [7, 9]}})
    (tmp_path / "d.csv").write_text("x,label\n1,20\n2,9\n3,10\n")  # the same from a CSV column
    p = dr.parse_problem({**doc, "data": {"file": "d.csv", "targets": ["label"]}}, base_dir=tmp_path)
    assert p.classes == ("9", "10", "20") and p.y.argmax(axis=1).tolist() == [2, 0, 1]


# -- predict and evaluate say whether the rows are the model's training data ---------------------------
def test_predict_and_evaluate_say_when_the_rows_are_the_training_data(iris123, tmp_path, capsys):
    model = str(tmp_path / "m.json")
    assert main(["train", str(iris123 / "iris.yaml"), "--quiet", "--save", model, "--validation", "0.4"]) == 0
    record = json.loads(open(model).read())["trained_on"]
    assert (record["rows"], record["held_out"]) == (150, 60)  # --validation 0.4 overrides the file's 0.2
    capsys.readouterr()
    data = str(iris123 / "iris.csv")
    assert main(["predict", model, data]) == 0
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"on the 150 rows of {data} (the data the model was trained on: 90 rows trained on, "
                        "60 held out)")
    lines = open(data).read().splitlines()
    (tmp_path / "other.csv").write_text("\n".join([lines[0], *lines[1:][::-1]]) + "\n")  # the rows reversed
    assert main(["predict", model, str(tmp_path / "other.csv")]) == 0
    assert capsys.readouterr().err.strip().endswith(f"on the 150 rows of {tmp_path / 'other.csv'}")
    assert main(["evaluate", model, data, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_trained_on_this_data"] is True
    assert main(["evaluate", model, str(tmp_path / "other.csv")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"model {model} on the 150 rows of {tmp_path / 'other.csv'}"
    # a problem file as MODEL is untrained: it claims no training data, even on its own rows
    assert main(["predict", str(iris123 / "iris.yaml"), data]) == 0
    assert capsys.readouterr().err.strip().endswith(f"on the 150 rows of {data}")


def test_a_model_files_trained_on_record_is_validated(tmp_path, capsys):
    doc = {"layers": [{"weights": [[2.0]], "biases": [0.0], "activation": "sigmoid"}], "loss": "bce",
           "trained_on": {"rows": 4, "held_out": 0, "inputs_sha256": "ab" * 32}}
    assert dr.parse_problem(doc).trained_on == doc["trained_on"]
    for bad, message in (({"inputs_sha256": "xyz"}, "trained_on.inputs_sha256: expected a SHA-256"),
                         ({"held_out": 4}, "trained_on.held_out: must be fewer than the 4 rows, got 4"),
                         ({"extra": 1}, "trained_on.extra: unknown field")):
        with pytest.raises(InputError) as e:
            dr.parse_problem({**doc, "trained_on": {**doc["trained_on"], **bad}}, "m.json")
        assert str(e.value).startswith(f"m.json: {message}")


# -- the walk's last step: the trained model exported to PyTorch, as the README says ----------------------
def test_a_scaled_model_exported_to_pytorch_gives_predicts_numbers(iris123, tmp_path, capsys):
    from conftest import require_module

    torch = require_module("torch")
    model = str(tmp_path / "m.json")
    assert main(["train", str(iris123 / "iris.yaml"), "--quiet", "--save", model]) == 0
    p = dr.load_problem(model)  # README: keep the model file's scaling
    raw = np.loadtxt(iris123 / "iris.csv", delimiter=",", skiprows=1, usecols=range(4))
    module = dr.to_torch(p.network)
    with torch.no_grad():
        probs = torch.softmax(module(torch.from_numpy(p.scale(raw))), dim=1).numpy()  # logits out
    capsys.readouterr()
    assert main(["predict", model, str(iris123 / "iris.csv")]) == 0
    written = np.array([r[:3] for r in read(capsys.readouterr().out)[1]], dtype=float)
    np.testing.assert_allclose(probs, written, rtol=1e-12, atol=1e-15)
    assert (probs.argmax(axis=1) + 1 == np.loadtxt(iris123 / "iris.csv", delimiter=",", skiprows=1,
                                                   usecols=4)).mean() > 0.9


def test_the_train_summary_says_how_many_epochs_ran_and_which_optimizer(tmp_path, capsys):
    (tmp_path / "n.yaml").write_text(NEURON.replace("epochs: 4", "epochs: 60").replace(
        "learning_rate_schedule: {name: step, step_size: 2, gamma: 0.5}", "optimizer: {name: sgd, momentum: 0.9}")
        + "early_stopping: {patience: 2}\n")
    p = dr.load_problem(tmp_path / "n.yaml")
    ran = len(p.train().journal) - 1
    assert 0 < ran < 60
    assert main(["train", str(tmp_path / "n.yaml")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"neuron: batch, {ran} of 60 epochs, {ran} updates, learning rate 0.9, "
                            "sgd (momentum 0.9), ")


def test_a_boundary_of_four_inputs_is_refused_naming_the_first_layer_as_the_notes_do(iris123, tmp_path, capsys):
    problem = str(iris123 / "iris.yaml")
    assert main(["plot", problem, "--kind", "boundary", "-o", str(tmp_path / "b.png")]) == 2
    assert capsys.readouterr().err.strip() == \
        f"{problem}: layers[1]: a decision boundary needs two inputs; this network takes 4"  # was layers[0]
    assert not (tmp_path / "b.png").exists()


def test_plot_journal_of_several_methods_draws_each_val_loss_dashed(tmp_path):
    from deltarule.commands import plot as plot_command

    (tmp_path / "n.yaml").write_text(NEURON)
    import argparse

    parser = argparse.ArgumentParser()
    plot_command.add_arguments(parser)
    args = parser.parse_args([str(tmp_path / "n.yaml"), "--kind", "journal", "--methods", "batch,stochastic",
                              "-o", str(tmp_path / "j.png")])
    fig, runs = plot_command._journal(dr.load_problem(tmp_path / "n.yaml"), args)
    lines = {li.get_label(): li for li in fig.axes[0].get_lines()}
    for r in runs:
        val = lines[f"{r.label}: val_loss"]
        assert val.get_linestyle() == "--" and val.get_color() == lines[r.label].get_color()
        np.testing.assert_array_equal(val.get_ydata(), r.journal.rows[:, r.journal.columns.index("val_loss")])
    assert fig.texts[0].get_text().endswith("learning rate 0.9, step (step_size 2, gamma 0.5)")  # the file's schedule


def test_one_column_of_fractions_for_several_outputs_is_still_a_column_too_few():
    doc = {"layers": [{"units": 3, "inputs": 1, "activation": "softmax"}], "loss": "cross_entropy",
           "data": {"inputs": [1, 2], "targets": [0.5, 2]}}
    with pytest.raises(InputError) as e:  # not whole numbers: not labels, so the shape is what is wrong
        dr.parse_problem(doc, "p.yaml")
    assert str(e.value) == "p.yaml: data.targets: expected rows of 3 numbers (the output layer has 3 units), " \
                           "one row per example, got a flat list"
    assert dr.parse_problem({**doc, "data": {"inputs": [1, 2], "targets": [0, 2]}}).y.tolist() == [[1, 0, 0], [0, 0, 1]]


def test_train_validation_option_fits_the_scaling_on_its_own_training_part(iris123, tmp_path):
    from deltarule.metrics import split

    raw = np.loadtxt(iris123 / "iris.csv", delimiter=",", skiprows=1, usecols=range(4))
    text = IRIS123.replace("file: iris.csv", f"file: {iris123 / 'iris.csv'}")
    for spec, seed in (("", 0), ("validation: {fraction: 0.2, seed: 7}\n", 7)):  # the file's seed is kept
        (tmp_path / "p.yaml").write_text(text.replace("validation: 0.2\n", spec))
        model = tmp_path / "m.json"
        assert main(["train", str(tmp_path / "p.yaml"), "--allow-outside", "--quiet", "--epochs", "1",
                     "--validation", "0.5", "--save", str(model)]) == 0
        saved = json.loads(model.read_text())
        train = split(raw, raw, 0.5, seed)[0]  # 75 rows: the scaling never saw the 75 held out
        np.testing.assert_allclose(saved["preprocess"]["offset"], train.mean(axis=0), rtol=1e-13)
        assert np.abs(np.array(saved["preprocess"]["offset"]) - raw.mean(axis=0)).max() > 1e-3
        assert saved["trained_on"]["held_out"] == 75
