"""Pictures: each kind from the API and from the command line, non-empty, of the expected size.

Pixels are never compared (fonts differ across machines); what is drawn is checked by the
numbers behind it — the journal lines, the descent paths, the surface heights — against
seed 000's journal table and against the core.
"""
import struct
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_module

from deltarule import landscape, plots
from deltarule.cli import main
from deltarule.problem import load_problem
from deltarule.training import Schedule, train

matplotlib = require_module("matplotlib")
matplotlib.use("Agg")  # headless: these tests run on CI machines without a display


def png_size(path):
    """(width, height) from the PNG header: 8-byte signature, then the IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    assert len(data) > 5000, "a nearly empty picture"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def seed000():
    return load_problem("seed-000-neuron")


@pytest.fixture
def fresh_axes():
    from matplotlib.figure import Figure

    return Figure(figsize=(6, 4)).subplots()


# -- journals ------------------------------------------------------------------------------
def test_journal_plot_draws_seed_000s_figure(seed000, fresh_axes):
    # seed 000: ten stochastic epochs from w = 2, b = 1 (eta = 0.9); the notes' table gives
    # after epoch 1 (their row "0"): w = 1.8900, b = 0.8304; after epoch 10: w = -0.1935, b = -0.4938
    journal = seed000.train().journal
    ax = journal.plot(fresh_axes, columns=["w", "b", "loss"])
    assert ax is fresh_axes
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {"w", "b", "loss"}
    w, b = lines["w"].get_ydata(), lines["b"].get_ydata()
    assert list(lines["w"].get_xdata()) == list(range(11))  # epoch 0 (the start) .. 10
    assert (w[0], b[0]) == (2.0, 1.0)
    assert round(w[1], 4) == 1.8900 and round(b[1], 4) == 0.8304
    assert round(w[10], 4) == -0.1935 and round(b[10], 4) == -0.4938
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "w, b, loss per epoch"


def test_journal_plot_loss_on_log_scale_and_named_columns(seed000, fresh_axes):
    journal = seed000.train().journal
    ax = journal.plot(fresh_axes, logy=True, label="stochastic")
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "loss"
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "stochastic"]
    np.testing.assert_array_equal(line.get_ydata(), journal.loss)
    with pytest.raises(KeyError, match="no column 'W1"):
        journal.plot(fresh_axes, columns=["W1[1,1]"])


def test_journal_plot_without_axes_draws_on_the_current_figure(seed000):
    import matplotlib.pyplot as plt  # as in Jupyter: no Axes given

    try:
        ax = seed000.train().journal.plot(columns="all")
        assert ax is plt.gca() and [ln.get_label() for ln in ax.get_lines()][:3] == ["loss", "w", "b"]
    finally:
        plt.close("all")


def test_runs_overlaid_one_line_per_method(seed000, fresh_axes):
    runs = {m: seed000.train(Schedule(m, 2, 10)).journal for m in ("batch", "minibatch", "stochastic")}
    ax = plots.plot_runs(runs, fresh_axes)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["batch", "minibatch", "stochastic"]
    # every method starts from the same loss (same start) and the notes' loss at w=2, b=1:
    # mean over six examples of (y - sigma(2x + 1))^2 = 0.2735
    starts = {ln.get_ydata()[0] for ln in ax.get_lines()}
    assert len(starts) == 1 and round(starts.pop(), 4) == 0.2735


def test_train_plot_png_and_svg(tmp_path):
    png, svg = tmp_path / "j.png", tmp_path / "j.svg"
    assert main(["train", "seed-000-neuron", "--quiet", "--plot", str(png)]) == 0
    assert png_size(png) == (700, 650)  # two panels: loss, and w and b, per epoch
    assert main(["train", "seed-000-neuron", "--quiet", "--plot", str(svg)]) == 0
    assert "<svg" in svg.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.png", "j.svg"]  # no temporary file left


def test_plot_journal_command_sizes(tmp_path):
    one = tmp_path / "one.png"
    assert main(["plot", "seed-000-neuron", "--kind", "journal", "--columns", "w,b,loss", "-o", str(one)]) == 0
    assert png_size(one) == (700, 450)
    rates = tmp_path / "rates.png"
    assert main(["plot", "seed-000-neuron", "--kind", "journal", "--learning-rates", "0.3,0.9",
                 "--log", "-o", str(rates)]) == 0
    assert png_size(rates) == (700, 450)


# -- loss surface and descent paths ----------------------------------------------------------
def test_descent_path_has_every_update_and_ends_where_training_ends(seed000):
    net, x, y = seed000.network, seed000.x, seed000.y
    stochastic = landscape.descent_path(net, x, y, 0.9, Schedule("stochastic", epochs=10), ["w", "b"])
    assert stochastic.shape == (61, 2)  # the start and 6 updates x 10 epochs
    np.testing.assert_allclose(stochastic[-1], [-0.1935, -0.4938], atol=5e-5)  # the notes' last row
    # one update per epoch: the batch path is the batch journal's w and b, row for row
    batch = landscape.descent_path(net, x, y, 0.9, Schedule("batch", epochs=10), ["w", "b"])
    journal = train(net, x, y, 0.9, Schedule("batch", epochs=10)).journal
    np.testing.assert_allclose(batch, journal.rows[:, 2:], rtol=1e-12)
    # mini-batches of 2: three updates per epoch, so every third point is a journal row
    mini = landscape.descent_path(net, x, y, 0.9, Schedule("minibatch", 2, 10), ["w", "b"])
    journal = train(net, x, y, 0.9, Schedule("minibatch", 2, 10)).journal
    np.testing.assert_allclose(mini[::3], journal.rows[:, 2:], rtol=1e-12)


def test_loss_surface_heights_are_the_networks_loss(seed000):
    net, x, y = seed000.network, seed000.x, seed000.y
    u, v = np.array([2.0, -0.1935]), np.array([1.0, -0.4938, 0.0])
    L = landscape.loss_surface(net, x, y, ["w", "b"], u, v)
    assert L.shape == (3, 2)
    assert L[0, 0] == pytest.approx(net.evaluate(x, y), rel=1e-12)  # w = 2, b = 1: the start
    for r, b in enumerate(v):
        for c, w in enumerate(u):
            assert L[r, c] == pytest.approx(net.with_parameters([w, b]).evaluate(x, y), rel=1e-12)
    assert round(L[1, 1], 4) == 0.0348  # the trained neuron's loss over all six examples (0.03476)


def test_surface_along_two_named_parameters_of_a_larger_network():
    p = load_problem("seed-002")
    names = ["W1[1,1]", "b2[1]"]
    i, j = (landscape.parameter_index(p.network, n) for n in names)
    assert (i, j) == (0, 8)  # W1 (4), b1 (2), W2 (2), then b2
    L = landscape.loss_surface(p.network, p.x, p.y, names, np.array([0.15]), np.array([0.60]))
    assert L[0, 0] == pytest.approx(p.network.evaluate(p.x, p.y), rel=1e-12)  # the file's own values
    with pytest.raises(KeyError, match="no parameter 'w'"):
        landscape.parameter_index(p.network, "w")
    assert landscape.default_pair(p.network) == ("W1[1,1]", "W1[1,2]")
    frozen = load_problem("seed-004-example-3")  # w trainable, b frozen: one parameter only
    with pytest.raises(ValueError, match="two trainable"):
        landscape.default_pair(frozen.network)


def test_plot_surface_api_draws_each_path(seed000, fresh_axes):
    paths = {m: landscape.descent_path(seed000.network, seed000.x, seed000.y, 0.9, Schedule(m, 2, 10), ["w", "b"])
             for m in ("batch", "stochastic")}
    surface = landscape.surface(seed000.network, seed000.x, seed000.y, ["w", "b"], paths, resolution=21)
    assert surface.loss.shape == (21, 21) and surface.loss[0, 0] == pytest.approx(
        seed000.network.with_parameters([surface.u[0], surface.v[0]]).evaluate(seed000.x, seed000.y), rel=1e-12)
    ax = plots.plot_surface(surface, paths, fresh_axes)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "batch (10 updates)" in labels and "stochastic (60 updates)" in labels and "start" in labels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("w", "b")
    lo, hi = ax.get_xlim()
    assert lo < -0.1935 and hi > 2.0  # every path inside the picture


def test_plot_surface_command_for_seed_000(tmp_path):
    out = tmp_path / "surface.png"
    assert main(["plot", "seed-000-neuron", "--kind", "surface", "-o", str(out)]) == 0
    assert png_size(out) == (700, 560)
    slice_ = tmp_path / "slice.svg"
    assert main(["plot", "seed-002", "--kind", "surface", "--params", "W1[1,1]", "b2[1]",
                 "--resolution", "15", "-o", str(slice_)]) == 0
    assert "W1[1,1]" in slice_.read_text()


# -- compare ---------------------------------------------------------------------------------
def test_compare_table_and_plot(tmp_path, capsys):
    out = tmp_path / "compare.png"
    assert main(["compare", "seed-000-neuron", "--methods", "batch,minibatch,stochastic",
                 "--plot", str(out)]) == 0
    text = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    # 6 examples, 10 epochs: batch 1 x 10 updates, mini-batches of 2 (about sqrt 6) 3 x 10, stochastic 6 x 10
    assert [rows[m][1:4] for m in ("batch", "minibatch", "stochastic")] == [
        ["6", "10", "10"], ["2", "10", "30"], ["1", "10", "60"]]
    assert round(float(rows["stochastic"][4]), 4) == 0.0348  # the trained neuron's loss, as train gives it
    assert png_size(out) == (1200, 480)  # the journals and, for two parameters, the surface


def test_compare_learning_rate_and_batch_size_options(capsys):
    assert main(["compare", "moons", "--methods", "minibatch", "--batch-size", "30", "--epochs", "2"]) == 0
    line = capsys.readouterr().out.splitlines()[-1].split()
    assert line[:4] == ["minibatch", "30", "2", "8"]  # 120 examples / 30 = 4 updates per epoch


# -- decision boundary, examples --------------------------------------------------------------
def test_xor_and_moons_examples_learn_their_classes():
    xor = load_problem("xor")
    result = xor.train()
    np.testing.assert_array_equal(plots.class_labels(result.network.predict(xor.x)), [0, 1, 1, 0])
    assert result.journal.loss[-1] < 0.01 < result.journal.loss[0]
    moons = load_problem("moons")
    assert moons.x.shape == (120, 2) and np.bincount(plots.class_labels(moons.y)).tolist() == [60, 60]
    trained = moons.train(Schedule("minibatch", 10, 100, True, 0)).network
    right = plots.class_labels(trained.predict(moons.x)) == plots.class_labels(moons.y)
    assert right.mean() > 0.95  # no straight line gets near this on moons


def test_plot_boundary_api_and_command(tmp_path, fresh_axes, seed000):
    xor = load_problem("xor")
    net = xor.train().network
    grid = landscape.boundary(net, xor.x, resolution=30)
    assert grid.out.shape == (900, 1)
    np.testing.assert_array_equal(grid.out[:3], net.predict([[grid.u[k], grid.v[0]] for k in range(3)]))
    ax = plots.plot_boundary(grid, xor.x, xor.y, fresh_axes)
    assert ax.get_xlabel().startswith("x1") and ax.get_ylabel().startswith("x2")
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"class 0", "class 1", "boundary (p = 1/2)"}
    out = tmp_path / "moons.png"
    assert main(["plot", "moons", "--kind", "boundary", "--epochs", "20", "-o", str(out)]) == 0
    assert png_size(out) == (700, 560)
    with pytest.raises(ValueError, match="two inputs"):
        landscape.boundary(seed000.network, seed000.x)


def test_boundary_of_a_softmax_classifier_colours_each_class(fresh_axes):
    from deltarule.network import Layer, Network

    # three classes around the corners of a triangle; W z = x . w_k: class k wins near corner k
    net = Network((Layer(np.array([[4.0, 0.0], [-2.0, 3.5], [-2.0, -3.5]]), np.zeros(3), "softmax"),),
                  "cross_entropy")
    x = np.array([[1.0, 0.0], [-0.5, 0.9], [-0.5, -0.9], [0.9, 0.1]])
    y = np.eye(3)[[0, 1, 2, 0]]
    np.testing.assert_array_equal(plots.class_labels(net.predict(x)), [0, 1, 2, 0])
    ax = plots.plot_boundary(landscape.boundary(net, x, resolution=25), x, y, fresh_axes)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]


def test_diagram_command_writes_the_shared_svg(tmp_path, capsys):
    out = tmp_path / "net.svg"
    assert main(["plot", "seed-002", "--kind", "diagram", "-o", str(out)]) == 0
    svg = out.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    # seed 002's forward pass: a1 = (0.593, 0.597), a2 = 0.751; weights 0.15 .. 0.45 on the edges
    for value in ("0.593", "0.597", "0.751", "0.150", "0.450"):
        assert value in svg
    assert main(["plot", "seed-002", "--kind", "diagram", "-o", str(tmp_path / "net.png")]) == 2
    assert "SVG only" in capsys.readouterr().err
    assert not (tmp_path / "net.png").exists()


# -- bad input: one line, exit 2, nothing written ----------------------------------------------
@pytest.mark.parametrize("argv, words", [
    (["plot", "seed-000-neuron", "--kind", "surface", "-o", "{d}/x.jpg"], "must be a .png or .svg"),
    (["plot", "seed-000-neuron", "--kind", "surface", "--params", "w", "W9", "-o", "{d}/x.png"], "no parameter 'W9'"),
    (["plot", "seed-000-neuron", "--kind", "surface", "--params", "w", "w", "-o", "{d}/x.png"], "two different"),
    (["plot", "seed-000-neuron", "--kind", "boundary", "-o", "{d}/x.png"], "needs two inputs"),
    (["plot", "seed-000-neuron", "--kind", "journal", "--columns", "w,q", "-o", "{d}/x.png"], "no column 'q'"),
    (["plot", "seed-000-neuron", "--kind", "journal", "--methods", "batch,stochastic",
      "--learning-rates", "0.1,0.2", "-o", "{d}/x.png"], "not both"),
    (["plot", "seed-000-neuron", "--kind", "journal", "--learning-rates", "0.1,-2", "-o", "{d}/x.png"], "positive"),
    (["plot", "seed-000-neuron", "--kind", "pie", "-o", "{d}/x.png"], "invalid choice"),
    (["compare", "seed-000-neuron", "--methods", "batch,newton"], "unknown method 'newton'"),
    (["compare", "seed-000-neuron", "--plot", "{d}/missing/x.png"], "cannot write"),
])
def test_bad_arguments_one_line_exit_2(tmp_path, capsys, argv, words):
    argv = [a.format(d=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not any(p.suffix in (".png", ".jpg", ".tmp") for p in tmp_path.rglob("*"))


def test_diverging_run_is_reported_and_the_rest_drawn(tmp_path, capsys):
    out = tmp_path / "d.png"
    # a linear neuron with a huge step overflows to inf within a few epochs
    problem = tmp_path / "p.yaml"
    problem.write_text("layers: [{weights: [[1.0]], biases: [0.0], activation: identity}]\n"
                       "loss: sse\ndata: {inputs: [1, 2, 3], targets: [2, 4, 6]}\nlearning_rate: 1000\n"
                       "training: {epochs: 400}\n")
    assert main(["compare", str(problem), "--methods", "batch", "--plot", str(out)]) == 3
    captured = capsys.readouterr()
    assert "diverged" in captured.out and "diverged" in captured.err
    assert png_size(out)[0] == 700


def test_import_deltarule_does_not_import_matplotlib():
    code = "import sys, deltarule, deltarule.plots; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
