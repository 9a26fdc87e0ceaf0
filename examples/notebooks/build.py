"""Write the example notebooks from the Python source below (never edit the .ipynb files).

    python examples/notebooks/build.py           # (re)write the three notebooks, without outputs
    python examples/notebooks/build.py --check   # exit 1 if a committed notebook differs

Each notebook is a list of cells: ``md(...)`` for Markdown, ``code(...)`` for Python.
Cell ids are fixed (``cell-01``, ...) so that regenerating gives the same file, byte for
byte, and diffs stay readable. ``tests/test_notebooks.py`` runs every notebook top to
bottom against the installed package; a cell that raises fails the test.
"""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str):
    return new_code_cell(textwrap.dedent(text).strip("\n"))


# -- 1. gradient descent on a single neuron (seed 000) ------------------------------------------
GRADIENT_DESCENT = [
    md("""
    # Gradient descent on a single neuron

    **What this notebook teaches.** Seed 000 of the lecture notes, redone with deltarule: one
    sigmoid neuron $\\hat y = \\sigma(w x + b)$, the squared error $L = (y - \\hat y)^2$, one
    update by hand and by the library, then **batch**, **mini-batch** and **stochastic**
    gradient descent on the same six examples, the training journal as a pandas DataFrame,
    the notes' own journal table, the pictures (the journal, and the loss surface with the three
    descent paths), and what the differences between the three methods mean.
    """),
    code("""
    import numpy as np
    import matplotlib.pyplot as plt
    import deltarule as dr
    from deltarule import landscape, plots
    """),
    md("""
    ## The neuron and its data

    The built-in example `seed-000-neuron` is the notes' problem: six examples, one input each,
    a sigmoid neuron starting at $w = 2$, $b = 1$, learning rate $\\eta = 0.9$. The loss is `sse`,
    $(\\hat y - y)^2$ per example, averaged over a batch (`reduction=mean`).
    """),
    code("""
    p = dr.load_problem("seed-000-neuron")
    print(p.network, "| learning rate", p.learning_rate, "|", p.schedule)
    print("x =", p.x.ravel())
    print("y =", p.y.ravel())
    """),
    md("""
    ## A forward pass, and the loss

    The notes first try $w = -1$, $b = 2$. `with_parameters` takes the parameters in the order
    of `parameter_names()` (here `w`, `b`); `predict` is the forward pass, one row per example.
    """),
    code("""
    print(p.network.parameter_names())
    net = p.network.with_parameters([-1.0, 2.0])
    yhat = net.predict(p.x)                      # (6, 1): sigma(w x + b) for each example
    print("yhat           =", yhat.ravel().round(4))
    print("yhat - y       =", (yhat - p.y).ravel().round(4))
    print("squared errors =", ((yhat - p.y) ** 2).ravel().round(4))
    # the notes add the six squared errors: 1.18266...; the library averages them (mean)
    print("sum =", round(6 * net.evaluate(p.x, p.y), 5), " mean =", round(net.evaluate(p.x, p.y), 5))
    """),
    md("""
    ## One update, by hand and by the library

    The delta rule for one neuron is the chain rule of the notes:

    $$\\frac{\\partial L}{\\partial w} = \\underbrace{-2(y - \\hat y)}_{\\partial L/\\partial \\hat y}
    \\cdot \\underbrace{\\hat y (1 - \\hat y)}_{\\sigma'(z)} \\cdot x, \\qquad
    \\frac{\\partial L}{\\partial b} = -2(y - \\hat y) \\cdot \\hat y (1 - \\hat y).$$

    From $w = -2$, $b = 1$ on the first example ($x = 3.5$, $y = 0.5$) with $\\eta = 0.9$.
    `Network.step` does the forward pass, the backward pass and the update, and keeps every
    number under its canonical name (`z1`, `a1`, `dL_da1`, `delta1`, `dW1`, `db1`, `W1_new`, ...).
    """),
    code("""
    start = p.network.with_parameters([-2.0, 1.0])
    x, y = 3.5, 0.5
    yhat = 1 / (1 + np.exp(-(-2.0 * x + 1.0)))
    grad_w = -2 * (y - yhat) * yhat * (1 - yhat) * x       # by hand, as in the notes
    grad_b = -2 * (y - yhat) * yhat * (1 - yhat)

    step = start.step(p.x[:1], p.y[:1], p.learning_rate)   # by the library
    v = step.values()
    print(f"by hand:    dL/dw = {grad_w:.6f}   dL/db = {grad_b:.6f}")
    print(f"deltarule:  dW1   = {v['dW1'][0, 0]:.6f}   db1   = {v['db1'][0]:.6f}")
    print(f"w_new = {v['W1_new'][0, 0]:.6f}, b_new = {v['b1_new'][0]:.6f}")
    print(f"loss {step.loss:.5f} before, {step.loss_after:.5f} after the update")
    assert np.isclose(v["dW1"][0, 0], grad_w) and np.isclose(v["db1"][0], grad_b)
    """),
    md("""
    The worked solution of that update, laid out like the notes (it displays itself in
    Jupyter; `print(solution)` gives the terminal text). `seed-000-update` is the same
    neuron starting from $w = -2$, $b = 1$:
    """),
    code("""
    dr.solve("seed-000-update", decimals=4)
    """),
    md("""
    ## Three ways to descend

    * **batch** — one update per epoch, with the gradient averaged over all six examples;
    * **mini-batch** — one update per `batch_size` examples (here 2: three updates per epoch);
    * **stochastic** — one update per example (six updates per epoch), in file order.

    `Schedule(method, batch_size, epochs)` says which; `Problem.train` runs it from the
    problem's start and returns the final network and the journal.
    """),
    code("""
    schedules = {
        "batch": dr.Schedule("batch", epochs=10),
        "minibatch": dr.Schedule("minibatch", batch_size=2, epochs=10),
        "stochastic": dr.Schedule("stochastic", epochs=10),
    }
    runs = {name: p.train(s) for name, s in schedules.items()}
    for name, r in runs.items():
        w, b = r.network.parameters()
        print(f"{name:>10}: {r.updates:2d} updates, w = {w:+.4f}, b = {b:+.4f}, "
              f"loss {r.journal.loss[0]:.4f} -> {r.journal.loss[-1]:.4f}")
    """),
    md("""
    ## The journal is a DataFrame

    One row per epoch (row 0 is the start): the loss over all six examples with the parameters
    at the end of that epoch, then every parameter.
    """),
    code("""
    runs["stochastic"].journal.to_frame().round(4)
    """),
    md("""
    ### The notes' own table

    The notes' table measures the loss differently: each example's squared error right after
    its own update, averaged over the epoch (a *running* loss). `journal_loss="running"` gives
    exactly their numbers (epoch 1: $w = 1.8900$, $b = 0.8304$, loss $0.2673$). Compare the last
    row with the table above: the running loss (0.0114) looks better than the loss of the final
    parameters on all the data, because each example is judged by a neuron that has just been
    fitted to it.
    """),
    code("""
    notes = p.train(journal_loss="running").journal.to_frame().round(4)
    assert notes.loc[1, ["w", "b", "loss"]].tolist() == [1.8900, 0.8304, 0.2673]   # the notes' first row
    notes
    """),
    md("""
    ## Pictures

    `Journal.plot` draws journal columns per epoch; `["w", "b", "loss"]` is the notes' figure.
    Beside it, the loss per epoch of the three methods on one set of axes.
    """),
    code("""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    runs["stochastic"].journal.plot(left, columns=["w", "b", "loss"], title="stochastic: w, b and loss")
    for name, r in runs.items():
        r.journal.plot(right, label=name)
    right.set_title("loss per epoch, three methods")
    plt.show()
    """),
    md("""
    ### The loss surface and the three descent paths

    The neuron has two parameters, so the loss over all six examples is a surface over the
    $(w, b)$ plane. `landscape.descent_path` records $(w, b)$ before training and after every
    update and `landscape.surface` computes the loss over a grid around the paths;
    `plots.plot_surface` draws the contours with each path on top (start ★, end ✕).
    """),
    code("""
    names = p.network.parameter_names()
    paths = {name: landscape.descent_path(p.network, p.x, p.y, p.learning_rate, s, names)
             for name, s in schedules.items()}
    for name, path in paths.items():
        print(f"{name:>10}: {len(path) - 1} updates, ends at w = {path[-1, 0]:+.4f}, b = {path[-1, 1]:+.4f}")
    fig, ax = plt.subplots(figsize=(8, 6))
    plots.plot_surface(landscape.surface(p.network, p.x, p.y, names, paths), paths, ax)
    plt.show()
    """),
    md("""
    ## What the differences mean

    * **Same epochs, different numbers of steps.** In ten epochs batch descent takes 10 steps,
      mini-batch 30 and stochastic 60, each of size $\\eta$ times a gradient. With the same
      learning rate, the methods that update more often travel further: here stochastic descent
      reaches the valley, batch descent has barely started down the slope.
    * **Smooth or noisy.** The batch gradient is the average over all examples, so the batch
      path follows the steepest way down the surface drawn above. A mini-batch or a single
      example gives an estimate of that gradient: each step may point elsewhere (the zigzags),
      but on average they go downhill.
    * **Cost.** An update on one example costs a sixth of an update on all six, so per unit of
      computation the stochastic path is not slower; on large data sets this is why mini-batches
      are the usual choice.
    * **A fixed step never settles.** With the same $\\eta$ and the examples in the same order every
      epoch, stochastic descent ends on a small loop around the minimum (the knot at the end of its
      path), repeated every epoch: its loss was lower after epoch 6 than after epoch 10. A smaller
      $\\eta$, or one that shrinks over time, brings it closer.
    * **Which loss?** The journal's `loss` is always measured on all examples with the
      parameters at the end of each epoch; the notes' running loss is a cheaper, more optimistic
      estimate. Compare methods on the same measure.
    """),
    code("""
    final = {name: r.journal.loss[-1] for name, r in runs.items()}
    assert final["stochastic"] < final["minibatch"] < final["batch"]   # more steps, lower loss, here
    assert runs["stochastic"].journal.loss[6] < final["stochastic"]     # a fixed step never settles
    final
    """),
]

