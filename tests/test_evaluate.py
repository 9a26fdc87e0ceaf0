"""metrics.classification / regression (by hand and against scikit-learn) and `deltarule evaluate`."""
from __future__ import annotations

import json

import numpy as np
import pytest

from deltarule import metrics
from deltarule.cli import main

# six examples of three classes, predicted [0, 1, 1, 1, 2, 0] for true [0, 0, 1, 1, 2, 2]
TRUE = [0, 0, 1, 1, 2, 2]
PRED = [0, 1, 1, 1, 2, 0]


def test_a_three_class_confusion_matrix_and_its_scores_by_hand():
    eye = np.eye(3)
    c = metrics.classification(0.1 + 0.7 * eye[PRED], eye[TRUE], "argmax")
    # rows true, columns predicted: true 0 -> predicted 0 and 1; true 1 -> 1, 1; true 2 -> 2 and 0
    assert c["confusion"].tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert c["accuracy"] == pytest.approx(4 / 6)  # the diagonal, 1 + 2 + 1, of 6
    per = c["per_class"]
    # class 0: tp 1 of 2 predicted (examples 1, 6), of 2 true: P = R = F1 = 1/2
    # class 1: tp 2 of 3 predicted, of 2 true: P = 2/3, R = 1, F1 = 2*2/(2+3) = 0.8
    # class 2: tp 1 of 1 predicted, of 2 true: P = 1, R = 1/2, F1 = 2*1/(2+1) = 2/3
    np.testing.assert_allclose(per["precision"], [0.5, 2 / 3, 1.0])
    np.testing.assert_allclose(per["recall"], [0.5, 1.0, 0.5])
    np.testing.assert_allclose(per["f1"], [0.5, 0.8, 2 / 3])
    assert per["support"].tolist() == [2, 2, 2]
    # macro: unweighted means, P = (1/2 + 2/3 + 1)/3 = 13/18, R = 2/3, F1 = (1/2 + 4/5 + 2/3)/3 = 59/90
    assert c["macro"] == pytest.approx({"precision": 13 / 18, "recall": 2 / 3, "f1": 59 / 90})


def test_regression_metrics_by_hand():
    # errors 0, 0, 1: MSE = 1/3, MAE = 1/3; y's mean 2, sum of squares about it 2: R² = 1 - 1/2
    r = metrics.regression([[1.0], [2.0], [4.0]], [[1.0], [2.0], [3.0]])
    assert r == pytest.approx({"mean_squared_error": 1 / 3, "mean_absolute_error": 1 / 3, "r2_score": 0.5})
    # a constant target: R² 1 when predicted exactly, else 0 (scikit-learn's force_finite)
    assert metrics.regression([[2.0], [2.0]], [[2.0], [2.0]])["r2_score"] == 1.0
    assert metrics.regression([[1.0], [3.0]], [[2.0], [2.0]])["r2_score"] == 0.0


def test_against_scikit_learn_on_random_data():
    from conftest import require_module

    skm = require_module("sklearn.metrics")
    rng = np.random.default_rng(17)
    for k, n in ((4, 200), (3, 9), (5, 12)):  # small n: some class is never predicted (zero division)
        yhat = rng.dirichlet(np.ones(k), size=n)
        true = rng.integers(0, k, size=n)
        c = metrics.classification(yhat, np.eye(k)[true], "argmax")
        pred = yhat.argmax(axis=1)
        labels = list(range(k))
        assert np.array_equal(c["confusion"], skm.confusion_matrix(true, pred, labels=labels))
        p, r, f, s = skm.precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
        per = c["per_class"]
        np.testing.assert_allclose([per["precision"], per["recall"], per["f1"]], [p, r, f], rtol=1e-12)
        assert per["support"].tolist() == s.tolist()
        assert c["macro"]["f1"] == pytest.approx(skm.f1_score(true, pred, labels=labels, average="macro",
                                                              zero_division=0), rel=1e-12)
        assert c["accuracy"] == pytest.approx(skm.accuracy_score(true, pred))
    # binary, one sigmoid output: classes 0 and 1
    p1 = rng.uniform(size=(50, 1))
    t1 = rng.integers(0, 2, size=(50, 1))
    c = metrics.classification(p1, t1, "threshold")
    pred = (p1[:, 0] >= 0.5).astype(int)
    assert np.array_equal(c["confusion"], skm.confusion_matrix(t1[:, 0], pred, labels=[0, 1]))
    np.testing.assert_allclose(c["per_class"]["f1"], skm.f1_score(t1[:, 0], pred, average=None), rtol=1e-12)
    # regression, three outputs
    y, yhat = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    r = metrics.regression(yhat, y)
    assert r["mean_squared_error"] == pytest.approx(skm.mean_squared_error(y, yhat), rel=1e-12)
    assert r["mean_absolute_error"] == pytest.approx(skm.mean_absolute_error(y, yhat), rel=1e-12)
    assert r["r2_score"] == pytest.approx(skm.r2_score(y, yhat), rel=1e-12)


