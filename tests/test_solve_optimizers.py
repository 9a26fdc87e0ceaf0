"""solve with an optimizer, a learning-rate schedule and L2 (issue 15, item 5): the Step records.

``Problem.steps`` / ``dr.steps`` take the problem's optimization; each step is the reference
rule's (:func:`deltarule.descent.optimize`, bit for bit) and carries the state before and after,
the ``_hat`` values, t, λ and the penalty under the names of DESIGN's December additions.
"""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import deltarule as dr
from conftest import require_module
from deltarule import optimizers as opt
from deltarule import schedules as sch
from deltarule.descent import optimize
from deltarule.optimization import Optimization
from deltarule.schedule import Schedule
from deltarule.trace import Step

OPTIMIZERS = {
    "momentum": opt.SGD(momentum=0.9),
    "nesterov": opt.SGD(momentum=0.8, nesterov=True),
    "rmsprop": opt.RMSprop(),
    "adam": opt.Adam(),
    "adamw": opt.AdamW(weight_decay=0.05),
    "plain-sgd": opt.SGD(),
}


def _seed002(optimizer=None, lr_schedule=None, l2=0.0):
    p = dr.load_problem("seed-002")
    return replace(p, optimization=Optimization(optimizer, lr_schedule, l2))


def _batches_problem(optimizer, lr_schedule, l2):
    """A 2-3-2 tanh/sigmoid network on 5 examples, mini-batches of 2 (3 updates an epoch)."""
    rng = np.random.default_rng(7)
    net = dr.Network((dr.Layer(rng.normal(size=(3, 2)), rng.normal(size=3), "tanh"),
                      dr.Layer(rng.normal(size=(2, 3)), rng.normal(size=2), "sigmoid")), "half_mse", "mean")
    x, y = rng.normal(size=(5, 2)), rng.uniform(size=(5, 2))
    return net, x, y, Schedule("minibatch", 2, 3), Optimization(optimizer, lr_schedule, l2)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("l2", [0.0, 0.03])
def test_steps_are_the_reference_rule_bit_for_bit(name, l2):
    # 8 updates over 3 epochs of 3 batches, the rate halving every epoch: the state carries,
    # the rate changes at updates 4 and 7, and every parameter is optimize()'s exactly
    optimizer, schedule = OPTIMIZERS[name], sch.Step(step_size=1, gamma=0.5)
    net, x, y, batches, optimization = _batches_problem(optimizer, schedule, l2)
    out = dr.steps(net, x, y, 0.3, batches, count=9, optimization=optimization)
    run = optimize(net, x, y, 0.3, optimizer, schedule, l2, batches)
    assert len(out) == 9
    assert np.array_equal(out[-1].after.parameters(), run.network.parameters())
    assert [s.loss for s in out] == run.losses.tolist()   # batch losses, penalty included
    assert [s.learning_rate for s in out] == [0.3] * 3 + [0.15] * 3 + [0.075] * 3
    assert [s.epoch for s in out] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    for k in run.state:
        assert np.array_equal(out[-1].state[k], run.state[k]), k
    for a, b in zip(out, out[1:]):     # the state after one step is the state before the next
        assert b.before is a.after and b.state_before.keys() == a.state.keys()
        assert all(np.array_equal(b.state_before[k], a.state[k]) for k in a.state)
    assert [s.state["t"] for s in out] == list(range(1, 10))


def test_a_plain_problem_gives_the_plain_step_unchanged():
    plain = dr.load_problem("seed-002").steps(2)
    also_plain = _seed002(opt.SGD()).steps(2)   # sgd without momentum, constant rate, no L2
    for a, b in zip(plain, also_plain):
        assert a.plain and b.plain and b.state is None and b.optimizer is None
        assert a.to_json() == b.to_json() and set(a.values()) == set(b.values())
        assert set(a.to_json()) == {"examples", "loss", "loss_after", "layers"}


