"""deltarule exercises: a set per roster, round-safe numbers, sheets, keys, blank answers, a Moodle quiz.

The round-safety property is checked by a student written here from scratch: number by number,
each rounded to the shown decimals with ``fmt`` before the next one uses it, as the notes do
(seed 002: z1 = 0.15(0.05) + 0.20(0.10) + 0.35 = 0.378 -> a1 = sigma(0.378) = 0.593 -> ...).
"""
from __future__ import annotations

import csv
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deltarule as dr
from deltarule.classroom import load_template, make_set, parse_template, write_set
from deltarule.classroom.generate import exercise_seed, folder_name, make_one
from deltarule.classroom.quiz import escape_cloze
from deltarule.classroom.roundsafe import truth_values
from deltarule.cli import main
from deltarule.formatting import fmt
from deltarule.loader import read_document

from conftest import require

U1 = {"draw": "uniform", "low": -1, "high": 1, "decimals": 1}
BATCH_TEMPLATE = {  # two examples, tanh then identity, sse averaged over the batch, a drawn learning rate
    "name": "batch of two",
    "layers": [{"weights": [[U1, U1], [U1, U1]], "biases": [{**U1, "low": -0.5, "high": 0.5}, 0.0],
                "activation": "tanh"},
               {"weights": [[U1, U1]], "biases": [0.1], "activation": "identity"}],
    "loss": "sse", "reduction": "mean",
    "data": {"inputs": [[U1, 0.5], [1.0, U1]], "targets": [{"draw": "choice", "from": [-1, 1]}, 0.5]},
    "learning_rate": {"draw": "choice", "from": [0.1, 0.2, 0.5]},
    "decimals": 2,
    "asked": ["z1", "a1", "fprime1", "dL_da2", "delta1", "dW1", "db2", "W2_new", "losses", "loss", "loss_after"],
    "marks": {"dW1": 2, "W2_new": 1.5},
}
ROSTER = [f"s{k:02d}" for k in range(1, 28)] + ["../x", "a\x01b\x1b[2J", "<script>alert(1)</script>"]


