"""deltarule predict MODEL DATA: one CSV row per example, yhat1..yhatK then the class."""
import csv
import io
import json

import numpy as np
import pytest

import deltarule as dr
from deltarule.cli import main


def read(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "digits.json"
    assert main(["train", "digits", "--epochs", "3", "--quiet", "--save", str(path)]) == 0
    return path


def test_predict_a_regression_model_on_a_problem_file(capsys):
    # seed 002: x = (0.05, 0.10), the 2-2-1 sigmoid network gives yhat = 0.75136507 (the notes' 0.7514)
    assert main(["predict", "seed-002", "seed-002"]) == 0
    header, rows = read(capsys.readouterr().out)
    assert header == ["yhat1"]  # half_sse: not a classifier, no class column
    assert round(float(rows[0][0]), 8) == 0.75136507
    assert float(rows[0][0]) == dr.load_network("seed-002").predict([0.05, 0.10])[0, 0]  # exact decimals


def test_predict_digits_writes_classes_and_reports_accuracy(digits_model, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(digits_model), "digits", "-o", str(out)]) == 0
    header, rows = read(out.read_text())
    assert header == [f"yhat{k}" for k in range(1, 11)] + ["class"]
    problem, net = dr.load_problem("digits"), dr.load_network(digits_model)
    assert len(rows) == len(problem.x) == 1797
    yhat = np.array([[float(v) for v in r[:10]] for r in rows])
    np.testing.assert_array_equal(yhat, net.predict(problem.x))
    classes = np.array([int(r[10]) for r in rows])
    np.testing.assert_array_equal(classes, yhat.argmax(axis=1))
    right = np.mean(classes == problem.y.argmax(axis=1))
    assert right > 0.8  # three epochs already classify most digits
    assert capsys.readouterr().err.strip() == f"accuracy {right:.2%} on 1797 examples"


def test_predict_from_csv_and_npz(tmp_path, capsys):
    model = tmp_path / "xor.json"
    net = dr.Network((dr.Layer([[2.0, -2.0]], [0.5], "sigmoid"),), "bce")
    model.write_text(json.dumps(net.to_dict()))
    (tmp_path / "in.csv").write_text("id,b,a\n7,0,1\n8,3,-1\n")
    assert main(["predict", str(model), str(tmp_path / "in.csv"), "--inputs", "a,b"]) == 0
    header, rows = read(capsys.readouterr().out)
    # z = 2a - 2b + 0.5: (1, 0) -> 2.5, sigmoid 0.924 -> class 1; (-1, 3) -> -7.5 -> class 0
    assert header == ["yhat1", "class"]
    assert [r[1] for r in rows] == ["1", "0"] and abs(float(rows[0][0]) - 1 / (1 + np.exp(-2.5))) < 1e-15
    np.savez(tmp_path / "in.npz", inputs=np.array([[1.0, 0.0], [-1.0, 3.0]]), targets=np.array([1.0, 1.0]))
    assert main(["predict", str(model), str(tmp_path / "in.npz")]) == 0
    captured = capsys.readouterr()
    assert read(captured.out)[1] == rows and captured.err.strip() == "accuracy 50.00% on 2 examples"


@pytest.mark.parametrize("args,message", [
    (["seed-002", "nope.csv"], "nope.csv: no such file"),
    (["seed-002", "bad.csv"], "bad.csv: line 3, column 'b': expected a finite number, got 'x'"),
    (["seed-002", "wide.csv"], "wide.csv: 3 columns, but the model takes 2 inputs (name the input columns with --inputs)"),
    (["seed-002", "wide.csv", "--inputs", "a,z"], "--inputs: no column 'z' (columns: a, b, c)"),
    (["seed-002", "digits"], "digits: inputs: 64 input columns, but the model takes 2 inputs"),
    (["nope.yaml", "seed-002"], "nope.yaml"),
])
def test_bad_input_is_one_line_exit_2(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("a,b\n0.05,0.1\n1,x\n")
    (tmp_path / "wide.csv").write_text("a,b,c\n1,2,3\n")
    assert main(["predict", *args, "-o", "out.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message) and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()  # nothing half-written