def test_momentum_on_seed_002_by_hand():
    s1, s2 = _seed002(opt.SGD(momentum=0.9)).steps(2)
    v1, v2 = s1.values(), s2.values()
    # step 1: v starts at 0, so vW2 = 0.9·0 + dW2 = dW2 = delta2·a1 = 0.04696·(0.5933, 0.5969) (seed 002)
    assert v1["vW2"].round(5).tolist() == [[0.02786, 0.02803]]
    assert np.array_equal(v1["vW2"], v1["dW2"]) and np.array_equal(s1.state_before["vW2"], np.zeros((1, 2)))
    # and W2_new = W2 - η·vW2 = 0.40 - 0.5·0.02786 = 0.38607: plain descent's numbers on step 1
    assert v1["W2_new"].round(5).tolist() == [[0.38607, 0.43599]]
    # step 2: vW2 = 0.9·vW2(step 1) + dW2(step 2), and the state before step 2 is step 1's after
    assert np.array_equal(s2.state_before["vW2"], v1["vW2"])
    assert np.allclose(v2["vW2"], 0.9 * v1["vW2"] + v2["dW2"], rtol=0, atol=1e-15)
    assert np.allclose(v2["W2_new"], v2["W2"] - 0.5 * v2["vW2"], rtol=0, atol=1e-15)
    assert v1["t"] == 1 and v2["t"] == 2 and s2.learning_rate == 0.5


def test_adam_on_seed_002_by_hand():
    s1, s2 = _seed002(opt.Adam()).steps(2)
    v1, v2 = s1.values(), s2.values()
    g = v1["db2"][0]
    # t = 1: mb2 = 0.1·g, sb2 = 0.001·g², the hats undo exactly that: mb2_hat = g, sb2_hat = g²,
    # so b2_new = b2 - η·g/(|g| + 1e-8) = 0.60 - 0.5·(1 - 2e-7) ≈ 0.1000001 (g = 0.04696 > 0)
    assert np.isclose(v1["mb2"][0], 0.1 * g, rtol=1e-15) and np.isclose(v1["sb2"][0], 0.001 * g * g, rtol=1e-12)
    assert np.isclose(v1["mb2_hat"][0], g, rtol=1e-14) and np.isclose(v1["sb2_hat"][0], g * g, rtol=1e-12)
    assert v1["b2_new"][0] == pytest.approx(0.60 - 0.5 * g / (g + 1e-8), abs=1e-15)
    # t = 2: the moments carry, the corrections are 1 - 0.9² = 0.19 and 1 - 0.999² = 0.001999
    m = 0.9 * v1["mW1"] + 0.1 * v2["dW1"]
    s = 0.999 * v1["sW1"] + 0.001 * v2["dW1"] ** 2
    assert np.allclose(v2["mW1"], m, rtol=1e-14, atol=0) and np.allclose(v2["sW1"], s, rtol=1e-12, atol=0)
    assert np.allclose(v2["mW1_hat"], m / 0.19, rtol=1e-12) and np.allclose(v2["sW1_hat"], s / 0.001999, rtol=1e-10)
    assert v2["t"] == 2 and {"mW1", "sW1", "mb2_hat", "sb2_hat"} <= set(s2.state_before) | set(v2)


def test_l2_in_the_loss_and_the_gradient():
    lam = 0.1
    (s,) = _seed002(opt.SGD(momentum=0.9), l2=lam).steps(1)
    v = s.values()
    W1, W2 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45]])
    # penalty = (0.1/2)·(0.15² + 0.20² + 0.25² + 0.30² + 0.40² + 0.45²) = 0.05·0.5775 = 0.028875
    assert s.penalty == pytest.approx(0.028875, abs=1e-15) and s.l2 == lam
    assert v["loss"] == pytest.approx(s.data_loss + 0.028875, abs=1e-15)
    assert s.data_loss == pytest.approx(0.03159, abs=1e-5)   # seed 002: E = ½(0.7514 − 0.5)²
    assert np.allclose(v["dW1"], s.trace.layers[0].dW + lam * W1, rtol=0, atol=1e-16)
    assert np.allclose(v["dW2"], s.trace.layers[1].dW + lam * W2, rtol=0, atol=1e-16)
    assert np.array_equal(v["db2"], s.trace.layers[1].db)           # biases: no penalty
    W_new = [lay.W for lay in s.after.layers]
    assert s.loss_after == pytest.approx(s.after_trace.loss + 0.05 * sum(float(np.sum(W * W)) for W in W_new),
                                         rel=1e-15)