def manifest(folder: Path) -> list[dict]:
    with open(folder / "manifest.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def r(v: float, d: int) -> float:
    """One number rounded as the notes round it (halves away from zero)."""
    return float(fmt(float(v), d))


def act(f, z: list[float]) -> list[float]:
    return [float(v) for v in f.value(np.array([z]))[0]]


def slope(f, z: list[float], a: list[float]) -> list[float]:
    return [float(v) for v in f.derivative(np.array([z]), np.array([a]))[0]]


def redo(problem, d: int) -> dict:
    """The first update worked by hand: every number rounded to d decimals before it is used."""
    net, step = problem.network, problem.steps(1)[0]
    ex = list(step.examples)
    X, Y, n = problem.x[ex].tolist(), problem.y[ex].tolist(), len(ex)
    scale = 1 / n if net.reduction == "mean" else 1
    fused = net.layers[-1].activation.name in net.loss.fused

    def forward(layers):
        zs, outs = [], []
        for e in range(n):
            prev, ze, ae = X[e], [], []
            for lay in layers:
                z = [r(sum(w * p for w, p in zip(row, prev)) + b, d) for row, b in zip(lay.W.tolist(), lay.b.tolist())]
                a = [r(v, d) for v in act(lay.activation, z)]
                ze.append(z), ae.append(a)
                prev = a
            zs.append(ze), outs.append(ae)
        return zs, outs

    def batch_loss(outs):
        per = [r(net.loss.value(np.array([o[-1]]), np.array([Y[e]]))[0], d) for e, o in enumerate(outs)]
        return per, r(sum(per) / n if net.reduction == "mean" else sum(per), d)

    zs, outs = forward(net.layers)
    out = {"losses": batch_loss(outs)[0], "loss": batch_loss(outs)[1]}
    L, deltas, new = len(net.layers), [None] * n, []
    for l in range(L, 0, -1):
        lay = net.layers[l - 1]
        rows = {k: [] for k in ("z", "a", "fprime", "dL_da", "delta")}
        for e in range(n):
            z, a = zs[e][l - 1], outs[e][l - 1]
            fp = [r(v, d) for v in slope(lay.activation, z, a)]
            if l == L:
                g = net.loss.grad(np.array([a]), np.array([Y[e]]))[0]
                dL_da = [r(scale * v, d) for v in g]
            else:
                up = net.layers[l].W.tolist()
                dL_da = [r(sum(up[k][i] * deltas[e][k] for k in range(len(up))), d) for i in range(lay.units)]
            if l == L and fused:
                delta = [r(scale * (av - yv), d) for av, yv in zip(a, Y[e])]
            else:
                delta = [r(g * s, d) for g, s in zip(dL_da, fp)]
            deltas[e] = delta
            for k, v in zip(rows, (z, a, fp, dL_da, delta)):
                rows[k].append(v)
        prev = [X[e] if l == 1 else outs[e][l - 2] for e in range(n)]
        dW = [[r(sum(rows["delta"][e][i] * prev[e][j] for e in range(n)), d) for j in range(lay.fan_in)]
              for i in range(lay.units)]
        db = [r(sum(rows["delta"][e][i] for e in range(n)), d) for i in range(lay.units)]
        W_new = [[r(w - problem.learning_rate * g, d) for w, g in zip(wr, gr)] for wr, gr in zip(lay.W.tolist(), dW)]
        b_new = [r(b - problem.learning_rate * g, d) for b, g in zip(lay.b.tolist(), db)]
        new.insert(0, dr.Layer(np.array(W_new), np.array(b_new), lay.activation))
        for k, v in rows.items():
            out[f"{k}{l}"] = v[0] if n == 1 else v
        out.update({f"dW{l}": dW, f"db{l}": db, f"W{l}_new": W_new, f"b{l}_new": b_new})
    out["loss_after"] = batch_loss(forward(new)[1])[1]
    return out


def shown(v, d: int) -> list[str]:
    return [fmt(x, d) for x in np.ravel(np.asarray(v, dtype=float))]


def assert_round_safe(ex) -> None:
    """(a) 0.1 of a unit from a boundary, (b) the rounded student's answers shown equal the key's,
    (c) nothing shown as zero — for every asked name, against the core's values."""
    problem = dr.parse_problem(ex.doc, "problem.yaml")
    d = problem.decimals
    truth, student = problem.steps(1)[0].values(), redo(problem, d)
    truth["losses"] = problem.steps(1)[0].trace.per_example_loss
    for name in ex.asked:
        key = ex.values[name]
        if name in truth:
            np.testing.assert_allclose(np.asarray(truth[name], float), key, rtol=1e-12, atol=1e-15)
        scaled = np.abs(np.ravel(key)) * 10.0**d
        assert (np.abs(scaled - np.floor(scaled) - 0.5) >= 0.1).all(), (name, key)
        assert shown(student[name], d) == shown(key, d), (name, student[name], key)
        assert all(float(s) != 0 for s in shown(key, d)), (name, key)
    # and the checker marks the hand-rounded student right, every number against the true value
    report = dr.check(problem, {"decimals": d, "answers": {n: student[n] for n in ex.asked}})
    assert report.right == len(ex.asked) and report.wrong == 0
    assert all(v["basis"] == "true" for v in report.to_json()["verdicts"])


# -- the lecturer's set: 30 exercises from seed 002's network, with a roster --------------------------------
@pytest.fixture(scope="module")
def class_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("week5")
    roster = root / "students.csv"
    with open(roster, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "name"])
        w.writerows([[s, f"Student {k}"] for k, s in enumerate(ROSTER)])
    out = root / "set"
    assert main(["exercises", "seed-002", "--roster", str(roster), "--seed", "2026", "-o", str(out)]) == 0
    return out


