"""check with an optimizer, L2 and a learning-rate schedule (issue 15, item 5 "check").

The problems are one identity neuron, z = w x + b, L = ½ (z − y)², x = 2, w = 0.5, b = 0 (and
b = 0.4 where a bias must move), so every number is hand arithmetic: with y = 2 the first
update has delta = z − y = 1 − 2 = −1, dW = delta·x = −2, db = −1; with y = 0, delta = 1,
dW = 2, db = 1. Each wrong answer below is built by hand (comments) and must get its diagnosis;
right ones by follow-through must say so (JSON ``basis``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deltarule as dr
from deltarule.check.answers import blank, optimizer_names
from deltarule.cli import main
from deltarule.errors import InputError
from deltarule.problem import parse_problem


def neuron(optimizer=None, *, y=2.0, lr=0.1, l2=0.0, schedule=None, b=0.0):
    """One identity neuron on x = 2 (one example: every update is the next epoch's)."""
    doc = {"layers": [{"weights": [[0.5]], "biases": [b], "activation": "identity"}], "loss": "half_sse",
           "data": {"inputs": [[2.0]], "targets": [[y]]}, "learning_rate": lr, "decimals": 4,
           "training": {"method": "stochastic", "epochs": 3}}
    if optimizer:
        doc["optimizer"] = optimizer
    if l2:
        doc["regularization"] = {"l2": l2}
    if schedule:
        doc["learning_rate_schedule"] = schedule
    return parse_problem(doc)


def judged(problem, answers, decimals=4):
    """{name: (status, basis, note)} of every claim."""
    report = dr.check(problem, {"decimals": decimals, "answers": answers})
    return {v.name: (v.status, v.kind, v.note) for v in report.verdicts}


MOMENTUM = {"name": "sgd", "momentum": 0.9}


# -- the names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [MOMENTUM, {"name": "sgd", "momentum": 0.8, "nesterov": True},
                                       {"name": "rmsprop"}, {"name": "adam"}, {"name": "adamw"}])
def test_every_state_name_of_two_updates_is_right_at_its_true_value(optimizer):
    problem = parse_problem({**yaml_of("seed-002"), "optimizer": optimizer})
    steps = problem.steps(2)
    answers = {}
    for k, step in enumerate(steps, start=1):
        prefix = f"step{k}." if k > 1 else ""
        answers.update({prefix + n: np.asarray(step.values()[n]).tolist() for n in optimizer_names(step)})
    verdicts = judged(problem, answers, decimals=12)
    # 2 layers x (W, b) x (moments + hats) + t, per update
    per_param = len(steps[0].optimizer.moments) + len(steps[0].optimizer.hats)
    assert len(verdicts) == 2 * (1 + 4 * per_param) > 2
    assert all(v[:2] == ("right", "true") for v in verdicts.values()), verdicts


def yaml_of(name):
    return yaml.safe_load(dr.examples.text(name))


def test_names_a_problem_does_not_have_are_one_line_errors():
    with pytest.raises(InputError, match=r"answers.vW1: unknown name 'vW1': this problem's update is plain "
                                         r"gradient descent"):
        dr.check(neuron(), {"vW1": -2})
    with pytest.raises(InputError, match=r"the adam optimizer keeps mW\{l\}, sW\{l\}, mb\{l\}, sb\{l\}, "
                                         r"mW\{l\}_hat, sW\{l\}_hat, mb\{l\}_hat, sb\{l\}_hat, t"):
        dr.check(neuron({"name": "adam"}), {"vW1": -2})
    with pytest.raises(InputError, match=r"answers.mW1: expected 1 row of 1 number"):
        dr.check(neuron({"name": "adam"}), {"mW1": [1.0, 2.0]})
    with pytest.raises(InputError, match=r"unknown name 'mW3'.*there is no layer 3"):
        dr.check(neuron({"name": "adam"}), {"mW3": 1.0})