def test_json_names_per_layer_and_top_level():
    s1, s2 = _seed002(opt.Adam(beta1=0.8), sch.Exponential(gamma=0.5), 0.01).steps(2)
    d = json.loads(json.dumps(s2.to_json()))
    layer2 = d["layers"][1]
    for name in ("mW", "mb", "sW", "sb", "mW_hat", "mb_hat", "sW_hat", "sb_hat"):
        assert np.array_equal(np.array(layer2[name]), np.asarray(s2.values()[name[:2] + "2" + name[2:]])), name
    assert "vW" not in layer2
    assert d["t"] == 2 and d["epoch"] == 2 and d["learning_rate"] == 0.25 and d["base_learning_rate"] == 0.5
    assert d["optimizer"] == {"name": "adam", "beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    assert d["learning_rate_schedule"] == {"name": "exponential", "gamma": 0.5}
    assert d["l2"] == 0.01 and d["penalty"] == pytest.approx(s2.penalty) and d["penalty"] > 0
    assert d["loss"] == pytest.approx(d["data_loss"] + d["penalty"], abs=1e-16)
    assert layer2["dW"] == s2.values()["dW2"].tolist()


def test_frozen_parameters_keep_zero_state():
    p = dr.load_problem("seed-002")
    layers = (replace(p.network.layers[0], train_biases=False), p.network.layers[1])
    q = replace(p, network=replace(p.network, layers=layers), optimization=Optimization(opt.SGD(momentum=0.9)))
    s1, s2 = q.steps(2)
    assert np.array_equal(s2.after.layers[0].b, p.network.layers[0].b)
    assert not s2.state["vb1"].any() and s2.state["vW1"].any()


def test_step_defaults_keep_plain_records_plain():
    step = dr.load_problem("seed-002").steps(1)[0]
    assert isinstance(step, Step) and step.plain and step.hats is None and step.dW_l2 is None
    assert step.loss == step.trace.loss and step.gradients()[0][0] is step.trace.layers[0].dW


# -- the worked solution: every format shows the optimizer's lines ----------------------------------
def _solution(optimizer, lr_schedule=None, l2=0.0, count=2, style="neuron", decimals=4, chain=None):
    q = _seed002(optimizer, lr_schedule, l2)
    return dr.Solution(q, q.steps(count), decimals, style, chain)


def test_text_works_a_momentum_step_out_by_hand():
    text = _solution(opt.SGD(momentum=0.9)).to_text()
    # the rule, once, from the registry's formulas
    assert "Optimizer sgd (PyTorch's torch.optim.SGD: μ = 0.9)" in text
    assert "  vW = μ·vW + dW\n  W_new = W - η·vW\n" in text
    # update 1: v starts at 0, so vW2[1,1] = 0.9·0 + dW2[1,1] = 0.0279 (δ2·a1[1] = 0.04696·0.59327)
    assert "vW2[1,1] = μ·vW2[1,1] + dW2[1,1] = 0.9·0.0000 + 0.0279 = 0.0279" in text
    assert "W2_new[1,1] = W2[1,1] - η·vW2[1,1] = 0.4000 - 0.5·0.0279 = 0.3861" in text
    # update 2: the velocity carries: 0.9·0.0279 + 0.0275 = 0.0526, then 0.3861 - 0.5·0.0526 = 0.3598
    assert "vW2[1,1] = μ·vW2[1,1] + dW2[1,1] = 0.9·0.0279 + 0.0275 = 0.0526" in text
    assert "W2_new[1,1] = W2[1,1] - η·vW2[1,1] = 0.3861 - 0.5·0.0526 = 0.3598" in text
    assert text.count("  t = 1\n") == 1 and text.count("  t = 2\n") == 1
    assert text.count("vb1[2] = μ·vb1[2] + db1[2]") == 2   # every parameter, biases included, each step


def test_text_works_an_adam_step_with_l2_and_a_schedule():
    text = _solution(opt.Adam(), sch.Step(step_size=1, gamma=0.5), l2=0.1).to_text()
    for _, line in opt.Adam().formulas("W"):   # the rule as the registry writes it
        assert f"  {line}\n" in text
    assert "L2 regularization, λ = 0.1, on the weights only, not the biases" in text
    assert "L = L_data + (λ/2)·Σ_l ‖W_l‖² = 0.0316 + 0.0289 = 0.0605" in text  # 0.05·0.5775 = 0.0289
    assert "The penalty counts the weights only, not the biases" in text
    # dW2[1,1] = δ2 a1[1] + λ·W2[1,1] = 0.0470·0.5933 + 0.1·0.4 = 0.0279 + 0.04 = 0.0679
    assert "dW2[1,1] = δ2[1] a1[1] + λ·W2[1,1] = 0.0470(0.5933) + 0.1·0.4000 = 0.0679" in text
    assert "db2[1] = δ2[1] = 0.0470" in text      # biases: no penalty
    assert "Epoch 1 (e = 0): the schedule's rate is η_e = 0.5" in text
    assert "Epoch 2 (e = 1): the schedule's rate is η_e = 0.25 (base η = 0.5)." in text
    # Adam's first step: m̂ = g and ŝ = g², so b2 moves by η·g/(|g| + ε) = 0.5: 0.6 -> 0.1
    assert "mb2_hat[1] = mb2[1] / (1 - β1^t) = 0.0047 / (1 - 0.9^1) = 0.0470" in text
    assert "b2_new[1] = b2[1] - η·mb2_hat[1] / (√sb2_hat[1] + ε)" in text
    assert "= 0.6000 - 0.5·0.0470 / (√0.0022 + 1e-08)" in text


def test_the_rule_says_whose_it_is():
    """eps_placement: sklearn is not PyTorch's Adam: the solution's header said it was."""
    assert "Optimizer adam (PyTorch's torch.optim.Adam: β1 = 0.9" in _solution(opt.Adam(), count=1).to_text()
    text = _solution(opt.Adam(eps_placement="sklearn"), count=1).to_text().replace("\n", " ")
    assert "Optimizer adam (PyTorch's torch.optim.Adam with scikit-learn's ε placement (against the uncorrected" in text
    assert "W_new = W - η·√(1 - β2^t) / (1 - β1^t)·mW / (√sW + ε)" in text   # the rate folds the correction


def test_adamw_shows_the_decay_on_weights_only():
    s1, = _seed002(opt.AdamW(weight_decay=0.1)).steps(1)
    text = _solution(opt.AdamW(weight_decay=0.1), count=1).to_text()
    # W1[1,1] = W1[1,1] - η·λ·W1[1,1] = 0.15 - 0.5·0.1·0.15 = 0.1425, and Adam starts from it
    assert "W1[1,1] = W1[1,1] - η·λ·W1[1,1] = 0.1500 - 0.5·0.1·0.1500 = 0.1425" in text
    assert s1.decayed[0][0, 0] == pytest.approx(0.1425, abs=1e-15)
    assert "= 0.1425 - 0.5·" in text and "b1[1] = b1[1] - η·λ" not in text
    assert "Biases alike, without the decay" in text


def test_matrix_style_and_every_format():
    sol = _solution(opt.RMSprop(alpha=0.9), sch.Exponential(gamma=0.5), l2=0.01, style="matrix")
    text, md, tex, html = sol.to_text(), sol.to_markdown(), sol.to_latex(), sol.to_html()
    assert "sW1 = ρ·sW1 + (1 - ρ)·dW1²" in text and "W1_new = W1 - η·dW1 / (√sW1 + ε)" in text
    assert "dW1 = δ1 x^T + λ·W1" in text
    for fmt_text in (md, tex):
        assert r"s_{W_{}} = \rho\, s_{W_{}} + (1 - \rho)\,(dW_{})^2" in fmt_text   # the registry's LaTeX
        assert r"0.9 \cdot " in fmt_text and r"1 \times 10^{-8}" in fmt_text   # products visible in LaTeX
    assert "<code>" not in html and html.count("<math") > 100   # every formula became MathML
    assert "η_e = 0.25" in text


def test_chain_is_the_same_as_for_a_plain_step():
    def chain(text):
        i = text.index("The fully expanded chain")
        return text[i:text.index("Update:", i)]
    plain = dr.Solution(dr.load_problem("seed-002"), dr.load_problem("seed-002").steps(1), 4, "neuron", "W1[1,1]")
    assert chain(_solution(opt.Adam(), count=1, chain="W1[1,1]").to_text()) == chain(plain.to_text())


def test_rendered_without_computing(monkeypatch):
    q = _seed002(opt.AdamW(), sch.Cosine(t_max=3), 0.1)
    steps = q.steps(2)

    def boom(*_a, **_k):
        raise AssertionError("a renderer computed a model value")

    for name in ("trace", "evaluate", "predict", "step", "update", "example_gradients"):
        monkeypatch.setattr(dr.Network, name, boom)
    for name in ("step", "step_values", "update", "decayed"):
        monkeypatch.setattr(opt.AdamW, name, boom)
    monkeypatch.setattr(sch.Cosine, "rate", boom)
    for style in ("neuron", "matrix"):
        sol = dr.Solution(q, steps, 3, style)
        assert "mW1_hat" in sol.to_text() and sol.to_latex() and sol.to_html() and sol.to_markdown()
        assert sol.interactive()._repr_html_()


@pytest.mark.slow
def test_latex_of_optimizer_steps_compiles(tmp_path):
    import subprocess

    from conftest import require_tool

    pdflatex = require_tool("pdflatex")
    cases = {"adamw": _solution(opt.AdamW(), sch.Cosine(t_max=4), 0.1),
             "adamw-matrix": _solution(opt.AdamW(), sch.Cosine(t_max=4), 0.1, style="matrix"),
             "nesterov": _solution(opt.SGD(momentum=0.9, nesterov=True), l2=0.01, decimals=3),
             "rmsprop-matrix": _solution(opt.RMSprop(), style="matrix", decimals=3)}
    for name, sol in cases.items():
        (tmp_path / f"{name}.tex").write_text(sol.to_latex(), encoding="utf-8")
        r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                           cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=120)
        assert r.returncode == 0, r.stdout[-2000:]
        assert (tmp_path / f"{name}.pdf").stat().st_size > 10_000
        assert "?" not in sol.to_latex().split(r"\begin{document}")[1].replace("?}", "")  # no unset symbol