def test_manifest_lists_every_student_once(class_set):
    rows = manifest(class_set)
    assert [r["student"] for r in rows] == ROSTER and len(rows) == 30
    assert list(rows[0]) == ["exercise", "student", "seed", "problem"]
    assert len({r["exercise"] for r in rows}) == 30
    for row in rows:
        assert (class_set / row["problem"]).is_file()
        assert int(row["seed"]) == exercise_seed(2026, row["student"])


def test_every_exercise_is_seed_002s_network_with_new_numbers(class_set):
    seed2 = dr.load_problem("seed-002")
    weights = set()
    for row in manifest(class_set):
        p = dr.load_problem(class_set / row["problem"])
        assert p.network.sizes == (2, 2, 1) and p.network.loss.name == "half_sse"
        assert [lay.activation.name for lay in p.network.layers] == ["sigmoid", "sigmoid"]
        assert p.learning_rate == 0.5 and p.decimals == 3
        # redrawn at the example's precision: weights and inputs with 2 decimals, targets with 1
        for v in np.concatenate([p.network.layers[0].W.ravel(), p.x.ravel()]):
            assert abs(v * 100 - round(v * 100)) < 1e-9 and -1 <= v <= 1
        assert abs(p.y[0, 0] * 10 - round(p.y[0, 0] * 10)) < 1e-9 and 0 <= p.y[0, 0] <= 1
        weights.add(tuple(p.network.layers[0].W.ravel()))
        assert not np.array_equal(p.network.layers[0].W, seed2.network.layers[0].W)
    assert len(weights) == 30  # thirty different exercises


def test_sheets_ask_without_answering_and_keys_answer(class_set):
    template = load_template("seed-002")
    for row in manifest(class_set):
        folder = class_set / row["exercise"]
        p = dr.load_problem(folder / "problem.yaml")
        values = truth_values(p)
        sheet = (folder / "sheet.html").read_text(encoding="utf-8")
        tex = (folder / "sheet.tex").read_text(encoding="utf-8")
        key = (folder / "key.html").read_text(encoding="utf-8")
        assert "Round-safe at 3 decimals" in key and "Round-safe at 3 decimals" in (folder / "key.tex").read_text()
        assert "learning rate η = 0.5" in sheet and "half_sse" in sheet and "3 decimals" in sheet
        assert r"\begin{document}" in tex and r"\end{document}" in tex and "half\\_sse" in tex
        given_part = sheet.split("<h2>Given</h2>")[1]
        for name in template.asked:
            assert f"<code>{name}</code>" in given_part
            for s in shown(values[name], 3):
                assert s.lstrip("-") in key                               # the key shows it
                assert not re.search(rf"(?<![\d.]){re.escape(s)}(?!\d)", given_part), (name, s)  # the sheet never
        assert "<script>" not in sheet and "\x1b" not in sheet and "\x1b" not in tex


def test_blank_answers_are_nulls_of_the_right_shape_and_fill_to_all_right(class_set):
    template = load_template("seed-002")
    for row in manifest(class_set):
        doc = read_document(class_set / row["exercise"] / "answers.yaml")
        assert doc["student"] == row["student"] and doc["exercise"] == row["exercise"]
        assert "problem" not in doc and doc["decimals"] == 3
        assert list(doc["answers"]) == list(template.asked)
        p = dr.load_problem(class_set / row["problem"])
        values = truth_values(p)
        for name, blank in doc["answers"].items():
            arr = np.array(blank, dtype=object)
            assert arr.shape == np.shape(values[name]) and all(v is None for v in arr.ravel()), name
        # the key's numbers, rounded as the sheet says, are all right
        filled = {n: np.round(np.asarray(values[n], float), 3).tolist() for n in doc["answers"]}
        report = dr.check(p, {"decimals": 3, "answers": filled})
        assert report.right == len(template.asked) and report.wrong == 0


MOODLE_NUMERICAL = re.compile(r"\{([0-9]*):(?:NUMERICAL|NM):=(-?[0-9.]+):([0-9.]+)#((?:\\.|[^}\\])*)\}")


