"""Marking a class: `deltarule check PROBLEM|DIR SUBMISSION... --gradebook F --feedback D`."""
import csv
import io

import numpy as np
import yaml

import deltarule as dr
from deltarule.check.answers import blank, shown_truth
from deltarule.cli import main

S2 = dr.load_problem("seed-002")


def true_answers(problem, decimals=3):
    step = problem.steps(1)[0]
    return {n: np.round(np.asarray(shown_truth(step, n), float), decimals).tolist() for n in blank(step)}


def slipped(answers):
    """sigma(z1) for sigma'(z1) (seed 002, 3 decimals): fprime1 = a1 = [0.593, 0.597], delta1 = dL_da1 a1
    = [0.019 x 0.593, 0.021 x 0.597] -> [0.011, 0.013]; then correctly from it db1 = delta1,
    dW1 = delta1 x^T = [[0.011 x 0.05, 0.011 x 0.1], [0.013 x 0.05, 0.013 x 0.1]] -> [[0.001, 0.001],
    [0.001, 0.001]], b1_new = 0.35 - 0.5 x [0.011, 0.013] = [0.3445, 0.3435] -> [0.345, 0.344]; W1_new
    = W1 - 0.5 dW1 stays [[0.150, 0.200], [0.250, 0.300]] at 3 decimals: the true value."""
    out = dict(answers)
    out["fprime1"] = list(out["a1"])
    out["delta1"] = [0.011, 0.013]
    out["db1"] = [0.011, 0.013]
    out["dW1"] = [[0.001, 0.001], [0.001, 0.001]]
    out["b1_new"] = [0.345, 0.344]
    return out


def rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_a_class_against_one_problem(tmp_path, capsys):
    truth = true_answers(S2)
    files = []
    for student, answers in (("ann", truth), ("bob", slipped(truth))):
        f = tmp_path / f"{student}.yaml"
        # a problem: in a submission is ignored when PROBLEM is given: never opened
        f.write_text(yaml.safe_dump({"student": student, "problem": "/etc/passwd", "decimals": 3, "answers": answers}))
        files.append(str(f))
    (tmp_path / "cid.yaml").write_text("student: cid\nanswers: [1\n")
    files.append(str(tmp_path / "cid.yaml"))
    gb = tmp_path / "grades.csv"
    rc = main(["check", "seed-002", *files, "--gradebook", str(gb), "--feedback", str(tmp_path / "fb"),
               "--follow-through-credit", "0.5"])
    out, err = capsys.readouterr()
    assert rc == 1 and err.count("\n") == 1 and err.startswith(f"{tmp_path / 'cid.yaml'}: ")
    ann, bob, cid = rows(gb)
    assert list(ann)[:2] == ["student", "exercise"] and list(ann)[-3:] == ["total", "out_of", "percent"]
    assert len(ann) == 2 + 21 + 3  # 21 names of one update of a 2-2-1 network
    assert (ann["total"], ann["out_of"], ann["percent"]) == ("21", "21", "100.0")
    # bob: fprime1 wrong (0); delta1 = dL_da1 fprime1 follows from it, and db1, dW1, b1_new from delta1
    # (0.5 each); W1_new is the true value at 3 decimals (1): 21 - 1 - 4 x 0.5 = 18 of 21 = 85.7 %
    assert (bob["fprime1"], bob["delta1"], bob["db1"], bob["dW1"], bob["b1_new"], bob["W1_new"]) == \
        ("0", "0.50", "0.50", "0.50", "0.50", "1")
    assert (bob["total"], bob["percent"]) == ("18", "85.7")
    assert (cid["student"], cid["total"], cid["percent"]) == ("cid", "unreadable", "")
    page = (tmp_path / "fb" / "bob.html").read_text()
    assert "σ(z1) used for σ&#x27;(z1)" in page and "18 of 21" in page and "worked solution" in page
    assert "follows from your fprime1" in (tmp_path / "fb" / "bob.md").read_text()
    assert not (tmp_path / "fb" / "cid.html").exists()
    assert "ann    21 of 21\n" in out and "bob    18 of 21\n" in out


def test_a_class_against_an_exercises_folder(tmp_path, capsys):
    (tmp_path / "roster.csv").write_text("student\nann\nbob\n")
    assert main(["exercises", "seed-002", "--roster", str(tmp_path / "roster.csv"), "--seed", "7",
                 "-o", str(tmp_path / "set")]) == 0
    capsys.readouterr()
    inbox = tmp_path / "inbox"  # handed back by mail: anywhere, any name
    inbox.mkdir()
    for student in ("ann", "bob"):
        doc = yaml.safe_load((tmp_path / "set" / student / "answers.yaml").read_text())
        doc["answers"] = true_answers(dr.load_problem(tmp_path / "set" / student / "problem.yaml"))
        (inbox / f"mail-{student}.yaml").write_text(yaml.safe_dump(doc))
    (inbox / "eve.yaml").write_text("student: eve\nanswers: {z1: [0.1, 0.2]}\n")
    gb = tmp_path / "grades.csv"
    rc = main(["check", str(tmp_path / "set"), *sorted(map(str, inbox.iterdir())), "--gradebook", str(gb)])
    out, err = capsys.readouterr()
    assert rc == 1  # eve is in no manifest: unreadable
    assert err == f"{inbox / 'eve.yaml'}: exercise: no exercise (none) or student eve in the set's manifest\n"
    book = {r["student"]: r for r in rows(gb)}
    assert book["ann"]["percent"] == "100.0" and book["bob"]["percent"] == "100.0"
    assert book["eve"]["total"] == "unreadable"
    # only the two good ones: exit 0
    assert main(["check", str(tmp_path / "set"), str(inbox / "mail-ann.yaml"), str(inbox / "mail-bob.yaml"),
                 "--gradebook", str(gb)]) == 0


def test_nothing_markable_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("answers: 3\n")
    assert main(["check", "seed-002", str(bad), "--gradebook", str(tmp_path / "g.csv")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(f"{bad}: answers: expected a mapping") and len(err.splitlines()) == 2
    assert not (tmp_path / "g.csv").exists()
    assert main(["check", "seed-002", str(bad), "--gradebook", str(tmp_path / "g.csv"),
                 "--follow-through-credit", "2"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
