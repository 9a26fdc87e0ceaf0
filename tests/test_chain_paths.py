"""The chain rule along each path: the core's path values (network.chain_paths), as `solve --chain`
prints them in every format, and as `check` judges `paths.dW{l}[i,j]` claims."""
import numpy as np
import pytest

import deltarule as dr
from deltarule.network import chain_paths


def test_seed_002_path_value_is_the_product_of_its_factors_in_every_format():
    # seed 002: x = (0.05, 0.10), y = 0.5, W1 = [[0.15, 0.20], [0.25, 0.30]], b1 = 0.35, W2 = [0.40, 0.45], b2 = 0.60
    # z1[1] = 0.15(0.05) + 0.20(0.10) + 0.35 = 0.3775, a1[1] = σ(0.3775) = 0.593270, σ'(z1[1]) = a(1 - a) = 0.241301
    # z1[2] = 0.3925, a1[2] = 0.596884; z2 = 0.40(0.593270) + 0.45(0.596884) + 0.60 = 1.105906
    # a2 = σ(1.105906) = 0.751365, σ'(z2) = 0.186816, dL/da2 = a2 - y = 0.251365 (half_sse)
    # one output unit, so one path: dL/da2 · σ'(z2[1]) · W2[1,1] · σ'(z1[1]) · x[1]
    #   = 0.251365 · 0.186816 · 0.400000 · 0.241301 · 0.050000 = 0.000227 (= δ2 · W2[1,1] · σ'(z1[1]) · x1,
    #     δ2 = 0.046959), and that one path is dW1[1,1]
    sol = dr.solve("seed-002", chain="W1[1,1]", decimals=6)
    text = sol.to_text()
    chain = text[text.index("The fully expanded chain"):text.index("Update:")]
    assert "= 0.251365 · 0.186816 · 0.400000 · 0.241301 · 0.050000" in chain
    assert chain.rstrip().endswith("= 0.000227")
    for fmt in ("markdown", "latex", "html"):
        out = sol.render(fmt)
        part = out[out.index("fully expanded chain"):]
        assert "0.050000" in part and "0.000227" in part, fmt
    step = sol.steps[0]
    (path,) = chain_paths(step.trace, ("W", 1, 1, 1), 0)
    assert path.units == (1, 1)
    assert [f[0] for f in path.factors] == ["dL_da", "fprime", "W", "fprime", "a"]
    np.testing.assert_allclose(path.value, 0.000227, atol=5e-7)
    np.testing.assert_allclose(path.value, step.trace.layers[0].dW[0, 0], rtol=1e-12)


def test_seed_003_two_paths_each_with_its_value_and_their_sum_is_dW():
    # seed 003: two outputs, so W1[1,1] reaches the loss along two paths (through z2[1] and z2[2]):
    # path 1: dL/da2[1] · σ'(z2[1]) · W2[1,1] · σ'(z1[1]) · x[1] = 0.34246 · 0.19481 · 0.5 · 0.23978 · 0.1 = 0.00080
    # path 2: dL/da2[2] · σ'(z2[2]) · W2[2,1] · σ'(z1[1]) · x[1] = (-0.08522) · 0.17185 · 0.7 · 0.23978 · 0.1 = -0.00025
    # dW1[1,1] = 0.00080 + (-0.00025) = 0.00055
    text = dr.solve("seed-003", chain="W1[1,1]", decimals=5).to_text()
    chain = text[text.index("The fully expanded chain"):text.index("Update:")]
    assert chain.count("= 0.00080\n") == 1 and chain.count("= -0.00025\n") == 1
    assert "= 0.00080 + (-0.00025) = 0.00055" in chain


@pytest.mark.parametrize("name", ["seed-003", "seed-004-example-3", "xor", "digits"])
def test_path_values_summed_over_paths_and_examples_are_the_gradient(name):
    p = dr.load_problem(name)
    step = p.steps(1)[0]
    tr, net = step.trace, step.before
    n = min(len(step.examples), 4)  # digits: a few examples of a big batch suffice for the sum check below
    tr = net.trace(tr.x[:n], tr.y[:n])
    checked = 0
    for l, lay in enumerate(net.layers, start=1):
        for i in range(1, min(lay.units, 2) + 1):
            for j in range(1, min(lay.fan_in, 2) + 1):
                total = sum(path.value for e in range(n) for path in chain_paths(tr, ("W", l, i, j), e))
                np.testing.assert_allclose(total, tr.layers[l - 1].dW[i - 1, j - 1], rtol=1e-9, atol=1e-15)
                checked += 1
            total = sum(path.value for e in range(n) for path in chain_paths(tr, ("b", l, i, None), e))
            np.testing.assert_allclose(total, tr.layers[l - 1].db[i - 1], rtol=1e-9, atol=1e-15)
    assert checked >= 1  # a count that fails when nothing was compared