def test_quiz_is_a_moodle_bank_whose_every_answer_is_the_key(class_set):
    root = ET.parse(class_set / "quiz.xml").getroot()
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    cloze = [q for q in questions if q.get("type") == "cloze"]
    rows = manifest(class_set)
    assert len(cloze) == 30
    template = load_template("seed-002")
    for q, row in zip(cloze, rows):
        assert q.find("idnumber").text == row["exercise"]
        text = q.find("questiontext/text").text
        assert q.find("questiontext").get("format") == "html" and r"\(W^{(1)}\)" in text
        values = truth_values(dr.load_problem(class_set / row["problem"]))
        expected = [float(v) for n in template.asked for v in np.ravel(values[n])]
        found = MOODLE_NUMERICAL.findall(text)
        assert len(found) == len(expected) == 21 + 12 + 3  # every number of one update of a 2-2-1 network
        for (weight, answer, tol, feedback), v in zip(found, expected):
            assert weight == "1" and float(tol) == 0.0005
            assert abs(float(answer) - v) <= float(tol)
        key = q.find("generalfeedback/text").text
        assert "Round-safe at 3 decimals" in key and "Update 1 of 1" in key


def test_cloze_escaping_follows_moodle():
    assert escape_cloze('a}b#c~d/e"f\\g') == 'a\\}b\\#c\\~d\\/e\\"f\\\\g'
    assert escape_cloze("dL_da1[1] = 0.019") == "dL_da1[1] = 0.019"


def test_quiz_weights_follow_the_marks(tmp_path):
    t = parse_template(BATCH_TEMPLATE, "batch.yaml")
    [ex] = make_set(t, seed=4, count=1)
    write_set([ex], t, 4, tmp_path)
    text = ET.parse(tmp_path / "quiz.xml").getroot().findall("question")[1].find("questiontext/text").text
    found = MOODLE_NUMERICAL.findall(text)
    weights = {}
    for w, _, tol, fb in found:
        weights.setdefault(fb.split("[")[0].split(" ")[0], set()).add(w)
        assert float(tol) == 0.005
    assert weights["dW1"] == {"4"} and weights["W2_new"] == {"3"} and weights["z1"] == {"2"}  # marks 2, 1.5, 1 (x2)


# -- determinism -------------------------------------------------------------------------------------
def test_same_student_and_seed_give_the_same_exercise_whatever_the_roster():
    t = load_template("seed-002")
    first = {ex.student: ex.doc for ex in make_set(t, seed=7, students=["ada", "bob"])}
    again = {ex.student: ex.doc for ex in make_set(t, seed=7, students=["cy", "bob", "ada"])}
    assert first["ada"]["layers"] == again["ada"]["layers"] and first["bob"]["data"] == again["bob"]["data"]
    other = make_set(t, seed=8, students=["ada"])[0].doc
    assert other["layers"] != first["ada"]["layers"]
    assert exercise_seed(7, "ada") == exercise_seed(7, "ada") != exercise_seed(7, "bob")
    # a stable hash, not Python's salted hash(): the same number in every process
    assert exercise_seed(7, "ada") == int.from_bytes(
        __import__("hashlib").sha256(b"deltarule-exercise\x007\x00ada").digest()[:8], "big") >> 1


def test_count_mode_numbers_the_exercises(tmp_path):
    t = parse_template(BATCH_TEMPLATE, "batch.yaml")
    exercises = make_set(t, seed=1, count=3)
    assert [e.id for e in exercises] == ["001", "002", "003"] and all(e.student is None for e in exercises)
    assert make_set(t, seed=1, count=2)[1].doc == exercises[1].doc
    write_set(exercises, t, 1, tmp_path)
    blank = read_document(tmp_path / "002" / "answers.yaml")
    assert blank["exercise"] == "002" and blank["student"] is None
    assert np.shape(np.array(blank["answers"]["z1"], dtype=object)) == (2, 2)  # a batch of two: rows per example
    assert np.shape(np.array(blank["answers"]["losses"], dtype=object)) == (2,)