# -- the built-in worked examples: seed-002-momentum, seed-002-adam, digits-adam ---------------------
def _torch_steps(p, count: int):
    """``count`` updates of problem p in torch.optim (float64, its batches from p.steps): the
    parameters after each ({our name: array}) and the optimizer state after the last."""
    torch = require_module("torch")
    steps = p.steps(count)
    model, loss_fn = p.network.to_torch(), p.network.torch_loss()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    o = p.optimization.optimizer
    groups, l2_in_loss = o.torch_param_groups([m.weight for m in linears], [m.bias for m in linears],
                                              p.optimization.l2)
    topt = getattr(torch.optim, o.torch_name)(groups, lr=p.learning_rate, **o.torch_kwargs())
    x, y = p.split()[:2]
    after = []
    for s in steps:
        idx = list(s.examples)
        topt.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
        (loss + 0.5 * l2_in_loss * sum((m.weight ** 2).sum() for m in linears)).backward()
        topt.step()
        after.append({f"{k}{l}": getattr(m, "weight" if k == "W" else "bias").detach().numpy().copy()
                      for l, m in enumerate(linears, start=1) for k in "Wb"})
    state = {}
    for l, m in enumerate(linears, start=1):
        for k, param in (("W", m.weight), ("b", m.bias)):
            for ours, theirs in (("v", "momentum_buffer"), ("m", "exp_avg"), ("s", "exp_avg_sq")):
                if theirs in topt.state.get(param, {}):
                    state[f"{ours}{k}{l}"] = topt.state[param][theirs].detach().numpy()
    return steps, after, state