# -- 2. a worked solution (seeds 001-003) -------------------------------------------------------
WORKED_SOLUTION = [
    md("""
    # A worked solution, and what changes it

    **What this notebook teaches.** How to get a complete worked solution of one
    backpropagation update — forward pass, loss, the delta rule backwards, the gradients and
    the new weights — for the 2-2-1 and 2-2-2 networks of seeds 001–003; how to read it in the
    notebook; what changes when you change one weight or the loss convention; and the fully
    expanded chain rule for a single weight (seed 002 §4.4).
    """),
    code("""
    import dataclasses
    import numpy as np
    import pandas as pd
    import yaml
    import deltarule as dr
    from deltarule import examples
    """),
    md("""
    ## Solve a network

    `dr.solve` takes a problem file, a built-in example name or a `Problem`. The result
    displays itself in Jupyter: the given numbers, every step with the numbers put in, the new
    weights, and the loss after the update. This is seed 001's 2-2-1 network.
    """),
    code("""
    sol = dr.solve("seed-001")
    sol
    """),
    md("""
    The same solution as terminal text, Markdown or LaTeX (for slides) — `sol.to_text()`,
    `sol.to_markdown()`, `sol.to_latex()`, `sol.to_html()`. Every number of the update is also
    available by its canonical name, at full precision:
    """),
    code("""
    step = sol.steps[0]
    v = step.values()
    print("a2 =", v["a2"], " delta2 =", v["delta2"], " dW1 =", v["dW1"].tolist())
    print(f"loss {step.loss:.5f} -> {step.loss_after:.5f} after one update")
    """),
    md("""
    ## Change a weight and see what changes

    A problem is a small YAML document. Read the example's file, change the first output
    weight $W_2[1,1]$ from 0.7 to 1.5, and solve again. Only numbers downstream of that weight
    in the forward pass change — $z_1$ and $a_1$ do not — but every delta changes, because the
    backward pass runs through the output.
    """),
    code("""
    doc = yaml.safe_load(examples.text("seed-001"))
    doc["layers"][1]["weights"] = [[1.5, 0.8]]
    changed = dr.parse_problem(doc, "seed-001 with W2[1,1] = 1.5")

    def side_by_side(a, b, names, labels=("before", "after")):
        \"\"\"Two updates' numbers next to each other, one row per name.\"\"\"
        va, vb = a.values(), b.values()
        show = lambda x: str(np.round(np.asarray(x, dtype=float), 4).tolist())
        return pd.DataFrame({labels[0]: [show(va[n]) for n in names],
                             labels[1]: [show(vb[n]) for n in names]}, index=names)

    names = ["z1", "a1", "z2", "a2", "loss", "delta2", "delta1", "dW1", "W2_new", "loss_after"]
    side_by_side(dr.load_problem("seed-001").steps(1)[0], changed.steps(1)[0], names,
                 ("W2[1,1] = 0.7", "W2[1,1] = 1.5"))
    """),
    md("""
    ## Change the loss convention

    Seed 003 states its loss as $L = \\tfrac12 \\cdot \\tfrac1K \\sum_k (\\hat y_k - y_k)^2$
    (`half_mse`, K = 2 outputs) but its numbers use $\\partial L/\\partial \\hat y = \\hat y - y$,
    which is the derivative of $\\tfrac12 \\sum_k (\\hat y_k - y_k)^2$ (`half_sse`). The two
    conventions differ by the factor $1/K$: the forward pass is the same, the loss and every
    gradient halve, so the new weights differ.
    """),
    code("""
    p3 = dr.load_problem("seed-003")                     # half_mse, as the notes write it
    sse = dataclasses.replace(p3, network=dataclasses.replace(p3.network, loss="half_sse"))
    side_by_side(p3.steps(1)[0], sse.steps(1)[0], ["a2", "loss", "dL_da2", "delta2", "dW2", "W2_new"],
                 ("half_mse (stated)", "half_sse (as computed)"))
    """),
    md("""
    The worked solution writes the loss convention at its top, so a reader always knows
    which one the numbers use. Seed 003 with the loss its numbers use, at its two decimals,
    in matrix form as the notes write it:
    """),
    code("""
    dr.solve(sse, style="matrix")
    """),
    md("""
    ## The fully expanded chain of one weight

    Seed 002 §4.4 follows the path $w_1 \\to z_{h_1} \\to h_1 \\to z_o \\to \\hat y \\to E$. In our
    names $w_1$ is `W1[1,1]` (row 1 = hidden neuron 1, column 1 = input 1):

    $$\\frac{\\partial E}{\\partial W_1[1,1]} = \\underbrace{(\\hat y - y)}_{\\partial E/\\partial \\hat y}
    \\cdot \\underbrace{\\hat y (1-\\hat y)}_{\\sigma'(z_2)} \\cdot \\underbrace{W_2[1,1]}_{\\partial z_2/\\partial a_1[1]}
    \\cdot \\underbrace{a_1[1](1 - a_1[1])}_{\\sigma'(z_1[1])} \\cdot \\underbrace{x_1}_{\\partial z_1[1]/\\partial W_1[1,1]}$$

    `chain="W1[1,1]"` adds that product, with its numbers, to the worked solution (look for
    *The fully expanded chain* after the gradients). At three decimals the gradient shows as
    0.000; the note at the end gives its value.
    """),
    code("""
    chain = dr.solve("seed-002", chain="W1[1,1]")
    chain
    """),
    md("""
    The same product from the trace's own numbers, one factor per link — it is the
    gradient the delta rule computed:
    """),
    code("""
    v = chain.steps[0].values()
    yhat, a1, x = v["a2"][0], v["a1"][0], v["a0"][0]
    factors = {"dE/dyhat": v["dL_da2"][0], "sigma'(z2)": yhat * (1 - yhat), "W2[1,1]": v["W2"][0, 0],
               "sigma'(z1[1])": a1 * (1 - a1), "x1": x}
    product = 1.0
    for f in factors.values():
        product *= f
    print({k: round(float(f), 4) for k, f in factors.items()})
    print(f"product = {product:.6e}   dW1[1,1] = {v['dW1'][0, 0]:.6e}")
    assert abs(product - v["dW1"][0, 0]) < 1e-15
    """),
]