# -- round-safety, property-based ---------------------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**40), student=st.text(min_size=1, max_size=8))
def test_seed_002_exercises_are_round_safe(seed, student):
    ex = make_one(load_template("seed-002"), seed, student, "x", student)
    assert_round_safe(ex)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**40))
def test_batch_exercises_are_round_safe(seed):
    ex = make_one(parse_template(BATCH_TEMPLATE, "batch.yaml"), seed, "k", "001", None)
    assert_round_safe(ex)


BCE_TEMPLATE = {  # sigmoid + bce: the fused output delta y-hat - y, the loss from the rounded y-hat
    "layers": [{"weights": [[U1, U1], [U1, U1]], "biases": [U1, U1], "activation": "tanh"},
               {"weights": [[U1, U1]], "biases": [U1], "activation": "sigmoid"}],
    "loss": "bce", "data": {"inputs": [[U1, U1]], "targets": [[{"draw": "choice", "from": [0, 1]}]]},
    "learning_rate": 0.5, "decimals": 3, "asked": ["a2", "loss", "delta2", "dW2", "delta1", "dW1", "W2_new"],
}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**40))
def test_fused_output_exercises_are_round_safe(seed):
    assert_round_safe(make_one(parse_template(BCE_TEMPLATE, "bce.yaml"), seed, "k", "001", None))


def test_the_hand_student_reproduces_seed_002s_notes():
    # the notes: z = 0.378, 0.393; a = 0.593, 0.597; delta2 = 0.251 x 0.187 = 0.047; W2' = 0.386, 0.436
    got = redo(dr.load_problem("seed-002"), 3)
    assert got["z1"] == [0.378, 0.393] and got["a1"] == [0.593, 0.597] and got["delta2"] == [0.047]
    assert got["W2_new"] == [[0.386, 0.436]] and got["b1_new"] == [0.348, 0.348] and got["loss"] == 0.032