def _equal_to_torch(p, count: int, rtol: float):
    steps, after, state = _torch_steps(p, count)
    for s, theirs in zip(steps, after):
        for l, lay in enumerate(s.after.layers, start=1):
            np.testing.assert_allclose(lay.W, theirs[f"W{l}"], rtol=rtol, atol=rtol * 1e-3)
            np.testing.assert_allclose(lay.b, theirs[f"b{l}"], rtol=rtol, atol=rtol * 1e-3)
    assert state and set(state) <= set(steps[-1].state)
    for k, v in state.items():
        np.testing.assert_allclose(steps[-1].state[k], v, rtol=rtol, atol=rtol * 1e-6)
    return steps


def test_seed_002_momentum_example():
    p = dr.load_problem("seed-002-momentum")
    assert p.optimization.optimizer == opt.SGD(momentum=0.9) and p.learning_rate == 0.5 and p.decimals == 4
    s1, s2 = _equal_to_torch(p, 2, 1e-14)   # torch.optim.SGD(momentum=0.9), float64
    v1, v2 = s1.values(), s2.values()
    # update 1 (v starts at 0, so v = dW and the step is plain descent's):
    #   dW2 = δ2·a1 = 0.04695892·(0.59326999, 0.59688438) = (0.02785932, 0.02802904) = vW2
    #   W2_new = 0.40 - 0.5·0.02785932 = 0.38607034;  vb2 = db2 = 0.04695892, b2_new = 0.60 - 0.02347946 = 0.57652054
    np.testing.assert_allclose(v1["vW2"], [[0.02785932, 0.02802904]], atol=1e-8)
    np.testing.assert_allclose(v1["W2_new"], [[0.38607034, 0.43598548]], atol=1e-8)
    np.testing.assert_allclose(v1["b2_new"], [0.57652054], atol=1e-8)
    # update 2: dW2 = (0.02753289, 0.02769774), db2 = 0.04645207
    #   vW2[1,1] = 0.9·0.02785932 + 0.02753289 = 0.05260628;  W2_new[1,1] = 0.38607034 - 0.5·0.05260628 = 0.35976720
    #   vb2 = 0.9·0.04695892 + 0.04645207 = 0.08871510;       b2_new = 0.57652054 - 0.5·0.08871510 = 0.53216299
    np.testing.assert_allclose(v2["dW2"], [[0.02753289, 0.02769774]], atol=1e-8)
    np.testing.assert_allclose(v2["vW2"][0, 0], 0.05260628, atol=2e-8)
    np.testing.assert_allclose(v2["W2_new"][0, 0], 0.35976720, atol=2e-8)
    np.testing.assert_allclose(v2["vb2"], [0.08871510], atol=2e-8)
    np.testing.assert_allclose(v2["b2_new"], [0.53216299], atol=2e-8)
    assert s2.loss_after < s2.loss < s1.loss          # 0.03159 -> 0.02970 -> 0.02618
    text = dr.solve("seed-002-momentum", steps=2).to_text()
    assert "vb2[1] = μ·vb2[1] + db2[1] = 0.9·0.0470 + 0.0465 = 0.0887" in text
    assert "b2_new[1] = b2[1] - η·vb2[1] = 0.5765 - 0.5·0.0887 = 0.5322" in text


