"""`deltarule check` on the seeds' own printed solutions (tests/answers/*.answers.yaml).

Every number a seed prints under a canonical name is in an answers file. A careful marker
passes them all except the real mistakes, which are flagged - exactly those - with the
right diagnosis; later numbers that follow from a mistake are right by follow-through.
"""
import json
from pathlib import Path

import pytest

import deltarule as dr
from deltarule.cli import main

ANSWERS = Path(__file__).parent / "answers"

# answers file -> {wrong name: words its note must contain}
FLAGGED = {
    "seed-000-forward": {},
    "seed-000-neuron": {},
    # cell [49]: yhat = 0.8807970779778823 "at x = 3.5" is sigmoid(2) = sigmoid(-2 (-0.5) + 1):
    # the cell `x = 3.5` never ran, x was still -0.5. At x = 3.5, sigmoid(-6) = 0.0024726.
    "seed-000-update": {"a1": "should be [0.002472623157] = sigmoid(z1)"},
    "seed-001": {},
    "seed-002": {},
    # their dL/da^(3) = a - y = [0.73 - 0.05, 0.78 - 0.95] = [0.68, -0.17] is half_sse's;
    # half_mse (the loss they state) gives (a - y)/2 = [0.34, -0.09]. Their dW1 =
    # [[0.08, 0.08], [0.1, 0.5]] is dW2's first row over the input x; delta1 x^T is
    # [0.01, 0.01]^T [0.1, 0.5] = [[0.00, 0.01], [0.00, 0.01]].
    "seed-003": {"dL_da2": "half_sse", "dW1": "row 2 equals the input x"},
    "seed-003-as-computed": {"dW1": "row 1 equals dW2 row 1; row 2 equals the input x"},
    "contract-example": {"dL_da2": "a factor 2", "dW1": "row 2 equals the input x",
                         "loss": "should be 0.12 = half_mse"},
    # yhat' = sigma(0.4708) = 0.61558 -> 0.616; the notes cut it to 0.615
    "seed-004-example-1": {"step2.a1": "truncated"},
    # dL/dz = -1.2449 x 0.2350 = -0.29255 -> -0.293 (cut to -0.292); L' = (0.4196 - 1)^2 =
    # 0.33686 -> 0.337, not 0.338 (a slip: from neither the true nor their own numbers)
    "seed-004-example-2": {"delta1": "truncated", "step2.loss": "should be 0.337 = sse"},
    "seed-004-example-3": {},
    # w after sample 2: true 0.4934, from their own 0.4708 it is 0.4935; 0.4933 is neither
    "seed-004-example-3-stochastic": {"step2.W1_new": "should be [[0.4934]] ([[0.4935]] from your W1_new)"},
}


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_seed_answers_flag_exactly_the_real_mistakes(name):
    report = dr.check(ANSWERS / f"{name}.answers.yaml")
    wrong = {v.name: v.note for v in report.verdicts if not v.right}
    assert set(wrong) == set(FLAGGED[name]), wrong
    for key, words in FLAGGED[name].items():
        assert words in wrong[key], (key, wrong[key])
    assert report.right + report.wrong == len(report.verdicts) > 0


def test_seed_003_follow_through_as_a_marker_would():
    r = dr.check(ANSWERS / "seed-003.answers.yaml")
    basis = {v.name: v.basis for v in r.verdicts}
    # delta2 = dL_da2 * a2(1 - a2) = 0.68 x 0.73 x 0.27 = 0.134 -> 0.13 follows from their dL_da2
    # (the true value with half_mse is 0.0667 -> 0.07)
    assert basis["delta2"] == "follow-through from dL_da2"
    # dL_da1 = W2^T delta2 = [0.5 x 0.13 - 0.7 x 0.03, 0.6 x 0.13 - 0.8 x 0.03] = [0.044, 0.054];
    # their [0.05, 0.06] is 0.006 away: right only because delta2's rounding (+-0.005) moves it
    # by up to (0.5 + 0.7) x 0.005 = 0.006
    assert basis["dL_da1"] == "follow-through from delta2"
    # W2_new = W2 - 0.6 dW2 = 0.5 - 0.6 x 0.08 = 0.452 -> 0.45, from their dW2
    assert basis["W2_new"] == "follow-through from dW2"
    assert basis["b1_new"] == "follow-through from db1" and basis["b2_new"] == "follow-through from db2"
    # W1_new = [[0.1, 0.3], [0.2, 0.4]] contradicts their dW1 (0.1 - 0.6 x 0.08 = 0.052) but is
    # the true value to 2 decimals (0.0997, 0.2983, 0.1996, 0.3980): the true value is enough
    assert basis["W1_new"] == "true value"
    # delta1 = [0.01, 0.01] is right outright: the true value 0.0055, 0.0067 rounds to it
    assert basis["delta1"] == "true value"
    assert (r.right, r.wrong) == (14, 2)


def test_seed_003_as_computed_everything_else_is_the_true_value():
    r = dr.check(ANSWERS / "seed-003-as-computed.answers.yaml")
    assert {v.basis for v in r.verdicts if v.right} == {"true value"}
    assert (r.right, r.wrong) == (15, 1)


def test_seed_002_rounded_inputs_carry_later_numbers():
    r = dr.check(ANSWERS / "seed-002.answers.yaml")
    # z1 = 0.15 x 0.05 + 0.20 x 0.10 + 0.35 = 0.3775 exactly: 0.378 is a tie, and ties are right
    assert r["z1"].basis == "true value"
    # b1_new = 0.35 - 0.5 x 0.005 = 0.3475 from their db1; the true 0.34746 rounds to 0.347
    assert r["b1_new"].basis == "follow-through from db1"
    # "at full precision ... 0.02972": the true loss after is 0.02970; 0.02972 is the loss of
    # their 3-decimal parameters, so it follows from them
    assert r["loss_after"].basis.startswith("follow-through from")


@pytest.mark.parametrize("problem, rc, right, wrong", [("seed-003", 1, 14, 2), ("seed-003-as-computed", 1, 15, 1)])
def test_cli_json_contract(problem, rc, right, wrong, capsys):
    assert main(["check", problem, str(ANSWERS / "seed-003.answers.yaml"), "--format", "json"]) == rc
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"verdicts", "right", "wrong"}
    assert (out["right"], out["wrong"]) == (right, wrong)
    for v in out["verdicts"]:
        assert set(v) == {"name", "status", "claimed", "expected", "note", "basis"}
        assert v["status"] in ("right", "wrong")
        assert v["note"] or v["status"] == "right"
        assert (v["basis"] is None) == (v["status"] == "wrong")
    basis = {v["name"]: v["basis"] for v in out["verdicts"]}
    # z1 = [0.41, 0.47] is the true value; W2_new = 0.452 -> 0.45 follows from their dW2 with
    # seed-003 (half_mse), while with half_sse (as computed) their dW2 is the true value
    assert basis["z1"] == "true" and basis["dW1"] is None
    assert basis["W2_new"] == ("follow_through" if problem == "seed-003" else "true")
    dW1 = next(v for v in out["verdicts"] if v["name"] == "dW1")
    assert dW1["claimed"] == [[0.08, 0.08], [0.1, 0.5]] and len(dW1["expected"]) == 2


def test_cli_exit_0_when_all_right(capsys):
    assert main(["check", str(ANSWERS / "seed-001.answers.yaml")]) == 0
    out = capsys.readouterr().out
    assert "16 right, 0 wrong" in out and "±0.0005 at 3 decimals" in out
    assert "\x1b[" not in out  # plain text in a pipe
