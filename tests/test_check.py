"""deltarule check: tolerance, follow-through, diagnoses, answers-file validation, output."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import deltarule as dr
from deltarule import examples
from deltarule.activations import sigmoid
from deltarule.check import Evaluator, Graph, half_unit
from deltarule.cli import main
from deltarule.explain import check_report

S2 = dr.load_problem("seed-002")        # 2-2-1, half_sse, eta 0.5, one example
S3 = dr.load_problem("seed-003-as-computed")  # 2-2-2 (square W2), half_sse, eta 0.6
V2 = S2.steps(1)[0].values()
V3 = S3.steps(1)[0].values()


def claim(problem, answers, decimals=4):
    """Check claims rounded to ``decimals`` (the student's rounding)."""
    rounded = {k: np.round(np.asarray(v, float), decimals).tolist() for k, v in answers.items()}
    return dr.check(problem, {"decimals": decimals, "answers": rounded})


def only(report):
    (v,) = report.verdicts
    return v


# -- tolerance -------------------------------------------------------------------------------------------
def test_half_a_unit_ties_right_and_no_more():
    z = float(V2["z1"][0])  # 0.3775
    at = lambda c: only(dr.check(S2, {"decimals": 3, "answers": {"z1[1]": c}}))  # noqa: E731
    assert at(z + 0.0005).right and at(z - 0.0005).right          # ties count as right
    assert not at(z + 0.0005 * (1 + 1e-6)).right and not at(z - 0.00051).right
    assert half_unit(2) == 0.005


def test_decimals_from_answers_else_problem_else_3(tmp_path):
    assert abs(float(V2["a1"][0]) - 0.593269) < 1e-6
    # 0.5933 is right at 4 decimals (|diff| 3.1e-5 <= 5e-5), and so is 0.59 at 2 decimals
    assert only(dr.check(S2, {"decimals": 4, "answers": {"a1[1]": 0.5933}})).right
    assert only(dr.check(S2, {"decimals": 2, "answers": {"a1[1]": 0.59}})).right
    assert not only(dr.check(S2, {"decimals": 4, "answers": {"a1[1]": 0.59}})).right
    # no decimals in the answers: the problem's (seed-003: 2)
    assert only(dr.check("seed-003", {"z2[1]": 1.02})).decimals == 2
    # neither: 3
    p = tmp_path / "p.yaml"
    p.write_text(examples.text("seed-002").replace("decimals: 3\n", ""))
    v = only(dr.check(str(p), {"a1[1]": 0.593}))
    assert v.decimals == 3 and v.right
    assert "±0.0005 at 3 decimals" in dr.check(str(p), {"a1[1]": 0.593}).tolerance


def test_per_entry_decimals():
    # loss 0.03159 at 5 decimals is right; 0.0316 stated to 5 decimals is not (true 0.031593)
    assert only(dr.check(S2, {"answers": {"loss": {"value": 0.03159, "decimals": 5}}})).right
    assert not only(dr.check(S2, {"answers": {"loss": {"value": 0.0317, "decimals": 5}}})).right


# -- follow-through ----------------------------------------------------------------------------------------
def test_graph_without_claims_reproduces_the_core():
    """Follow-through with nothing claimed is the engine's own numbers, for every name."""
    for name in ("seed-002", "seed-003", "seed-004-example-3", "seed-004-example-3-stochastic"):
        p = dr.load_problem(name)
        steps = p.steps(3)
        ev = Evaluator(Graph(p, steps), [])
        for k, step in enumerate(steps, start=1):
            for key in step.values():
                if key[0] in "Wb" and not key.endswith("_new") or key == "a0":
                    continue
                np.testing.assert_allclose(ev.value((k, key)), ev.g.truth((k, key)), rtol=1e-12, atol=1e-15)


def test_graph_reproduces_fused_and_softmax_outputs():
    for loss, act in (("bce", "sigmoid"), ("cross_entropy", "softmax"), ("mse", "relu")):
        net = dr.Network([dr.Layer([[0.3, -0.2], [0.1, 0.4]], [0.1, -0.1], "tanh"),
                          dr.Layer([[0.5, -0.6], [0.2, 0.7]], [0.0, 0.1], act)], loss)
        p = dr.Problem(net, np.array([[0.5, 1.0], [1.0, -1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), 0.5)
        steps = p.steps(2)
        ev = Evaluator(Graph(p, steps), [])
        for k, step in enumerate(steps, start=1):
            for key in ("z1", "a2", "loss", "dL_da2", "delta2", "delta1", "dW1", "db2", "W1_new", "loss_after"):
                np.testing.assert_allclose(ev.value((k, key)), ev.g.truth((k, key)), rtol=1e-9, atol=1e-12)


def test_one_early_slip_does_not_mark_the_rest_wrong():
    # Amira: delta1 with sigma(z) for sigma'(z), then dW1 = delta1 x^T and W1_new = W1 - 0.5 dW1
    # correctly from it
    d1 = V2["dL_da1"] * V2["a1"]
    dW1 = np.outer(d1, V2["a0"])
    r = claim(S2, {"dL_da1": V2["dL_da1"], "delta1": d1, "dW1": dW1, "W1_new": V2["W1"] - 0.5 * dW1})
    assert r["dL_da1"].basis == "true value"
    assert not r["delta1"].right and "σ(z1) used for σ'(z1)" in r["delta1"].note
    assert r["dW1"].basis == "follow-through from delta1"
    assert r["W1_new"].basis == "follow-through from dW1"
    assert "follows from your delta1" in r["dW1"].note
    assert (r.right, r.wrong) == (3, 1)


def test_follow_through_band_from_rounded_inputs():
    # seed 003 (2 decimals): delta2 = [0.13, -0.03] gives dL_da1 = W2^T delta2 = [0.044, 0.054];
    # a claimed 0.05 is 0.006 away, more than half a unit, but delta2's own rounding (+-0.005)
    # moves dL_da1[1] by up to 0.5 x 0.005 + 0.7 x 0.005 = 0.006: right by follow-through.
    assert abs(0.05 - (0.5 * 0.13 - 0.7 * 0.03)) > 0.005
    # (with half_mse, the loss seed 003 states, the true dL_da1[1] is 0.023: no help there)
    r = dr.check("seed-003", {"decimals": 2, "answers": {"delta2": [0.13, -0.03], "dL_da1[1]": 0.05}})
    assert r["dL_da1[1]"].basis == "follow-through from delta2"
    # 0.06 is beyond 0.006 + 0.005 = 0.011 from 0.044: wrong
    r = dr.check("seed-003", {"decimals": 2, "answers": {"delta2": [0.13, -0.03], "dL_da1[1]": 0.06}})
    assert not r["dL_da1[1]"].right


def test_follow_through_across_updates():
    # step 2's z1 follows from the claimed step-1 W1_new and b1_new (seed-002 section 7)
    r = dr.check(S2, {"decimals": 3, "answers": {"W1_new": [[0.15, 0.2], [0.25, 0.3]],
                                                 "b1_new": [0.348, 0.348], "step2.z1": [0.376, 0.390]}})
    assert r["step2.z1"].basis == "follow-through from b1_new"


# -- diagnoses (each mistake made on the side with the core's numbers, rounded to 4 decimals) ---------------
def test_loss_convention_factor_2_outputs():
    # seed 003 with half_mse (1/2 * 1/K sum): dL/da2 = (a2 - y)/2; the student used a2 - y
    p = dr.load_problem("seed-003")
    v = p.steps(1)[0].values()
    note = only(claim(p, {"dL_da2": v["a2"] - np.array([0.05, 0.95])})).note
    assert "half_sse" in note and "a factor 2" in note
    note = only(claim(S2, {"loss": 2 * V2["loss"]})).note  # sse for half_sse
    assert "another loss convention: sse" in note and "a factor 2" in note


def test_loss_convention_sum_over_examples():
    p = dr.load_problem("seed-004-example-3")  # mean over 3 examples
    v = p.steps(1)[0].values()
    note = only(claim(p, {"dW1": 3 * v["dW1"]})).note
    assert "summed over the 3 examples instead of averaged" in note and "a factor 3" in note


def test_sigma_of_z_for_sigma_prime():
    note = only(claim(S2, {"delta1": V2["dL_da1"] * V2["a1"]})).note
    assert "σ(z1) used for σ'(z1)" in note


def test_sigma_prime_of_the_wrong_quantity():
    a, z = V2["a1"], V2["z1"]
    note = only(claim(S2, {"delta1": V2["dL_da1"] * sigmoid(a) * (1 - sigmoid(a))})).note
    assert "σ' taken of a1 instead of z1" in note
    note = only(claim(S2, {"delta1": V2["dL_da1"] * z * (1 - z)})).note
    assert "with z1 in place of a1" in note


def test_sign_error():
    assert "a sign error" in only(claim(S2, {"delta2": -V2["delta2"]})).note
    assert "a sign error in the update" in only(claim(S2, {"W2_new": V2["W2"] + 0.5 * V2["dW2"]})).note


def test_learning_rate_left_out_or_wrong():
    assert "η = 0.5 left out" in only(claim(S2, {"W2_new": V2["W2"] - V2["dW2"]})).note
    assert "η = 0.3 used instead of 0.6" in only(claim(S3, {"W2_new": V3["W2"] - 0.3 * V3["dW2"]})).note


def test_wrong_layers_activations():
    note = only(claim(S3, {"dW2": np.outer(V3["delta2"], V3["a0"])})).note
    assert "the wrong layer's activations: the input x (a0) used where a1 belongs" in note


def test_transposed_matrix():
    assert "a transposed matrix" in only(claim(S3, {"dW2": V3["dW2"].T})).note
    note = only(claim(S3, {"dL_da1": V3["W2"] @ V3["delta2"]})).note
    assert "W2 used without transposing" in note


def test_bias_not_updated():
    assert "the bias not updated" in only(claim(S3, {"b2_new": V3["b2"]})).note


def test_hidden_deltas_from_updated_weights():
    note = only(claim(S3, {"dL_da1": V3["W2_new"].T @ V3["delta2"]})).note
    assert "already-updated weights W2_new" in note
    # and further down: delta1 from those, unclaimed dL_da1 in between
    d1 = (V3["W2_new"].T @ V3["delta2"]) * V3["a1"] * (1 - V3["a1"])
    assert "already-updated weights W2_new instead of W2, in dL_da1" in only(claim(S3, {"delta1": d1})).note


def test_unrecognised_gets_the_expected_value_and_its_inputs():
    note = only(dr.check(S2, {"decimals": 3, "answers": {"z1": [0.9, 0.9]}})).note
    # z1[2] = 0.25 x 0.05 + 0.30 x 0.10 + 0.35 = 0.3925: halves round away from zero, as solve shows it
    assert note.startswith("should be [0.378, 0.393] = W1 a0 + b1")
    assert "a0 = [0.050, 0.100]" in note and "W1 = [[0.150, 0.200], [0.250, 0.300]]" in note


# -- answers files: validation -------------------------------------------------------------------------------
BAD = [
    ("answers: {dW9: 1}", "answers.dW9: unknown name 'dW9': there is no layer 9"),
    ("answers: {W1: [[1, 2], [3, 4]]}", "answers.W1: unknown name 'W1'"),
    ("answers: {z1: [0.1]}", "answers.z1: expected 2 numbers, got 1"),
    ("answers: {z1: [a, 0.1]}", "answers.z1[1]: expected a number, got the text 'a'"),
    ("answers: {W1_new: [0.1, 0.2, 0.3, 0.4]}", "answers.W1_new: expected 2 rows of 2 numbers"),
    ("answers: {z1: [.nan, 0.1]}", "answers.z1[1]: expected a finite number"),
    ("answers: [1, 2]", "answers: expected a mapping of names to numbers, got a list"),
    ("answers: {}", "answers: expected a mapping of names to numbers, got an empty mapping"),
    ("decimals: -1\nanswers: {z1: [0.1, 0.2]}", "decimals: must be at least 0"),
    ("answers:\n  dW1[3,1]: 0.1", "answers.dW1[3,1]: index out of range"),
    ("answers:\n  loss[1]: 0.1", "answers.loss[1]: loss is a number: give no index"),
    ("answers: {z1: {value: [0.1, 0.2], decimal: 3}}", "answers.z1.decimal: unknown field"),
    ("answers: {step0.z1: [0.1, 0.2]}", "answers.step0.z1: updates are numbered"),
    ("answer: {z1: [0.1, 0.2]}", "answer: unknown field (did you mean 'answers'?)"),
    # Arabic-Indic and fullwidth digits: int() reads them, but no name has them
    ("answers: {z\u0661: [0.1, 0.2]}", "answers.z\u0661: unknown name 'z\u0661'"),
    ("answers: {'dW1[\uff11,1]': 0.1}", "answers.dW1[\uff11,1]: unknown name"),
    ("answers: {step\u0662.z1: [0.1, 0.2]}", "answers.step\u0662.z1: unknown name"),
]


@pytest.mark.parametrize("body, message", BAD)
def test_bad_answers_one_line_exit_2(tmp_path, capsys, body, message):
    (tmp_path / "p.yaml").write_text(examples.text("seed-002"))
    a = tmp_path / "a.yaml"
    a.write_text("problem: p.yaml\n" + body + "\n")
    assert main(["check", str(a)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{a}: {message}"), err


def test_missing_or_unknown_problem(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text("answers: {z1: [0.1, 0.2]}\n")
    assert main(["check", str(a)]) == 2
    assert capsys.readouterr().err == f"{a}: problem: missing field 'problem' (or give PROBLEM on the command line)\n"
    a.write_text("problem: nope.yaml\nanswers: {z1: [0.1, 0.2]}\n")
    assert main(["check", str(a)]) == 2
    assert "problem: no such file" in capsys.readouterr().err
    assert main(["check", "seed-002", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err.endswith("none.yaml: no such file\n")


def test_problem_relative_to_answers_file_and_command_line_wins(tmp_path, capsys, monkeypatch):
    sub = tmp_path / "week6"
    sub.mkdir()
    (sub / "net.yaml").write_text(examples.text("seed-003"))
    (sub / "mine.yaml").write_text("problem: net.yaml\ndecimals: 2\nanswers:\n  dL_da2: [0.68, -0.17]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "week6/mine.yaml"]) == 1               # half_mse: factor 2
    assert main(["check", "seed-003-as-computed", "week6/mine.yaml"]) == 0  # half_sse: right
    # a problem: that names a built-in example, with or without .yaml
    (sub / "ex.yaml").write_text("problem: seed-003-as-computed.yaml\nanswers:\n  dL_da2: [0.68, -0.17]\n")
    assert main(["check", "week6/ex.yaml"]) == 0
    capsys.readouterr()


def test_lenient_shapes():
    # a 1x1 matrix as a number, a vector as one row, a one-row matrix as a list, a number as a list
    r = dr.check(S2, {"decimals": 3, "answers": {"z2": 1.106, "z1": [[0.378, 0.393]],
                                                 "dW2": [0.028, 0.028], "loss": [0.032]}})
    assert r.ok
    # from Python, numpy arrays and scalars straight from a trace
    r = dr.check(S2, {"z1": V2["z1"], "loss": np.float64(V2["loss"]), "dW1": {"value": V2["dW1"], "decimals": 9}})
    assert r.ok and r["dW1"].decimals == 9


# -- output ---------------------------------------------------------------------------------------------------
def test_report_renders_in_jupyter_and_terminal():
    r = claim(S2, {"z1": V2["z1"], "delta1": V2["dL_da1"] * V2["a1"]})
    html = r._repr_html_()
    assert "<table>" in html and "σ(z1) used for σ&#x27;(z1)" in html and "WRONG" in html
    md = r._repr_markdown_()
    assert "| `delta1` |" in md and "±0.00005 at 4 decimals" in md
    from rich.console import Console

    console = Console(record=True, width=200, force_terminal=True)
    console.print(r)
    text = console.export_text()
    assert "delta1" in text and "WRONG" in text and "1 right, 1 wrong" in text
    assert r.to_json()["wrong"] == 1 and not r.ok


def test_expected_column_rounds_as_solve_does(tmp_path, capsys):
    # seed 002: z1[2] = 0.25 x 0.05 + 0.30 x 0.10 + 0.35 = 0.3925 (the float is 0.39249999999999996);
    # the worked solution shows 0.393 (halves away from zero), and so must check's expected column
    assert "0.393" in dr.solve("seed-002").to_text()
    a = tmp_path / "a.yaml"
    a.write_text("problem: seed-002\ndecimals: 3\nanswers:\n  z1[2]: 0.5\n  z1: [0.378, 0.5]\n")
    assert main(["check", str(a)]) == 1
    out = capsys.readouterr().out
    assert "should be 0.393" in out and "entry [2]: 0.500, should be 0.393" in out and "0.392" not in out
    # the expected column (Markdown and HTML keep one)
    assert main(["check", str(a), "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    assert "| `z1[2]` | 0.500 | 0.393 | WRONG |" in md and "| `z1` | [0.378, 0.500] | [0.378, 0.393] | WRONG |" in md


def test_cli_is_a_real_command():
    out = subprocess.run([sys.executable, "-m", "deltarule", "check", "seed-003",
                          "tests/answers/seed-003.answers.yaml", "--format", "json"],
                         capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert out.returncode == 1 and json.loads(out.stdout)["wrong"] == 2 and out.stderr == ""


def test_absurd_claims_are_wrong_without_warnings():
    # pytest turns RuntimeWarning into errors: overflowing follow-through must stay quiet
    r = dr.check(S2, {"a1": [1e300, -1e300], "z2": [5], "loss": 1e308,
                      "W1_new": [[1e308, 1], [1, 1]], "step2.z1": [1, 1]})
    assert r.wrong == 5
    assert "inf" in r["step2.z1"].note and "1.000e+308" in check_report.text(r)


# -- confinement: an answers file names only files in its own folder (issue 12.18) --------------------------
def test_problem_outside_the_answers_folder_is_refused_unread(tmp_path, capsys, monkeypatch):
    outside = tmp_path / "lecturer"
    outside.mkdir()
    (outside / "secret.yaml").write_text("root:x:0:0:SECRET-LINE\n")
    (outside / "p.yaml").write_text(examples.text("seed-002"))
    sub = tmp_path / "student"
    sub.mkdir()
    (sub / "link.yaml").symlink_to(outside / "secret.yaml")
    a = sub / "a.yaml"
    refusal = (f"{a}: problem: the problem file must be in the answers file's folder (or one below it), "
               f"or a built-in example name (or pass --allow-outside)\n")
    for ref in ("/etc/passwd", str(outside / "secret.yaml"), "../lecturer/secret.yaml", "link.yaml",
                "../lecturer/p.yaml", "../lecturer/none.yaml"):
        a.write_text(f"problem: {ref}\nanswers: {{z1: [0.378, 0.393]}}\n")
        assert main(["check", str(a)]) == 2, ref
        out, err = capsys.readouterr()
        assert err == refusal and out == "", (ref, err)
    with pytest.raises(dr.InputError, match="answers file's folder"):
        dr.check(str(a))
    # a problem given on the command line wins: the file's problem: is never opened
    a.write_text("problem: /etc/passwd\nanswers: {z1: [0.378, 0.393]}\n")
    assert main(["check", "seed-002", str(a)]) == 0
    assert capsys.readouterr().err == ""
    # the user opts in: then the lecturer's problem is read (z1 = [0.3775, 0.3925] -> right)
    assert main(["check", str(a), "--allow-outside"]) == 2  # none.yaml: no such file
    a.write_text("problem: ../lecturer/p.yaml\nanswers: {z1: [0.378, 0.393]}\n")
    assert main(["check", str(a), "--allow-outside"]) == 0
    assert dr.check(str(a), allow_outside=True).right == 1
    # inside the folder (also below it, also by an absolute path) and built-in names stay valid
    (sub / "week6").mkdir()
    (sub / "week6" / "p.yaml").write_text(examples.text("seed-002"))
    for ref in ("week6/p.yaml", str(sub / "week6" / "p.yaml"), "seed-002", "seed-002.yaml"):
        a.write_text(f"problem: {ref}\nanswers: {{z1: [0.378, 0.393]}}\n")
        assert main(["check", str(a)]) == 0, ref
    capsys.readouterr()


def test_errors_never_echo_a_files_content(tmp_path, capsys):
    # a file that is not an answers file at all: say what it is, not what it says
    a = tmp_path / "a.yaml"
    a.write_text("root:x:0:0:SECRET-LINE\n")
    assert main(["check", "seed-002", str(a)]) == 2
    assert capsys.readouterr().err == f"{a}: expected an answers file (a mapping with problem, decimals, answers), got a text\n"
    a.write_text("- SECRET-LINE\n")
    assert main(["check", "seed-002", str(a)]) == 2
    assert capsys.readouterr().err.endswith("got a list\n")


def test_markdown_and_html_reports_from_the_command_line(capsys):
    answers = str(Path(__file__).parent / "answers" / "seed-003.answers.yaml")
    assert main(["check", answers, "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    # half_mse: dL/da2 = (a2 - y)/2 = ([0.73, 0.78] - [0.05, 0.95])/2 = [0.34, -0.09]; they wrote a2 - y
    assert "| `dL_da2` | [0.68, -0.17] | [0.34, -0.09] | WRONG | should be [0.34, -0.09]" in md
    assert "| `z1` | [0.41, 0.47] | [0.41, 0.47] | right |" in md
    assert md.startswith("**14 right, 2 wrong") and "±0.005 at 2 decimals" in md
    assert main(["check", answers, "--format", "html"]) == 1
    page = capsys.readouterr().out
    from html.parser import HTMLParser

    cells = []

    class Cells(HTMLParser):
        def handle_data(self, data):
            cells.append(data)

    Cells().feed(page)
    i = cells.index("dL_da2")
    assert cells[i:i + 4] == ["dL_da2", "[0.68, -0.17]", "[0.34, -0.09]", "WRONG"]
    assert page.startswith("<!DOCTYPE html>") and page.count("<tr>") == 16 + 1


def test_a_few_wrong_entries_are_pointed_at():
    # seed 003 as computed: W2_new = W2 - 0.6 dW2 = [[0.5 - 0.6 x 0.0802, 0.6 - 0.6 x 0.0821],
    # [0.7 + 0.6 x 0.0176, 0.8 + 0.6 x 0.0180]] = [[0.452, 0.551], [0.711, 0.811]]; one slip at [2,2]
    note = only(dr.check(S3, {"decimals": 3, "answers": {"W2_new": [[0.452, 0.551], [0.711, 0.813]]}})).note
    assert note.startswith("entry [2,2]: 0.813, should be 0.811 = W2 - 0.6 dW2") and "0.452" not in note.split("=")[0]
    # their dW2[1,1] = 0.090 (true 0.0802): W2_new[1,1] = 0.5 - 0.6 x 0.090 = 0.446 follows; 0.440 does not
    r = dr.check(S3, {"decimals": 3, "answers": {"dW2": [[0.090, 0.082], [-0.018, -0.018]],
                                                 "W2_new": [[0.440, 0.551], [0.711, 0.811]]}})
    assert r["W2_new"].note.startswith("entry [1,1]: 0.440, should be 0.452 (0.446 from your dW2)")
    assert r["dW2"].note.startswith("entry [1,1]: 0.090, should be 0.080")
    # every entry wrong: the whole value, as before
    note = only(dr.check(S3, {"decimals": 3, "answers": {"W2_new": [[0.1, 0.1], [0.1, 0.1]]}})).note
    assert note.startswith("should be [[0.452, 0.551], [0.711, 0.811]]")


def test_a_diagnosis_only_when_it_is_told_apart_from_the_right_work():
    # seed 002 with a tanh hidden layer: z1 = [0.3775, 0.3925], a1 = tanh(z1) = [0.3605, 0.3735],
    # dL_da1 = [0.01746, 0.01964]; delta1 = dL_da1 (1 - a1^2) = [0.01519, 0.01690], while the
    # mistake "1 - z1^2" gives [0.01497, 0.01661]: 0.0002 and 0.0003 apart, less than the
    # 3-decimal rounding (0.0005) can move a number. A claim of [0.0146, 0.0162] is wrong (0.0006,
    # 0.0007 off) and nearer the mistake, but the mistake cannot be told apart from the right work
    doc = yaml.safe_load(examples.text("seed-002"))
    doc["layers"][0]["activation"] = "tanh"
    p = dr.parse_problem(doc)
    v = p.steps(1)[0].values()
    np.testing.assert_allclose(v["delta1"], v["dL_da1"] * (1 - v["a1"] ** 2))
    assert np.abs(v["dL_da1"] * (1 - v["z1"] ** 2) - v["delta1"]).max() < 0.0005
    verdict = only(dr.check(p, {"decimals": 3, "answers": {"delta1": [0.0146, 0.0162]}}))
    assert not verdict.right and "in place of" not in verdict.note
    assert verdict.note.startswith("should be [0.015, 0.017] = dL_da1 * tanh'(z1), with")
    # at 4 decimals the two are 2 and 3 units apart: the same mistake made there is named
    note = only(claim(p, {"delta1": v["dL_da1"] * (1 - v["z1"] ** 2)})).note
    assert "tanh'(z1) computed with z1 in place of a1" in note


def test_template_prints_a_blank_answers_file_that_check_reads(tmp_path, capsys):
    assert main(["check", "--template", "seed-002"]) == 0
    text = capsys.readouterr().out
    doc = yaml.safe_load(text)
    assert doc["problem"] == "seed-002" and doc["decimals"] == 3
    # 2 layers: z, a per layer (4), losses, loss, then dL_da, fprime, delta, dW, db per layer (10),
    # W_new, b_new per layer (4), loss_after
    names = ["z1", "a1", "z2", "a2", "losses", "loss", "dL_da2", "fprime2", "delta2", "dW2", "db2", "dL_da1",
             "fprime1", "delta1", "dW1", "db1", "W1_new", "b1_new", "W2_new", "b2_new", "loss_after"]
    assert list(doc["answers"]) == names
    assert doc["answers"]["dW1"] == [[None, None], [None, None]] and doc["answers"]["z2"] == [None]
    step = S2.steps(1)[0]
    truth = {**V2, "fprime1": step.trace.layers[0].fprime[0], "fprime2": step.trace.layers[1].fprime[0],
             "losses": step.trace.per_example_loss}
    for name in names:
        assert np.shape(doc["answers"][name]) == np.shape(truth[name])
    assert doc["answers"]["losses"] == [None] and doc["answers"]["fprime1"] == [None, None]
    # filled with the true values at 3 decimals: every number right
    filled = {**doc, "answers": {n: np.round(np.asarray(truth[n], float), 3).tolist() for n in names}}
    assert dr.check(filled).right == 21
    # a blank left in place is not judged; a file of nothing but blanks is one line, exit 2
    doc["answers"]["z1"] = [0.378, None]
    a = tmp_path / "a.yaml"
    a.write_text(yaml.safe_dump(doc))
    r = dr.check(str(a))
    assert len(r.verdicts) == 1 and r["z1"].right and r["z1"].claimed == [0.378, None]
    assert main(["check", str(a)]) == 0
    assert "[0.378, null]" in capsys.readouterr().out
    doc["answers"]["z1"] = [0.9, None]
    a.write_text(yaml.safe_dump(doc))
    # only the entry given is wrong: 0.3775 -> 0.378
    assert dr.check(str(a))["z1"].note.startswith("entry [1]: 0.900, should be 0.378")
    a.write_text(text)
    assert main(["check", str(a)]) == 2
    assert capsys.readouterr().err == f"{a}: answers: every answer is null: fill in at least one number\n"
    # a batch: per-example rows, one per example
    assert main(["check", "--template", "seed-004-example-3"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["answers"]["delta1"] == [[None], [None], [None]]


def test_student_and_exercise_are_carried(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text("student: s1234\nexercise: 7\nproblem: seed-002\nanswers: {z1: [0.378, 0.393]}\n")
    r = dr.check(str(a))
    assert (r.student, r.exercise, r.right) == ("s1234", "7", 1)
    a.write_text("student: [1]\nproblem: seed-002\nanswers: {z1: [0.378, 0.393]}\n")
    assert main(["check", str(a)]) == 2
    assert capsys.readouterr().err == f"{a}: student: expected a name or a number, got a list\n"


def test_answers_read_through_the_bounded_reader(tmp_path, capsys):
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)  # would block forever if opened for a plain read
    assert main(["check", "seed-002", str(fifo)]) == 2
    assert capsys.readouterr().err == f"{fifo}: is a FIFO (a pipe), not a regular file\n"
    a = tmp_path / "a.yaml"
    a.write_text("problem: /dev/zero\nanswers: {z1: [0.1, 0.2]}\n")
    assert main(["check", str(a), "--allow-outside"]) == 2
    assert capsys.readouterr().err == "/dev/zero: is a device, not a regular file\n"


# -- the notes' per-example delta convention (seed 000, seed 004 example 3) --------------------------------
S4 = dr.load_problem("seed-004-example-3")  # w = 0.5, b = 0, sse, mean over x = 1, 2, 3 (y = 0, 1, 1)


def test_per_example_deltas_with_averaged_gradients_are_right():
    # each example's own delta: 2 (yhat_i - y_i) yhat_i (1 - yhat_i) with yhat = [0.6225, 0.7311, 0.8176]:
    # [0.2926, -0.1058, -0.0544]; the batch loss's delta is a third of that: [0.0975, -0.0353, -0.0181].
    # dW1 = (0.2926 x 1 - 0.1058 x 2 - 0.0544 x 3)/3 = -0.0274, db1 = (0.2926 - 0.1058 - 0.0544)/3 = 0.0441;
    # each example's own dL/da = 2 (yhat_i - y_i) = [1.2449, -0.5379, -0.3649]
    per_example = [[0.2926], [-0.1058], [-0.0544]]
    np.testing.assert_allclose(3 * S4.steps(1)[0].values()["delta1"], per_example, atol=5e-5)
    r = dr.check(S4, {"decimals": 4, "answers": {"dL_da1": [[1.2449], [-0.5379], [-0.3649]], "delta1": per_example,
                                                 "dW1": [[-0.0274]], "db1": [0.0441]}})
    assert r.ok and r.right == 4
    assert "per-example convention" in r["delta1"].note and "1/3" in r["delta1"].note
    assert "[[0.0975], [-0.0353], [-0.0181]]" in r["delta1"].note
    assert r["delta1"].to_json()["basis"] == "true" and r["dW1"].note == ""
    # alone, the per-example dL_da1 is no longer "summed over the 3 examples instead of averaged"
    assert only(dr.check(S4, {"decimals": 4, "answers": {"dL_da1": [[1.2449], [-0.5379], [-0.3649]]}})).right
    # the batch loss's own convention stays right, with no note
    v = only(dr.check(S4, {"decimals": 4, "answers": {"delta1": [[0.0975], [-0.0353], [-0.0181]]}}))
    assert v.right and v.note == ""


def test_per_example_slip_is_pointed_at_and_followed_through():
    # delta1[3] slipped to -0.0644 (true -0.0544); their dW1 = (0.2926 - 0.1058 x 2 - 0.0644 x 3)/3 = -0.0374
    r = dr.check(S4, {"decimals": 4, "answers": {"delta1": [[0.2926], [-0.1058], [-0.0644]], "dW1": [[-0.0374]]}})
    assert r["dW1"].right and r["dW1"].basis == "follow-through from delta1"
    assert r["delta1"].note.startswith("entry [3,1]: -0.0644, should be -0.0544")
    assert r.wrong == 1


# -- claims for f'(z) and for each example's loss ---------------------------------------------------------------
def test_fprime_claims_and_follow_through():
    # seed 003 (as computed, 2 decimals): sigma'(z2) = a2 (1 - a2) = [0.7311 x 0.2689, 0.7824 x 0.2176]
    # = [0.1948, 0.1718] -> [0.19, 0.17]. The notes write [0.2, 0.17]: from their rounded a2 = [0.73, 0.78],
    # 0.73 x 0.27 = 0.1971 -> 0.20, right by follow-through (alone, entry [1] is wrong)
    r = dr.check(S3, {"decimals": 2, "answers": {"a2": [0.73, 0.78], "fprime2": [0.2, 0.17]}})
    assert r["fprime2"].basis == "follow-through from a2" and r.ok
    note = only(dr.check(S3, {"decimals": 2, "answers": {"fprime2": [0.2, 0.17]}})).note
    assert note.startswith("entry [1]: 0.20, should be 0.19 = sigmoid'(z2)")
    # delta2 = dL_da2 * fprime2: from their fprime2 [0.2, 0.18] and the true dL_da2 [0.6849, -0.1704]:
    # [0.137, -0.0307] -> [0.14, -0.03] follows (the true delta2 is [0.1334, -0.0293] -> [0.13, -0.03])
    r = dr.check(S3, {"decimals": 2, "answers": {"fprime2": [0.2, 0.18], "delta2": [0.14, -0.03]}})
    assert not r["fprime2"].right and r["delta2"].basis == "follow-through from fprime2"
    # one example: fprime1 is a vector, as z1 is; seed 002: a1 (1 - a1) = [0.2413, 0.2406]
    assert only(dr.check(S2, {"decimals": 4, "answers": {"fprime1": [0.2413, 0.2406]}})).right


def test_losses_claims_one_per_example():
    # seed 004 example 3 (sse): (yhat_i - y_i)^2 = [0.6225^2, (0.7311 - 1)^2, (0.8176 - 1)^2]
    # = [0.3875, 0.0723, 0.0333]; their mean is the loss 0.1644
    r = dr.check(S4, {"decimals": 4, "answers": {"losses": [0.3875, 0.0723, 0.0333], "losses[2]": 0.0724,
                                                 "loss": 0.1644}})
    assert r["losses"].right and r["loss"].right and r["losses"].expected[1] == pytest.approx(0.0723295, abs=1e-7)
    assert r["losses[2]"].note.startswith("should be 0.0723 = sse of each example's a1 and y")
    # each example's loss is not averaged: a third of each (the batch loss's share) is wrong
    assert not only(dr.check(S4, {"decimals": 4, "answers": {"losses": [0.1292, 0.0241, 0.0111]}})).right


def test_text_from_answers_files_is_shown_not_obeyed(tmp_path, capsys):
    # an escape in a key or in problem: would retitle (ESC ]2;) or clear (ESC [2J) the marker's terminal
    a = tmp_path / "a.yaml"
    a.write_text('problem: "x\\e]2;owned\\ay"\nanswers: {z1: [0.378, 0.393]}\n')
    assert main(["check", str(a)]) == 2
    err = capsys.readouterr().err
    assert err == f"{a}: problem: no such file ({tmp_path}/x\\x1b]2;owned\\x07y) and no built-in example of that name\n"
    a.write_text('problem: seed-002\nanswers: {"z1\\e[2J": [0.378, 0.393]}\n')
    assert main(["check", str(a)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{a}: answers.z1\\x1b[2J: unknown name 'z1\\x1b[2J'") and "\x1b" not in err


def test_text_report_fits_100_columns_and_shows_the_true_value_once(capsys):
    assert main(["check", str(Path(__file__).parent / "answers" / "seed-003.answers.yaml")]) == 1
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    # dL_da2: their a2 - y = [0.68, -0.17]; half_mse's (a2 - y)/2 = [0.34, -0.09], said once
    block = out.split("dL_da2", 1)[1].split("\ndelta2", 1)[0]
    assert block.count("[0.34, -0.09]") == 1 and "WRONG" in block and "[0.68, -0.17]" in block
    assert out.count("[0.07, -0.01]") == 2  # delta2 and db2 follow from dL_da2: each true value once
    assert "\n        follows from your dL_da2 (the true value is [0.07, -0.01])\n" in out


def test_template_leaves_out_what_the_solution_does_not_show(capsys):
    # a fused output (sigmoid + bce: delta2 = yhat - y) has no f'(z2) to ask; frozen biases no b_new
    doc = yaml.safe_load(examples.text("seed-002"))
    doc["loss"] = "bce"
    for layer in doc["layers"]:
        layer["train_biases"] = False
    from deltarule.check.answers import blank

    names = list(blank(dr.parse_problem(doc).steps(1)[0]))
    assert names == ["z1", "a1", "z2", "a2", "losses", "loss", "dL_da2", "delta2", "dW2", "db2", "dL_da1",
                     "fprime1", "delta1", "dW1", "db1", "W1_new", "W2_new", "loss_after"]


# -- diagnoses from the registry: each activation's own mistakes, each loss's family ----------------------------
def test_fprime_mistakes_come_from_the_activation():
    # seed 002: sigma'(z1) = a1 (1 - a1) = [0.2413, 0.2406]; sigma(z1) = a1 = [0.5933, 0.5969] used for it
    note = only(claim(S2, {"fprime1": V2["a1"]})).note
    assert note.startswith("should be [0.2413, 0.2406]: σ(z1) used for σ'(z1)")
    # the same mistake inside delta1 (fprime1 not claimed) is found at delta1 itself
    assert "σ(z1) used for σ'(z1)" in only(claim(S2, {"delta1": V2["dL_da1"] * V2["a1"]})).note


@pytest.mark.parametrize("name", ["tanh", "elu", "softplus"])
def test_every_activation_with_mistakes_is_diagnosed_without_touching_the_checker(name):
    # f(z) used for f'(z) in the hidden layer of seed 002 with another activation: the note names
    # the activation by its registry symbol; check/ names no activation
    act = dr.activations.get(name)
    doc = yaml.safe_load(examples.text("seed-002"))
    doc["layers"][0]["activation"] = name
    p = dr.parse_problem(doc)
    v = p.steps(1)[0].values()
    wrong = v["dL_da1"] * act.value(v["z1"])
    assert np.abs(wrong - v["delta1"]).max() > 0.001  # far enough apart to tell at 4 decimals
    note = only(claim(p, {"delta1": wrong})).note
    assert f"{act.symbol}(z1) used for {act.symbol}'(z1)" in note


def test_per_example_reading_kept_when_it_leaves_fewer_entries_wrong():
    # per example [0.2926, -0.1058, -0.0544] with a slip in the third (-0.0600): in the batch loss's
    # convention all three entries are wrong, in the per-example one only the third; dW1 = -0.0275 is
    # wrong either way (true -0.0274; from their deltas (0.2926 - 0.2116 - 0.1800)/3 = -0.0330)
    r = dr.check(S4, {"decimals": 4, "answers": {"delta1": [[0.2926], [-0.1058], [-0.0600]], "dW1": [[-0.0275]]}})
    assert r.wrong == 2
    assert r["delta1"].note.startswith("entry [3,1]: -0.0600, should be -0.0544")
    assert "per-example convention" in r["delta1"].note


def test_decimals_argument_refused_as_the_field_is():
    for bad, message in (("x", "decimals: expected a whole number"), (-1, "decimals: must be at least 0"),
                         (2.5, "decimals: expected a whole number"), (16, "decimals: at most 15")):
        with pytest.raises(dr.InputError) as e:
            dr.check(S2, {"z1": [0.378, 0.393]}, decimals=bad)
        assert e.value.line().startswith(message), e.value.line()
    assert only(dr.check(S2, {"z1": [0.38, 0.39]}, decimals=2)).right