# -- check: paths.dW{l}[i,j] claims -----------------------------------------------------------------------
def _verdicts(problem, answers, decimals):
    return {v.name: v for v in dr.check(problem, {"decimals": decimals, "answers": answers}).verdicts}


def test_seed_002_claimed_path_value_is_right_and_a_wrong_one_says_the_value():
    # the one path of seed 002 (see above): 0.251365 · 0.186816 · 0.4 · 0.241301 · 0.05 = 0.000227
    v = _verdicts("seed-002", {"paths.dW1[1,1]": [0.000227]}, 6)["paths.dW1[1,1]"]
    assert v.right and v.basis == "true value"
    np.testing.assert_allclose(v.expected, [0.000227], atol=5e-7)
    v = _verdicts("seed-002", {"paths.dW1[1,1]": [0.000454]}, 6)["paths.dW1[1,1]"]  # 2x: forgot the 1/2 of half_sse
    assert not v.right and "should be [0.000227]" in v.note


def test_seed_003_one_wrong_path_is_pointed_at_with_its_right_value():
    # path 1 (through z2[1]) = 0.34246 · 0.19481 · 0.5 · 0.23978 · 0.1 = 0.00080 (right)
    # path 2 (through z2[2]) = (-0.08522) · 0.17185 · 0.7 · 0.23978 · 0.1 = -0.00025; claimed -0.00030
    v = _verdicts("seed-003", {"paths.dW1[1,1]": [0.00080, -0.00030]}, 5)["paths.dW1[1,1]"]
    assert not v.right and v.basis == ""
    assert v.note.startswith("path [2]: -0.00030, should be -0.00025")
    assert "path [1]" not in v.note
    np.testing.assert_allclose(v.expected, [0.00080, -0.00025], atol=5e-6)
    # both right, and one path claimed alone by its index
    vs = _verdicts("seed-003", {"paths.dW1[1,1]": [0.00080, -0.00025], "paths.dW1[1,1][2]": -0.00025}, 5)
    assert all(x.right and x.basis == "true value" for x in vs.values()) and len(vs) == 2


def test_seed_003_path_values_follow_through_from_the_students_own_fprime():
    # the student's σ'(z1[1]) = 0.25000 (true 0.23978): their paths are
    # 0.34246 · 0.19481 · 0.5 · 0.25 · 0.1 = 0.00083 and (-0.08522) · 0.17185 · 0.7 · 0.25 · 0.1 = -0.00026
    answers = {"fprime1": [0.25000, 0.23669], "paths.dW1[1,1]": [0.00083, -0.00026]}
    vs = _verdicts("seed-003", answers, 5)
    assert not vs["fprime1"].right
    v = vs["paths.dW1[1,1]"]
    assert v.right and v.basis == "follow-through from fprime1"
    assert "the true value is [0.00080, -0.00025]" in v.note
    # without their fprime1 the same numbers are wrong, at both paths (so the whole list is given)
    v = _verdicts("seed-003", {"paths.dW1[1,1]": [0.00083, -0.00026]}, 5)["paths.dW1[1,1]"]
    assert not v.right and v.note.startswith("should be [0.00080, -0.00025]")


def test_paths_claims_bad_input_and_the_template(tmp_path, capsys):
    from deltarule.cli import main

    bad = tmp_path / "a.yaml"
    bad.write_text("problem: seed-003\nanswers:\n  paths.dW1[3,1]: [1, 2]\n", encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    assert capsys.readouterr().err.strip().endswith("answers.paths.dW1[3,1]: paths.dW1[3,1] is outside layer 1's W (2 x 2) and b (2)")
    bad.write_text("problem: seed-003\nanswers:\n  paths.dW1[1,1]: [1, 2, 3]\n", encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    assert "expected 2 numbers, got 3" in capsys.readouterr().err
    assert main(["check", "--template", "seed-003", "--chain", "W1[1,1]"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("  paths.dW1[1,1]: [null, null]")
    assert main(["check", "--template", "seed-004-example-3", "--chain", "b1[1]"]) == 0
    assert "  paths.db1[1]: [[null], [null], [null]]" in capsys.readouterr().out
    assert main(["check", "--template", "seed-003", "--chain", "W1[1]"]) == 2
    assert "--chain: expected a parameter such as W1[1,2]" in capsys.readouterr().err