def test_a_bad_state_value_through_the_command_line_is_one_line_exit_2(tmp_path, capsys):
    problem = tmp_path / "p.yaml"
    problem.write_text(json.dumps({**yaml_of("seed-002"), "optimizer": MOMENTUM}))
    answers = tmp_path / "a.yaml"
    answers.write_text("problem: p.yaml\nanswers:\n  vW1: [[0.1, 0.2], [0.3, oops]]\n")
    assert main(["check", str(answers)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{answers}: answers.vW1") and "Traceback" not in err
    answers.write_text("problem: p.yaml\nanswers:\n  vW1: [[0.0002, 0.0005], [0.0003, 0.0005]]\n  t: 1\n")
    assert main(["check", str(answers), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(v["name"], v["status"], v["basis"]) for v in out["verdicts"]] == [
        ("vW1", "right", "true"), ("t", "right", "true")]


def test_t_is_a_whole_count():
    # t counts the updates, this one included: 1 on the first, 2 on the second; stated without decimals
    v = judged(neuron(ADAM), {"t": 2, "step2.t": 2})
    assert v["t"][0] == "wrong" and v["step2.t"][:2] == ("right", "true")
    assert v["t"][2].startswith("should be 1 = the number of updates so far")


def test_blank_answers_ask_the_state_in_the_order_of_the_work():
    step = neuron({"name": "adam"}).steps(1)[0]
    names = list(blank(step))
    assert names[names.index("db1") + 1:] == ["t", "mW1", "sW1", "mW1_hat", "sW1_hat", "mb1", "sb1", "mb1_hat",
                                              "sb1_hat", "W1_new", "b1_new", "loss_after"]
    assert optimizer_names(neuron().steps(1)[0]) == []


def test_a_ragged_answer_with_nulls_is_one_line_not_a_traceback():
    # found by tests/test_fuzz.py: [[1, 2], None, ...] reached np.asarray with an inhomogeneous shape
    with pytest.raises(InputError, match=r"answers.W1_new: expected 2 rows of 2 numbers"):
        dr.check(dr.load_problem("seed-002"), {"W1_new": [[1, 2], None, 3, [1]]})


# -- follow-through ------------------------------------------------------------------------------------------
def test_a_wrong_gradient_carried_correctly_into_the_velocity_and_the_step_is_follow_through():
    # the student's dW1 = -3 (true -2); then vW1 = 0.9·0 + (-3) = -3, W1_new = 0.5 - 0.1·(-3) = 0.8
    v = judged(neuron(MOMENTUM), {"dW1": -3.0, "vW1": -3.0, "W1_new": 0.8})
    assert v["dW1"][0] == "wrong"
    assert v["vW1"] == ("right", "follow_through", "follows from your dW1 (the true value is [[-2.0000]])")
    assert v["W1_new"][:2] == ("right", "follow_through") and "follows from your vW1" in v["W1_new"][2]


def test_a_wrong_velocity_carries_into_the_step_and_into_the_next_update():
    # vW1 = -2.5 (true -2): W1_new = 0.5 - 0.1·(-2.5) = 0.75; vb1 = -1 (true), b1_new = 0 + 0.1 = 0.1.
    # Update 2 from the student's numbers: z = 0.75·2 + 0.1 = 1.6, delta = -0.4, dW1 = -0.8,
    # vW1 = 0.9·(-2.5) + (-0.8) = -3.05, W1_new = 0.75 - 0.1·(-3.05) = 1.055
    v = judged(neuron(MOMENTUM), {"vW1": -2.5, "W1_new": 0.75, "step2.vW1": -3.05, "step2.W1_new": 1.055})
    assert v["vW1"][0] == "wrong"
    assert [v[n][:2] for n in ("W1_new", "step2.vW1", "step2.W1_new")] == [("right", "follow_through")] * 3
    # and a step-2 velocity that ignores the student's own previous one is wrong: 0.9·(-2) - 0.8 = -2.6
    assert judged(neuron(MOMENTUM), {"vW1": -2.5, "W1_new": 0.75, "step2.vW1": -2.6})["step2.vW1"][0] == "wrong"


def test_adam_bias_correction_follows_from_the_students_moment():
    # mW1 = -0.3 (true 0.1·(-2) = -0.2); mW1_hat = -0.3 / (1 - 0.9) = -3 follows from it
    v = judged(neuron({"name": "adam"}), {"mW1": -0.3, "mW1_hat": -3.0, "sW1_hat": 4.0})
    assert v["mW1"][0] == "wrong" and v["mW1_hat"][:2] == ("right", "follow_through")
    assert v["sW1_hat"][:2] == ("right", "true")   # sW1 = 0.001·4 = 0.004, / (1 - 0.999) = 4


# -- diagnoses: momentum ---------------------------------------------------------------------------------------
def test_momentum_after_the_step_with_the_old_velocity():
    # update 1: vW1 = -2, W1_new = 0.7; update 2: dW1 = -1 (z = 0.7·2 + 0.1 = 1.5), vW1 = 0.9·(-2) - 1 = -2.8,
    # W1_new = 0.7 + 0.28 = 0.98. Stepping with the OLD velocity: 0.7 - 0.1·(-2) = 0.9
    v = judged(neuron(MOMENTUM), {"vW1": -2, "W1_new": 0.7, "step2.dW1": -1.0, "step2.W1_new": 0.9})
    assert v["step2.W1_new"][0] == "wrong"
    assert "momentum applied after the step: W1_new = W1 - η·vW1 with the previous velocity" in v["step2.W1_new"][2]


def test_momentum_after_the_step_with_the_plain_gradient():
    # stepping with the plain gradient, then updating v: 0.7 - 0.1·(-1) = 0.8 (true 0.98)
    note = judged(neuron(MOMENTUM), {"step2.W1_new": 0.8})["step2.W1_new"][2]
    assert note.startswith("should be [[0.9800]]: the plain gradient step W1_new = W1 - η·dW1")


def test_a_dampened_velocity():
    # vW1 = 0.9·(-2) + (1 - 0.9)·(-1) = -1.9 (true -2.8)
    note = judged(neuron(MOMENTUM), {"vW1": -2, "step2.vW1": -1.9})["step2.vW1"][2]
    assert "a dampened velocity vW1 = μ·vW1 + (1 - μ)·dW1" in note


def test_nesterov_without_the_look_ahead():
    # y = 0: dW1 = 2, vW1 = 2; Nesterov: 0.5 - 0.1·(2 + 0.9·2) = 0.12; without the look-ahead 0.5 - 0.2 = 0.3
    note = judged(neuron({"name": "sgd", "momentum": 0.9, "nesterov": True}, y=0.0), {"W1_new": 0.3})["W1_new"][2]
    assert note.startswith("should be [[0.1200]]: Nesterov's look-ahead left out")


# -- diagnoses: Adam --------------------------------------------------------------------------------------------
ADAM = {"name": "adam"}


def test_adam_without_bias_correction_in_the_step():
    # m = 0.1·(-2) = -0.2, s = 0.001·4 = 0.004; with the correction m̂ = -2, ŝ = 4: W1_new = 0.5 + 0.1·2/2 = 0.6.
    # Without it: 0.5 - 0.1·(-0.2)/(√0.004) = 0.5 + 0.02/0.063246 = 0.8162
    for answers in ({"mW1": -0.2, "sW1": 0.004, "W1_new": 0.8162}, {"W1_new": 0.8162}):
        note = judged(neuron(ADAM), answers)["W1_new"][2]
        assert note.startswith("should be [[0.6000]]: the bias correction left out: W1_new = W1 - η·mW1 / (√sW1 + ε)")


def test_adam_hat_without_bias_correction_and_divided_by_beta_t():
    # m = -0.2 kept as it is (true m̂ = -0.2 / (1 - 0.9) = -2); or divided by 0.9: -0.2222
    v = judged(neuron(ADAM), {"mW1": -0.2, "mW1_hat": -0.2})
    assert "the bias correction left out (mW1_hat = mW1" in v["mW1_hat"][2]
    assert "divided by β^t instead of 1 - β^t" in judged(neuron(ADAM), {"mW1_hat": -0.2222})["mW1_hat"][2]


def test_adam_beta_and_one_minus_beta_swapped():
    # m = 0.9·(-2) = -1.8 (true -0.2); s = 0.999·4 = 3.996 (true 0.004)
    v = judged(neuron(ADAM), {"mW1": -1.8, "sW1": 3.996})
    assert "β1 and 1 - β1 swapped" in v["mW1"][2] and "β2 and 1 - β2 swapped" in v["sW1"][2]
    # both swapped, only the step given: m̂ = -1.8/0.1 = -18, ŝ = 3.996/0.001 = 3996,
    # W1_new = 0.5 - 0.1·(-18)/√3996 = 0.5 + 1.8/63.2139 = 0.5285
    assert "β and 1 - β swapped" in judged(neuron(ADAM), {"W1_new": 0.5285})["W1_new"][2]


def test_adam_square_left_out():
    # y = 0, dW1 = 2: s = 0.001·2 = 0.002 instead of 0.001·4 = 0.004
    note = judged(neuron(ADAM, y=0.0), {"sW1": 0.002}, decimals=5)["sW1"][2]
    assert "the square left out: sW1 = β2·sW1 + (1 - β2)·dW1" in note


def test_adamw_without_its_decay():
    # AdamW λ = 0.1, y = 0: W ← 0.5 - 0.1·0.1·0.5 = 0.495, then - 0.1·1 (m̂/√ŝ = 2/2) = 0.395; no decay: 0.4
    note = judged(neuron({"name": "adamw", "weight_decay": 0.1}, y=0.0), {"W1_new": 0.4})["W1_new"][2]
    assert note.startswith("should be [[0.3950]]: the weight decay left out")


# -- diagnoses: RMSprop -----------------------------------------------------------------------------------------
RMS = {"name": "rmsprop", "eps": 0.01}   # ε this large so that where it stands shows at 4 decimals


def test_rmsprop_square_left_out_and_rho_swapped():
    # y = 0, dW1 = 2: s = 0.01·4 = 0.04; without the square 0.01·2 = 0.02; ρ and 1 - ρ swapped: 0.99·4 = 3.96
    assert "the square left out" in judged(neuron(RMS, y=0.0, lr=0.01), {"sW1": 0.02})["sW1"][2]
    assert "ρ and 1 - ρ swapped" in judged(neuron(RMS, y=0.0, lr=0.01), {"sW1": 3.96})["sW1"][2]


def test_rmsprop_epsilon_placement():
    # right: 0.5 - 0.01·2/(√0.04 + 0.01) = 0.5 - 0.02/0.21 = 0.4048;
    # ε inside the root: 0.5 - 0.02/√0.05 = 0.4106; no root: 0.5 - 0.02/(0.04 + 0.01) = 0.1
    problem = neuron(RMS, y=0.0, lr=0.01)
    assert "ε inside the square root" in judged(problem, {"sW1": 0.04, "W1_new": 0.4106})["W1_new"][2]
    assert "the square root left out" in judged(problem, {"W1_new": 0.1})["W1_new"][2]


# -- diagnoses: L2 and the schedule ---------------------------------------------------------------------------
def test_l2_forgotten_in_the_gradient_and_in_the_loss():
    # λ = 0.1, y = 0: dW1 = 2 + 0.1·0.5 = 2.05; loss = ½·1² + (0.1/2)·0.5² = 0.5 + 0.0125 = 0.5125
    problem = neuron(l2=0.1, y=0.0)
    v = judged(problem, {"dW1": 2.0, "loss": 0.5})
    assert v["dW1"][2] == "should be [[2.0500]]: the L2 term 0.1·W1 left out of dW1"
    assert v["loss"][2] == "should be 0.5125: the L2 penalty (0.1/2)·Σ‖W‖² left out of the loss"
    # carried on: W1_new = 0.5 - 0.1·2 = 0.3 (true 0.5 - 0.205 = 0.295): the cause is named in dW1
    assert judged(problem, {"W1_new": 0.3})["W1_new"][2].endswith("the L2 term 0.1·W1 left out of dW1, in dW1")
    # half the term: dW1 = 2 + 0.05·0.5 = 2.025; the penalty without ½: 0.5 + 0.1·0.25 = 0.525
    v = judged(problem, {"dW1": 2.025, "loss": 0.525})
    assert "(0.1/2)·W1 added to dW1 instead of 0.1·W1" in v["dW1"][2]
    assert "the L2 penalty without its ½" in v["loss"][2]
    # and into Adam's moment: m = 0.1·2 = 0.2 instead of 0.1·2.05 = 0.205
    assert "left out of dW1, in dW1" in judged(neuron(ADAM, l2=0.1, y=0.0), {"mW1": 0.2})["mW1"][2]


def test_l2_on_the_bias_too():
    # b = 0.4: z = 1.4, delta = 1.4, db1 = 1.4; decaying the bias too: 1.4 + 0.1·0.4 = 1.44
    note = judged(neuron(l2=0.1, y=0.0, b=0.4), {"db1": 1.44})["db1"][2]
    assert note == "should be [1.4000]: the bias decayed too (db1 + 0.1·b1; L2 is on the weights only)"


def test_the_base_rate_where_the_schedule_gives_another():
    # StepLR(1, 0.5): epoch 2's rate is 0.05. Update 1: W1_new = 0.5 - 0.1·2 = 0.3, b1_new = -0.1;
    # update 2: z = 0.6 - 0.1 = 0.5, dW1 = 1; W1_new = 0.3 - 0.05·1 = 0.25; with the base 0.1: 0.2
    problem = neuron(y=0.0, schedule={"name": "step", "step_size": 1, "gamma": 0.5})
    assert [s.learning_rate for s in problem.steps(2)] == [0.1, 0.05]
    note = judged(problem, {"step2.W1_new": 0.2})["step2.W1_new"][2]
    assert note == ("should be [[0.2500]]: the base learning rate η = 0.1 used; the schedule's rate in epoch 2 "
                    "is η = 0.05")
    assert judged(problem, {"step2.W1_new": 0.25})["step2.W1_new"][:2] == ("right", "true")
    # epoch 3's rate (0.025) in epoch 2, the epochs counted off by one: 0.3 - 0.025·1 = 0.275
    note = judged(problem, {"step2.W1_new": 0.275})["step2.W1_new"][2]
    assert note.startswith("should be [[0.2500]]: the rate of epoch 3 used (the epochs counted off by one)")


def test_every_mistake_of_every_optimizer_runs_and_differs_from_the_rule():
    # the registry's mistakes: each stage's function gives a number, and not the right one
    from deltarule import optimizers as opt

    rng = np.random.default_rng(3)
    p, g = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    for o in (opt.SGD(momentum=0.9), opt.SGD(momentum=0.9, nesterov=True), opt.RMSprop(eps=0.1),
              opt.Adam(eps=0.1), opt.AdamW(eps=0.1)):
        old = tuple(np.abs(rng.normal(size=(2, 3))) for _ in o.moments)
        t = 2
        new = o.advance(g, old, t)
        hats = o.correct(new, t)
        right = {"advance": new, "correct": hats, "apply": o.apply(p, g, new, hats, 0.1, t, True)}
        assert len(o.mistakes()) >= 3
        for m in o.mistakes():
            differs = []
            for weight in (True, False):  # AdamW's decay mistakes show on a weight, or on a bias
                args = {"advance": (g, old, t), "correct": (new, t), "apply": (p, g, old, new, hats, 0.1, t, weight)}
                wrong, ref = m.fn(*args[m.stage]), right[m.stage]
                if m.stage == "apply":
                    wrong, ref = (wrong,), (o.apply(p, g, new, hats, 0.1, t, weight),)
                assert all(np.isfinite(w).all() for w in wrong), (o, m.note)
                differs.append(not all(np.allclose(a, b) for a, b in zip(wrong, ref)))
            assert any(differs), (o, m.note)


# -- exercises that ask an optimizer's numbers ------------------------------------------------------------
U1 = {"draw": "uniform", "low": -1, "high": 1, "decimals": 1}
NESTEROV_TEMPLATE = {  # two examples, tanh then identity, one Nesterov momentum update from v = 0
    "name": "nesterov", "loss": "sse", "reduction": "mean", "decimals": 2,
    "layers": [{"weights": [[U1, U1], [U1, U1]], "biases": [{**U1, "low": -0.5, "high": 0.5}, 0.0],
                "activation": "tanh"},
               {"weights": [[U1, U1]], "biases": [0.1], "activation": "identity"}],
    "data": {"inputs": [[U1, 0.5], [1.0, U1]], "targets": [{"draw": "choice", "from": [-1, 1]}, 0.5]},
    "learning_rate": {"draw": "choice", "from": [0.1, 0.2, 0.5]},
    "optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True},
    "asked": ["dW2", "vW2", "vb2", "W2_new", "b2_new", "vW1", "W1_new"],
}


def test_an_exercise_with_an_optimizer_generates_keys_and_marks(tmp_path, capsys):
    import csv

    from deltarule.formatting import fmt

    template = tmp_path / "nesterov.yaml"
    template.write_text(json.dumps(NESTEROV_TEMPLATE), encoding="utf-8")
    out = tmp_path / "set"
    assert main(["exercises", str(template), "--count", "2", "--seed", "5", "-o", str(out)]) == 0
    sheet = (out / "001" / "sheet.html").read_text(encoding="utf-8")
    assert "One update with the sgd optimizer (momentum μ = 0.9, nesterov = true)" in sheet
    assert "vW = μ·vW + dW; W_new = W - η·(dW + μ·vW)" in sheet
    blank_doc = yaml.safe_load((out / "001" / "answers.yaml").read_text(encoding="utf-8"))
    assert list(blank_doc["answers"]) == NESTEROV_TEMPLATE["asked"] and blank_doc["answers"]["vW1"] == [[None] * 2] * 2
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for ex in ("001", "002"):
        problem = dr.load_problem(out / ex / "problem.yaml")
        values = problem.steps(1)[0].values()
        r = lambda v: np.vectorize(lambda x: float(fmt(x, 2)))(np.asarray(v, float)).tolist()  # noqa: E731
        answers = {n: r(values[n]) for n in NESTEROV_TEMPLATE["asked"]}
        # the key rounded to 2 decimals (round-safe: what rounding every step by hand gives) is all right ...
        if ex == "002":  # ... and 002 leaves out Nesterov's look-ahead: W1_new = W1 - η·vW1 (v = dW on update 1)
            W1, v, lr = np.asarray(problem.network.layers[0].W), np.asarray(values["vW1"]), problem.learning_rate
            answers["W1_new"] = r(W1 - lr * v)
            assert answers["W1_new"] != r(values["W1_new"])
        (inbox / f"{ex}.yaml").write_text(json.dumps({"exercise": ex, "decimals": 2, "answers": answers}))
    gradebook = tmp_path / "grades.csv"
    assert main(["check", str(out), *sorted(map(str, inbox.iterdir())), "--gradebook", str(gradebook)]) == 1
    capsys.readouterr()
    rows = {row["exercise"]: row for row in csv.DictReader(gradebook.open(encoding="utf-8"))}
    assert [rows["001"][n] for n in NESTEROV_TEMPLATE["asked"]] == ["1"] * 7
    assert [rows["002"][n] for n in NESTEROV_TEMPLATE["asked"]] == ["1"] * 6 + ["0"]
    report = dr.check(dr.load_problem(out / "002" / "problem.yaml"), str(inbox / "002.yaml"))
    assert "Nesterov's look-ahead left out" in report["W1_new"].note


# -- hostile answers against an optimizer's names --------------------------------------------------------------
STATE_KEYS = st.sampled_from(["mW1", "sW1_hat", "mb2_hat", "step2.mW1", "step3.sb1", "mW1[1,2]", "mW1_hat[3,3]",
                              "mb1[1,1]", "vW1", "vb1_hat", "mW9", "t", "step2.t", "t[1]", "W1_new", "dW1", "loss"])
NUMBERS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=1e300, max_value=1e308), st.text(max_size=4))
STATE_VALUES = st.recursive(NUMBERS, lambda inner: st.lists(inner, max_size=3), max_leaves=8)
ADAM_SEED_002 = None


@settings(deadline=None, database=None, max_examples=150, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(STATE_KEYS, st.one_of(STATE_VALUES, st.fixed_dictionaries({"value": STATE_VALUES})),
                       min_size=1, max_size=4))
def test_any_answers_for_an_optimizers_names_are_a_report_or_one_line(answers):
    global ADAM_SEED_002
    if ADAM_SEED_002 is None:
        ADAM_SEED_002 = parse_problem({**yaml_of("seed-002"), "optimizer": {"name": "adam"}})
    try:
        report = dr.check(ADAM_SEED_002, {"decimals": 3, "answers": answers})
    except InputError as e:
        assert "\n" not in e.line() and e.line().startswith("answers")
        return
    assert len(report.verdicts) >= 1 and all(v.status in ("right", "wrong") for v in report.verdicts)
    json.dumps(report.to_json())


def test_reports_show_the_state_names_like_any_other():
    from deltarule.explain import check_report

    # update 2 of seed-002-momentum stepped with update 1's velocity (tests/answers/seed-002-momentum.answers.yaml)
    report = dr.check(Path(__file__).parent / "answers" / "seed-002-momentum.answers.yaml")
    assert (report.right, report.wrong) == (5, 1)
    for render in (check_report.text, check_report.markdown, check_report.html):
        out = render(report)
        assert "step2.vW2" in out and "momentum applied after the step" in out, render
    assert report.to_json()["verdicts"][4] == {
        "name": "step2.vW2", "status": "right", "claimed": [[0.0526, 0.0529]],
        "expected": report["step2.vW2"].expected, "note": "", "basis": "true"}