# -- refusals and hostile input ----------------------------------------------------------------------------
def test_an_impossible_template_is_refused_with_one_line(tmp_path, capsys):
    from deltarule import examples

    doc = yaml.safe_load(examples.text("seed-002"))
    doc["layers"][0]["weights"][0][0] = {"draw": "choice", "from": [0.15, 0.25]}
    doc["asked"] = ["dW1"]  # 0.000 at 3 decimals whatever the first weight: never round-safe
    path = tmp_path / "t.yaml"
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML: no anchors
    out = tmp_path / "out"
    assert main(["exercises", str(path), "--count", "2", "--seed", "1", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{path}: asked: no round-safe exercise in 8,192 draws")
    assert "dW1 is shown as zero" in err and not out.exists()


@pytest.mark.parametrize("change, line", [
    ({"learning_rate": {"draw": "normal"}}, "learning_rate.draw: unknown draw 'normal'; expected uniform or choice"),
    ({"decimals": {"draw": "choice", "from": [2, 3]}}, "decimals: a draw may stand only for"),
    ({"asked": ["dW3"]}, "asked[1]: there is no layer 3"),
    ({"asked": ["z1"], "marks": {"z2": 1}}, "marks.z2: 'z2' is not asked"),
    ({"learning_rate": {"draw": "uniform", "low": 0.11, "high": 0.19, "decimals": 1}}, "no number with 1 decimals"),
    # field paths are 1-based, as the problem reader names them (layers[2].weights, data.inputs[2][2]);
    # the template reader said layers[0].weights[0][1] for W1[1,2] (issue 17: one numbering)
    ({"layers": [{**BATCH_TEMPLATE["layers"][0], "weights": [[U1, {**U1, "bogus": 1}], [U1, U1]]},
                 BATCH_TEMPLATE["layers"][1]]}, "t.yaml: layers[1].weights[1][2].bogus: unknown field"),
    ({"learning_rate": {"draw": "choice", "from": [0.1, "x"]}}, "learning_rate.from[2]: expected a number"),
    ({"allow_zero": ["z1", "b1"]}, "allow_zero[2]: 'b1' is not asked"),
])
def test_bad_templates_are_one_line(tmp_path, capsys, change, line):
    doc = {**BATCH_TEMPLATE, **change}
    path = tmp_path / "t.yaml"
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML: no anchors
    assert main(["exercises", str(path), "--count", "1", "--seed", "1", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and line in err and not (tmp_path / "o").exists()


def test_hostile_student_ids_stay_inside_the_folder(tmp_path):
    assert folder_name("../x", set()) == "_x" and folder_name("a\x01b", set()) == "a_b"
    taken: set = set()
    assert [folder_name(s, taken) for s in ("a/b", "a_b", "A_B", "...", "")] == ["a_b", "a_b-2", "A_B-3", "student",
                                                                                 "student-2"]
    assert len(folder_name("x" * 500, set())) == 64
    roster = tmp_path / "r.csv"
    roster.write_text('student\n../x\n"../../etc/passwd"\n"\x07bell\x00nul"\n/abs\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["exercises", str(BATCH_FILE(tmp_path)), "--roster", str(roster), "--seed", "3", "-o", str(out)]) == 0
    made = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(out.resolve() in p.resolve().parents for p in made if p.name not in ("r.csv", "batch.yaml"))
    rows = manifest(out)
    assert [r["exercise"] for r in rows] == ["_x", "_.._etc_passwd", "_bell_nul", "_abs"]
    assert read_document(out / "_bell_nul" / "answers.yaml")["student"] == "\x07bell\x00nul"


def BATCH_FILE(tmp_path: Path) -> Path:
    path = tmp_path / "batch.yaml"
    path.write_text(json.dumps(BATCH_TEMPLATE), encoding="utf-8")
    return path


def test_roster_without_a_student_column_is_one_line(tmp_path, capsys):
    roster = tmp_path / "r.csv"
    roster.write_text("name\nada\n", encoding="utf-8")
    assert main(["exercises", str(BATCH_FILE(tmp_path)), "--roster", str(roster), "--seed", "3",
                 "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"{roster}: student: no 'student' column (the header has: 'name')\n"


def test_read_set_gives_a_marker_what_was_asked(class_set):
    from deltarule.classroom import read_set

    s = read_set(class_set)
    assert s["asked"] == list(load_template("seed-002").asked) and s["decimals"] == 3
    assert set(s["marks"].values()) == {1.0} and len(s["exercises"]) == 30
    first = s["exercises"]["s01"]
    assert first["student"] == "s01" and first["problem"] == class_set / "s01" / "problem.yaml"


SOFTMAX = {
    "layers": [{"weights": [[U1, U1], [U1, U1]], "biases": [0.0, 0.0], "activation": "sigmoid"},
               {"weights": [[U1, U1], [U1, U1]], "biases": [0.0, 0.0], "activation": "softmax"}],
    "loss": "cross_entropy", "data": {"inputs": [[U1, U1]], "targets": [[1.0, 0.0]]},
    "learning_rate": 1.0, "decimals": 2, "asked": ["dL_da2", "delta2", "dW2"],
}


def test_a_number_that_always_fails_is_refused_early():
    # -y/yhat is 0 for the class that is not the target: dL_da2[2] always shows 0.00
    with pytest.raises(dr.InputError) as e:
        make_one(parse_template(SOFTMAX, "ce.yaml"), 1, "a", "a", "a")
    assert str(e.value).startswith("ce.yaml: asked: no round-safe exercise in 131,072 draws at 2 decimals: "
                                   "dL_da2 is shown as zero in 100% of them")
    ex = make_one(parse_template({**SOFTMAX, "allow_zero": ["dL_da2"]}, "ce.yaml"), 1, "a", "a", "a")
    assert shown(ex.values["dL_da2"], 2)[1] == "0.00" and float(shown(ex.values["delta2"], 2)[0]) < 0
    assert_round_safe_softmax(ex)


def assert_round_safe_softmax(ex) -> None:
    # softmax + cross_entropy: delta2 = yhat - y, computed from the rounded yhat
    p = dr.parse_problem(ex.doc, "p.yaml")
    a2 = [r(v, 2) for v in p.steps(1)[0].values()["a2"]]
    student_delta = [r(a - y, 2) for a, y in zip(a2, p.y[0])]
    assert student_delta == [float(s) for s in shown(ex.values["delta2"], 2)]


@pytest.mark.parametrize("change, line", [
    ({"dtype": "float32"}, "t.yaml: dtype: not in a template (an exercise is worked in float64)"),
    ({"validation": 0.5}, "t.yaml: validation: not in a template"),
])
def test_what_a_template_cannot_hold(change, line):
    with pytest.raises(dr.InputError) as e:
        parse_template({**BATCH_TEMPLATE, **change}, "t.yaml")
    assert str(e.value).startswith(line)


def test_data_from_a_file_is_written_into_each_problem(tmp_path):
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "data.csv").write_text("x1,x2,y\n0.5,-0.5,1\n", encoding="utf-8")
    doc = {**BATCH_TEMPLATE, "data": {"file": "data.csv", "targets": ["y"]}, "asked": ["z1", "dW2"], "marks": {}}
    (tmp_path / "course" / "t.json").write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["exercises", str(tmp_path / "course" / "t.json"), "--count", "1", "--seed", "5", "-o", str(out)]) == 0
    p = dr.load_problem(out / "001" / "problem.yaml")
    assert p.x.tolist() == [[0.5, -0.5]] and p.y.tolist() == [[1.0]]


@pytest.mark.slow
def test_sheet_and_key_compile_with_pdflatex_whatever_the_student_id(tmp_path):
    import subprocess

    from conftest import require_tool

    pdflatex = require_tool("pdflatex")  # CI installs it: there a missing one fails

    roster = tmp_path / "r.csv"
    roster.write_text('student\n"Zoë & <b>#1_%$\\~^{}"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["exercises", str(BATCH_FILE(tmp_path)), "--roster", str(roster), "--seed", "1", "-o", str(out)]) == 0
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    for name in ("sheet.tex", "key.tex"):
        run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", name], cwd=folder,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
    assert "Zoë \\& \\textless{}b\\textgreater{}\\#1" in (folder / "sheet.tex").read_text(encoding="utf-8")


def test_redrawn_targets_must_suit_the_loss():
    from deltarule.classroom.template import _output_range, _targets_fit

    assert _output_range("sigmoid", 1.0) == (0.0, 1.0) and _output_range("tanh", 5.0) == (-1.0, 1.0)
    assert _output_range("identity", 2.5) == (-2.5, 2.5) and _output_range("softmax", 1.0) == (0.0, 1.0)
    one = {"draw": "uniform", "low": 0, "high": 1, "decimals": 1}
    drawn = {**SOFTMAX, "data": {"inputs": [[0.5, 0.5]], "targets": [[one, one]]}}
    drawn["data"]["targets"] = [[{**one, "low": 0.5, "high": 0.5}, {**one, "low": 0.5, "high": 0.5}]]
    assert _targets_fit(parse_template(drawn, "ce.yaml"))          # 0.5 + 0.5: always a probability row
    drawn["data"]["targets"] = [[{**one, "low": 0.4, "high": 0.6}, {**one, "low": 0.4, "high": 0.6}]]
    assert not _targets_fit(parse_template(drawn, "ce.yaml"))      # 0.4 + 0.6 sometimes, 0.4 + 0.4 too


def test_progress_is_reported_after_each_exercise():
    seen = []
    make_set(parse_template(BATCH_TEMPLATE, "batch.yaml"), seed=2, count=3, progress=lambda k, n: seen.append((k, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("activation", [n for n, f in dr.activations.ACTIVATIONS.items() if f.elementwise])
def test_every_elementwise_activation_in_the_registry_gives_round_safe_exercises(activation):
    doc = {"layers": [{"weights": [[U1, U1], [U1, U1]], "biases": [U1, U1], "activation": activation},
                      {"weights": [[U1, U1]], "biases": [U1], "activation": "identity"}],
           "loss": "half_sse", "data": {"inputs": [[U1, U1]], "targets": [[U1]]}, "learning_rate": 0.5,
           "decimals": 2, "asked": ["a1", "fprime1", "delta1", "dW1", "W1_new", "loss_after"]}
    assert_round_safe(make_one(parse_template(doc, "t.yaml"), 11, "a", "a", "a"))


def test_the_afternoon_thirty_filled_in_from_the_keys_with_planted_mistakes_marked(class_set, tmp_path, capsys):
    # the blank answers files, filled in from each key as a student who rounds as told; some
    # with a planted mistake, one left blank in part, one unreadable
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    asked = list(load_template("seed-002").asked)
    expected = {}
    for k, row in enumerate(manifest(class_set)):
        folder = class_set / row["exercise"]
        doc = yaml.safe_load((folder / "answers.yaml").read_text(encoding="utf-8"))
        values = truth_values(dr.load_problem(folder / "problem.yaml"))
        doc["answers"] = {n: np.round(np.asarray(values[n], float), 3).tolist() for n in asked}
        marks = dict.fromkeys(asked, "1")
        if k % 5 == 1:                                  # a slip in one entry of dW2
            doc["answers"]["dW2"][0][0] = round(doc["answers"]["dW2"][0][0] + 0.01, 3)
            marks["dW2"] = "0"
        if k % 7 == 3:                                  # the new biases with the wrong sign
            doc["answers"]["b1_new"] = [-v for v in doc["answers"]["b1_new"]]
            marks["b1_new"] = "0"
        if k == 28:                                     # loss_after left blank
            doc["answers"]["loss_after"] = None
            marks["loss_after"] = "0"
        if k == 29:
            doc["answers"]["loss"] = "about a third"    # unreadable: one line, the others still marked
            marks = None
        (inbox / f"mail-{k:02d}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        expected[row["exercise"]] = marks
    grades, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    rc = main(["check", str(class_set), *sorted(map(str, inbox.iterdir())), "--gradebook", str(grades),
               "--feedback", str(feedback)])
    err = capsys.readouterr().err
    assert rc == 1 and err == f"{inbox / 'mail-29.yaml'}: answers.loss: expected a number, got the text 'about a third'\n"
    with open(grades, encoding="utf-8", newline="") as fh:
        book = list(csv.DictReader(fh))
    assert list(book[0]) == ["student", "exercise", *asked, "total", "out_of", "percent"] and len(book) == 30
    for row in book:
        marks = expected[row["exercise"]]
        if marks is None:
            assert row["total"] == "unreadable"
            continue
        assert {n: row[n] for n in asked} == marks, row["exercise"]
        total = sum(int(m) for m in marks.values())
        assert (row["total"], row["out_of"], row["percent"]) == (str(total), "21", f"{100 * total / 21:.1f}")
    assert sum(r["total"] == "21" for r in book) == 30 - 6 - 4 - 1 - 1  # all right but the planted ones
    assert len(list(feedback.glob("*.html"))) == 29 and len(list(feedback.glob("*.md"))) == 29


def test_a_roster_that_is_a_device_or_a_fifo_is_one_line_at_once(tmp_path, capsys):
    require(os.path.exists("/dev/zero") and hasattr(os, "mkfifo"), "needs /dev/zero and FIFOs (POSIX)")
    # a roster is read like every other file: regular files only, bounded while reading
    # (/dev/zero would be read until memory runs out; a FIFO would block forever)
    fifo = tmp_path / "roster.csv"
    os.mkfifo(fifo)
    for roster in ("/dev/zero", str(fifo)):
        assert main(["exercises", "seed-002", "--roster", roster, "--seed", "1", "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and roster in err and "not a regular file" in err