# -- 3. checking your work (seed 003) -----------------------------------------------------------
CHECKING = [
    md("""
    # Checking your work

    **What this notebook teaches.** How `deltarule.check` marks a hand-worked solution as a fair
    marker would: every claimed number is right or wrong, wrong ones say what they should be and,
    when the mistake is a common one, why; and numbers computed correctly from an earlier mistake
    are judged from the student's own numbers (*follow-through*), so one slip costs one mark,
    not ten. The example is seed 003's printed solution, which has real mistakes.
    """),
    code("""
    import numpy as np
    import yaml
    import deltarule as dr
    """),
    md("""
    ## Seed 003's solution, as printed

    Every number the notes print, under the canonical names (the notes number layers from the
    input, so their $z^{(2)}, a^{(2)}$ are our `z1`, `a1`, and their $\\delta^{(3)} = \\partial L/\\partial a^{(3)}$
    is our `dL_da2`). The notes round to two decimals. This is the same content as an answers
    file for `deltarule check PROBLEM ANSWERS` (see `tests/answers/seed-003.answers.yaml`).
    """),
    code("""
    printed = yaml.safe_load('''
    decimals: 2
    answers:
      z1: [0.41, 0.47]
      a1: [0.60, 0.62]
      z2: [1.02, 1.26]
      a2: [0.73, 0.78]
      dL_da2: [0.68, -0.17]
      delta2: [0.13, -0.03]
      db2: [0.13, -0.03]
      dW2: [[0.08, 0.08], [-0.02, -0.02]]
      dL_da1: [0.05, 0.06]
      delta1: [0.01, 0.01]
      db1: [0.01, 0.01]
      dW1: [[0.08, 0.08], [0.1, 0.5]]
      W1_new: [[0.1, 0.3], [0.2, 0.4]]
      b1_new: [0.24, 0.24]
      W2_new: [[0.45, 0.55], [0.71, 0.81]]
      b2_new: [0.27, 0.37]
    ''')
    """),
    md("""
    ## The checker's report

    Against the problem as the notes state it (`seed-003`: the loss $\\tfrac12$ of the *mean* of
    the squared errors). The report displays itself as a table.
    """),
    code("""
    report = dr.check("seed-003", printed)
    report
    """),
    md("""
    Two numbers are wrong:

    * `dL_da2` is twice the stated loss's derivative: the notes differentiated
      $\\tfrac12\\sum_k(\\hat y_k - y_k)^2$, not the mean they wrote. The checker recognises the
      other loss convention.
    * `dW1` is not $\\delta_1 x^T$ at all: its first row was copied from `dW2`, its second row is
      the input $x$.

    Everything after `dL_da2` — `delta2`, `dW2`, `W2_new`, ... — is off from the true values, yet
    marked *right (follow-through)*: each one follows correctly from the student's own earlier
    numbers. A verdict can also be read on its own:
    """),
    code("""
    for name in ("dL_da2", "delta2", "W2_new", "dW1"):
        v = report[name]
        print(f"{name:7} {v.status:5}  {v.note}")
    print(report.summary())
    """),
    md("""
    Against the loss the numbers actually use (`seed-003-as-computed`, `half_sse`) only the copied
    `dW1` is wrong. `report.to_json()` is the form autograders read.
    """),
    code("""
    as_computed = dr.check("seed-003-as-computed", printed)
    assert [v.name for v in as_computed.verdicts if not v.right] == ["dW1"]
    as_computed.to_json()["right"], as_computed.to_json()["wrong"], as_computed["dW1"].note
    """),
    md("""
    ## How follow-through works

    Take a student who makes one early mistake and then works on correctly from it. For the
    output delta they use $\\sigma(z)$ where $\\sigma'(z)$ belongs, $\\delta_2 = \\partial L/\\partial a_2
    \\odot a_2$ instead of $\\odot\\, a_2(1 - a_2)$ — the slip the checker calls *sigma(z) used for
    sigma'(z)*. Everything else they compute honestly from their own (rounded) numbers:
    """),
    code("""
    problem = dr.load_problem("seed-003-as-computed")
    truth = problem.steps(1)[0].values()
    r2 = lambda a: np.round(a, 2)                       # the student rounds every result to 2 decimals

    a1, a2 = r2(truth["a1"]), r2(truth["a2"])          # a correct forward pass
    W2, eta = truth["W2"], problem.learning_rate
    dL_da2 = r2(a2 - np.array([0.05, 0.95]))            # correct for half_sse
    delta2 = r2(dL_da2 * a2)                            # the slip: should be dL_da2 * a2 * (1 - a2)
    dW2 = r2(np.outer(delta2, a1))                      # correct rules from here on
    W2_new = r2(W2 - eta * dW2)
    student = {"a1": a1, "a2": a2, "dL_da2": dL_da2, "delta2": delta2, "dW2": dW2, "W2_new": W2_new}
    dr.check(problem, {"decimals": 2, "answers": student})
    """),
    md("""
    `delta2` is wrong, with the likely cause named; `dW2` and `W2_new` are far from the true values
    but follow from the student's `delta2`, so they are marked right. Now change **one early
    number** — say the student slipped on `a1` too — and keep the rest. The later numbers are
    judged from the new `a1`: `dW2` was computed from the old one, so it no longer follows and is
    marked wrong, with the value it would have had from the student's own numbers. `W2_new`
    stays right: it follows from the student's `dW2` as written.
    """),
    code("""
    changed = dict(student, a1=np.array([0.70, 0.62]))
    report2 = dr.check(problem, {"decimals": 2, "answers": changed})
    for name in ("a1", "dW2", "W2_new"):
        print(f"{name:7} {report2[name].status:5}  {report2[name].note}")
    """),
    md("""
    Redo `dW2` from the changed `a1`, and it is right again by follow-through — the marker
    gives credit for correct working, whatever it started from. `W2_new` follows the new `dW2`.
    """),
    code("""
    changed["dW2"] = r2(np.outer(delta2, changed["a1"]))
    changed["W2_new"] = r2(W2 - eta * changed["dW2"])
    report3 = dr.check(problem, {"decimals": 2, "answers": changed})
    assert report3["dW2"].right and report3["W2_new"].right and not report3["a1"].right
    report3
    """),
    md("""
    The tolerance is stated under every report: a number stated to $d$ decimals is right within
    half a unit of its last decimal of the true value, or of what follows from the student's own
    earlier numbers, widened by how much their rounding could move it.
    """),
    code("""
    print(report3.tolerance)
    """),
]

NOTEBOOKS = {
    "gradient-descent.ipynb": GRADIENT_DESCENT,
    "worked-solution.ipynb": WORKED_SOLUTION,
    "checking-your-work.ipynb": CHECKING,
}


def notebook(cells) -> nbformat.NotebookNode:
    """The notebook of ``cells``: fixed cell ids, the python3 kernel, no outputs."""
    nb = new_notebook(metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    for i, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def text(cells) -> str:
    return nbformat.writes(notebook(cells)) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / name
        new = text(cells)
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != new:
                stale.append(name)
        else:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run python {Path(__file__).name}): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