# -- the command -------------------------------------------------------------------------------------
# W rows pick the class: x = (1, 0) -> class 0, (0, 1) -> class 1, (-1, -1) -> class 2
CLASSIFIER = {"layers": [{"weights": [[4, 0], [0, 4], [-4, -4]], "biases": [0, 0, 0], "activation": "softmax"}],
              "loss": "cross_entropy"}
X_FOR = {0: "1,0", 1: "0,1", 2: "-1,-1"}


@pytest.fixture
def classifier_files(tmp_path):
    model = tmp_path / "model.json"
    model.write_text(json.dumps(CLASSIFIER), encoding="utf-8")
    data = tmp_path / "six.csv"
    data.write_text("x1,x2,label\n" + "".join(f"{X_FOR[p]},{t}\n" for p, t in zip(PRED, TRUE)), encoding="utf-8")
    return model, data


def test_evaluate_a_classifier_on_a_csv(classifier_files, capsys):
    model, data = classifier_files
    assert main(["evaluate", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert f"on the 6 rows of {data}\n" in out and "accuracy: 66.67% (4 of 6)" in out
    lines = out.splitlines()
    start = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    assert [line.split() for line in lines[start + 1:start + 5]] == [
        ["0", "1", "2"], ["0", "1", "1", "0"], ["1", "0", "2", "0"], ["2", "1", "0", "1"]]
    assert "macro avg     0.7222  0.6667  0.6556        6" in out
    assert main(["evaluate", str(model), str(data), "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["data"] == str(data) and r["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert r["f1"] == pytest.approx([0.5, 0.8, 2 / 3]) and r["accuracy"] == pytest.approx(4 / 6)
    # the loss is the network's: mean over the six of -ln softmax(z)_true
    z = np.array([[4, 0, -4], [0, 4, -4], [0, 4, -4], [0, 4, -4], [-4, -4, 8], [4, 0, -4]], dtype=float)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert r["loss"] == pytest.approx(-np.mean(logp[np.arange(6), TRUE]), rel=1e-12)


def test_evaluate_names_columns_and_refuses_a_file_without_targets(classifier_files, tmp_path, capsys):
    model, data = classifier_files
    assert main(["evaluate", str(model), str(data), "--targets", "label", "--inputs", "x1,x2",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["support"] == [2, 2, 2]
    bare = tmp_path / "bare.csv"
    bare.write_text("x1,x2\n1,0\n", encoding="utf-8")
    assert main(["evaluate", str(model), str(bare)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{bare}: ") and "no target columns" in err[0]
    assert main(["evaluate", str(model), str(data), "--targets", "x1"]) == 2  # 1 input left for 2
    assert main(["evaluate", str(model), str(data), "--inputs", "x1,x2"]) == 2  # targets unnamed
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--targets" in err[1]
    labels = tmp_path / "labels.csv"
    labels.write_text("x1,x2,label\n1,0,7\n", encoding="utf-8")  # 7 is no class of 3
    assert main(["evaluate", str(model), str(labels)]) == 2
    assert "do not fit the model's 3 outputs" in capsys.readouterr().err


def test_evaluate_a_regression_model(tmp_path, capsys):
    model = tmp_path / "line.json"
    model.write_text(json.dumps({"layers": [{"weights": [[1]], "biases": [0], "activation": "identity"}],
                                 "loss": "half_sse"}), encoding="utf-8")
    data = tmp_path / "line.csv"
    data.write_text("x,y\n1,1\n2,2\n4,3\n", encoding="utf-8")
    assert main(["evaluate", str(model), str(data), "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    # yhat = x: errors 0, 0, 1 -> MSE = MAE = 1/3, R² = 1 - 1/2; half_sse mean: (1/2 · 1)/3
    assert r == pytest.approx({"model": str(model), "data": str(data), "examples": 3, "loss": 1 / 6,
                               "loss_name": "half_sse", "reduction": "mean", "mean_squared_error": 1 / 3, "mean_absolute_error": 1 / 3,
                               "r2_score": 0.5, "model_trained_on_this_data": False})  # written by hand
    assert main(["evaluate", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert "MSE: 0.333333" in out and "R²: 0.5000" in out and "confusion" not in out


def test_evaluate_a_problem_files_data(capsys):
    assert main(["evaluate", "xor", "xor", "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["examples"] == 4 and r["data"] == "xor" and r["loss"] > 0


def test_summary_lines_say_the_metrics_on_which_data():
    from dataclasses import replace

    from conftest import require_module

    import deltarule as dr
    from deltarule.commands.evaluate import summary_lines
    from deltarule.formatting import fmt

    skm = require_module("sklearn.metrics")
    xor = dr.load_problem("xor")
    run = xor.train()
    assert run.journal.to_frame()["accuracy"].iloc[-1] == 1.0
    assert summary_lines(run.network, xor) == [
        "training data (4 examples): macro precision 1.0000, recall 1.0000, F1 1.0000"]
    # a regression with a held-out split: both lines, each on its own examples, as scikit-learn counts
    xs = np.linspace(-1, 1, 20)
    p = dr.parse_problem({
        "layers": [{"units": 3, "inputs": 1, "activation": "tanh"}, {"units": 1, "activation": "identity"}],
        "loss": "half_sse", "learning_rate": 0.1, "training": {"method": "batch", "epochs": 30},
        "data": {"inputs": [[v] for v in xs], "targets": [[2 * v] for v in xs]}})
    p = replace(p, validation=(0.25, p.seed))  # as train --validation 0.25 splits
    x, y, x_val, y_val = p.split()
    net = p.train().network
    lines = summary_lines(net, p)
    assert len(lines) == 2
    for line, which, xx, yy in zip(lines, ("training data (15 examples)", "held out (5 examples)"),
                                   (x, x_val), (y, y_val)):
        yhat = net.predict(xx)
        assert line == (f"{which}: MSE {fmt(skm.mean_squared_error(yy, yhat), 6)}, "
                        f"MAE {fmt(skm.mean_absolute_error(yy, yhat), 6)}, R² {fmt(skm.r2_score(yy, yhat), 4)}")
    one = dr.load_problem("seed-002")
    assert summary_lines(one.network, one)[0].endswith("R² undefined on 1 example")


def test_evaluate_an_npz_with_labels_and_one_without_targets(classifier_files, tmp_path, capsys):
    model, _ = classifier_files
    x = np.array([[float(v) for v in X_FOR[p].split(",")] for p in PRED])
    np.savez(tmp_path / "six.npz", inputs=x, targets=np.array(TRUE, dtype=float))
    assert main(["evaluate", str(model), str(tmp_path / "six.npz"), "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]] and r["recall"] == [0.5, 1.0, 0.5]
    np.savez(tmp_path / "bare.npz", inputs=x)
    assert main(["evaluate", str(model), str(tmp_path / "bare.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no targets" in err[0]
    assert main(["evaluate", str(model), str(tmp_path / "six.npz"), "--targets", "y"]) == 2
    assert "--targets names CSV columns" in capsys.readouterr().err


def test_train_prints_the_summary_lines(capsys):
    assert main(["train", "xor"]) == 0
    out = capsys.readouterr().out.splitlines()
    i = out.index("accuracy: 25.00% -> 100.00%")  # xor's own summary line, then which data and its metrics
    assert out[i + 1] == "training data (4 examples): macro precision 1.0000, recall 1.0000, F1 1.0000"