def test_seed_002_adam_example():
    p = dr.load_problem("seed-002-adam")
    assert p.optimization.optimizer == opt.Adam() and p.learning_rate == 0.05 and p.decimals == 6
    s1, s2 = _equal_to_torch(p, 2, 1e-13)   # torch.optim.Adam, float64
    v1, v2 = s1.values(), s2.values()
    g1, g2 = 0.04695892, 0.04517467        # db2 of updates 1 and 2
    np.testing.assert_allclose([v1["db2"][0], v2["db2"][0]], [g1, g2], atol=1e-8)
    # update 1: mb2 = 0.1·g1 = 0.00469589, sb2 = 0.001·g1² = 2.2051e-6; the corrections undo the
    # factors (1 - 0.9¹ = 0.1, 1 - 0.999¹ = 0.001): mb2_hat = g1, sb2_hat = g1² = 0.00220514,
    # b2_new = 0.60 - 0.05·g1/(g1 + 1e-8) = 0.60 - 0.05·(1 - 2.1e-7) = 0.55000001
    np.testing.assert_allclose(v1["mb2"], [0.00469589], atol=1e-8)
    np.testing.assert_allclose(v1["sb2_hat"], [0.00220514], atol=1e-8)
    np.testing.assert_allclose(v1["b2_new"], [0.55000001], atol=1e-8)
    # update 2: mb2 = 0.9·0.00469589 + 0.1·g2 = 0.00874377; mb2_hat = 0.00874377 / 0.19 = 0.04601984
    #   sb2 = 0.999·2.20514e-6 + 0.001·g2² = 4.24368e-6; sb2_hat = 4.24368e-6 / 0.001999 = 0.00212290
    #   b2_new = 0.55000001 - 0.05·0.04601984 / (√0.00212290 + 1e-8) = 0.55000001 - 0.04994015 = 0.50005986
    np.testing.assert_allclose(v2["mb2"], [0.00874377], atol=1e-8)
    np.testing.assert_allclose(v2["mb2_hat"], [0.04601984], atol=1e-8)
    np.testing.assert_allclose(v2["sb2"], [4.24368e-6], atol=1e-11)
    np.testing.assert_allclose(v2["sb2_hat"], [0.00212290], atol=1e-8)
    np.testing.assert_allclose(v2["b2_new"], [0.50005986], atol=2e-8)
    assert v2["t"] == 2 and s2.loss_after < s2.loss < s1.loss
    text = dr.solve("seed-002-adam", steps=2).to_text()
    assert "mb2_hat[1] = mb2[1] / (1 - β1^t) = 0.008744 / (1 - 0.9^2) = 0.046020" in text
    # a tiny s written out where update 2 uses it: sW1[1,1] = 0.001·dW1[1,1]² = 0.001·0.00022662² = 5.14e-11
    assert "= 0.999·(5.14 × 10^-11) + (1 - 0.999)·0.000193²" in text


def test_digits_adam_example():
    p = dr.load_problem("digits-adam")
    assert p.optimization.optimizer == opt.Adam() and p.optimization.l2 == 1e-4 and len(p.x) == 1797
    _equal_to_torch(p, 5, 1e-10)           # five mini-batches of 32, L2 as the weights' weight_decay
    sol = dr.solve("digits-adam")          # a worked first update of 32 examples, written in short
    assert "mW1_hat" in sol.to_text() and "Every number is in `deltarule solve --format json`" in sol.to_text()
    short = replace(p, schedule=replace(p.schedule, epochs=3))
    journal = short.train().journal
    accuracy = journal.rows[:, journal.columns.index("val_accuracy")]
    assert accuracy[-1] > 0.9 and accuracy[-1] > accuracy[1]   # 3 epochs of Adam: past 90% held out


def test_solve_json_of_the_momentum_example(capsys):
    from deltarule.cli import main

    assert main(["solve", "seed-002-momentum", "--steps", "2", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    s1, s2 = d["steps"]
    assert s2["t"] == 2 and s2["optimizer"] == {"name": "sgd", "momentum": 0.9, "nesterov": False}
    assert s1["layers"][1]["vW"] == s1["layers"][1]["dW"]                       # v = g on the first step
    np.testing.assert_allclose(s2["layers"][1]["vW"][0][0], 0.05260628, atol=2e-8)  # 0.9·0.02785932 + 0.02753289
    assert main(["examples"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ("seed-002-momentum", "seed-002-adam", "digits-adam"))


def test_interactive_page_steps_through_the_optimizer_lines():
    from deltarule.explain import interactive

    sol = dr.solve("seed-002-adam", steps=2)
    lines = interactive.page_data(sol.problem, sol.steps, sol.document, sol.decimals)["lines"]
    update = [ln["lhs"] for ln in lines if ln["u"] == 1 and ln["phase"] == "update"]
    # t, then per parameter (6 weights, 3 biases) m, s, m_hat, s_hat, new: 1 + 9·5 = 46 lines
    assert len(update) == 46 and update[0] == "t" and update[1:6] == [
        "mW1[1,1]", "sW1[1,1]", "mW1_hat[1,1]", "sW1_hat[1,1]", "W1_new[1,1]"]
    assert not [ln for ln in lines if ln["phase"] == "other"]


def test_a_batch_shows_the_penalty_after_the_batch_loss():
    p = dr.load_problem("xor")
    q = replace(p, optimization=Optimization(opt.Adam(), None, 0.01))
    (s,) = q.steps(1)
    text = dr.Solution(q, [s], 3).to_text()
    # xor's 4 examples: L_data is their mean, then L = L_data + penalty (λ/2 = 0.005 times ΣW²)
    i = text.index("Batch loss")
    block = text[i:text.index("Gradients", i)]
    assert "  L_data = 1/4 (L[1] + L[2] + L[3] + L[4])" in block
    assert f"  L = L_data + (λ/2)·Σ_l ‖W_l‖² = {s.data_loss:.3f} + {s.penalty:.3f} = {s.loss:.3f}" in block
    ssq = sum(float(np.sum(lay.W ** 2)) for lay in p.network.layers)
    assert s.penalty == pytest.approx(0.005 * ssq, rel=1e-15) and s.penalty > 0


@pytest.mark.slow
def test_momentum_html_in_headless_chromium(tmp_path):
    import subprocess

    from conftest import require_tool

    chromium = require_tool("chromium")
    page = tmp_path / "momentum.html"
    page.write_text(dr.solve("seed-002-momentum", steps=2).to_html(), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    r = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    # update 2's vW2[1,1] = 0.9·0.0279 + 0.0275 = 0.0526, then W2_new[1,1] = 0.3861 - 0.5·0.0526 = 0.3598
    for number in ("0.9", "0.0279", "0.0275", "0.0526", "0.3861", "0.3598"):
        assert f"<mn>{number}</mn>" in r.stdout, number
    assert "<mi>μ</mi>" in r.stdout and "<code>" not in r.stdout
