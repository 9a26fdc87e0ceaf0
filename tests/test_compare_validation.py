"""`compare` and `plot` with the problem's own settings (issues 15 and 17): the runs train on the
training part of a `validation:` split and report the held-out loss beside the training loss; descent
paths over the loss surface follow the problem's optimizer, schedule and L2."""
import numpy as np
import pytest

import deltarule as dr
from deltarule import landscape
from deltarule.cli import main
from deltarule.descent import optimize
from deltarule.optimizers import SGD

# seed 000's neuron (w = 2, b = 1, sigmoid, sse) on its six examples, with a held-out third
NEURON = """name: neuron
layers: [{weights: [[2.0]], biases: [1.0], activation: sigmoid}]
loss: sse
data: {inputs: [3.5, 0.35, 3.2, -2.0, 1.5, -0.5], targets: [0.5, 0.5, 0.5, 0.5, 0.1, 0.3]}
learning_rate: 0.9
training: {method: stochastic, epochs: 10}
"""


@pytest.fixture
def held_out(tmp_path):
    path = tmp_path / "neuron.yaml"
    path.write_text(NEURON + "validation: {fraction: 0.34, seed: 3}\n")
    return path


def _table(out: str) -> dict:
    """The plain table compare prints in a pipe: {method: [cells]}."""
    lines = out.splitlines()
    return {cells[0]: cells[1:] for cells in (line.split() for line in lines[2:])}


def test_compare_trains_on_the_training_part_and_shows_the_held_out_loss(held_out, capsys):
    p = dr.load_problem(held_out)
    x, y, x_val, y_val = p.split()
    assert (len(x), len(x_val)) == (4, 2)  # round(0.34 * 6) = 2 held out
    assert main(["compare", str(held_out), "--methods", "batch,stochastic"]) == 0
    out = capsys.readouterr().out
    assert "over 4 training examples, val loss on the 2 held out" in out.splitlines()[0]
    assert out.splitlines()[1].split()[:7] == ["method", "batch", "size", "epochs", "updates", "final", "loss"]
    table = _table(out)
    for method, size, updates in (("batch", 4, 10), ("stochastic", 1, 40)):  # 4 examples, not 6
        trained = dr.train(p.network, x, y, 0.9, dr.Schedule(method, epochs=10))
        assert table[method][:3] == [str(size), "10", str(updates)]
        assert float(table[method][3]) == pytest.approx(trained.journal.loss[-1], rel=1e-5)
        val = trained.network.evaluate(x_val, y_val)  # the held-out loss after the last epoch
        assert float(table[method][4]) == pytest.approx(val, rel=1e-5)
    assert table["batch"][4] != table["stochastic"][4]


def test_compare_plot_draws_val_loss_dashed_beside_the_loss(held_out):
    from deltarule.commands.compare import compare_figure, schedule_for, train_runs

    p = dr.load_problem(held_out)
    args = type("Args", (), {"batch_size": None, "epochs": None, "shuffle": None, "seed": None})()
    runs = train_runs(p, {m: schedule_for(p, m, args) for m in ("batch", "stochastic")})
    fig = compare_figure(p, runs)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    val = lines["stochastic: val_loss"]
    assert val.get_linestyle() == "--"
    journal = runs[1].journal
    np.testing.assert_array_equal(val.get_ydata(), journal.rows[:, journal.columns.index("val_loss")])
    assert len(val.get_ydata()) == 11  # epoch 0 (the start) and 10 epochs
    # the descent paths are the runs' own: the stochastic path ends at the trained (w, b)
    path = [line for line in fig.axes[1].get_lines() if line.get_label().startswith("stochastic (")][0]
    assert path.get_label() == "stochastic (40 updates)"
    np.testing.assert_allclose([path.get_xdata()[-1], path.get_ydata()[-1]],
                               runs[1].result.network.parameters(), rtol=1e-12)


def test_compare_without_validation_keeps_its_table(capsys):
    assert main(["compare", "seed-000-neuron", "--methods", "batch"]) == 0
    out = capsys.readouterr().out
    assert "over 6 examples, learning rate 0.9, plain gradient descent" in out
    assert "val loss" not in out
    assert out.splitlines()[1].split() == ["method", "batch", "size", "epochs", "updates", "final", "loss", "time", "(s)"]


# -- descent paths follow the optimizer -------------------------------------------------------------------
def test_the_descent_path_follows_momentum():
    p = dr.load_problem("seed-000-neuron")
    schedule = dr.Schedule("batch", epochs=5)
    plain = landscape.descent_path(p.network, p.x, p.y, 0.9, schedule, ["w", "b"])
    heavy = landscape.descent_path(p.network, p.x, p.y, 0.9, schedule, ["w", "b"],
                                   optimization=dr.parse_problem(
                                       {"layers": [{"weights": [[2.0]], "biases": [1.0], "activation": "sigmoid"}],
                                        "loss": "sse", "optimizer": {"name": "sgd", "momentum": 0.9}}).optimization)
    assert heavy.shape == plain.shape == (6, 2)
    # the first step starts from v = g: the same as plain descent; the second is W - eta (mu g1 + g2)
    np.testing.assert_array_equal(heavy[1], plain[1])
    g1 = (plain[0] - plain[1]) / 0.9
    g2 = (plain[1] - plain[2]) / 0.9  # plain's second gradient is taken at the same point as momentum's
    np.testing.assert_allclose(heavy[2], heavy[1] - 0.9 * (0.9 * g1 + g2), rtol=1e-12)
    assert np.abs(heavy[2] - plain[2]).max() > 0.02  # eta mu g1: momentum moved on
    # and every point is the reference loop's (descent.optimize), epoch after epoch
    for e in range(1, 6):
        ref = optimize(p.network, p.x, p.y, 0.9, SGD(momentum=0.9), schedule=dr.Schedule("batch", epochs=e))
        np.testing.assert_allclose(heavy[e], ref.network.parameters(), rtol=1e-12)


def test_plot_surface_follows_the_files_adam_and_says_so(tmp_path):
    from deltarule.commands import plot as plot_command

    path = tmp_path / "adam.yaml"
    path.write_text(NEURON + "optimizer: {name: adam}\nlearning_rate_schedule: {name: step, step_size: 4, "
                             "gamma: 0.5}\nregularization: {l2: 0.01}\n")
    p = dr.load_problem(path)
    args = plot_command.__dict__["add_arguments"]  # the real parser: defaults as the command line gives them
    import argparse

    parser = argparse.ArgumentParser()
    args(parser)
    ns = parser.parse_args([str(path), "--kind", "surface", "--methods", "stochastic", "-o",
                            str(tmp_path / "a.png"), "--resolution", "9"])
    fig, runs = plot_command._surface(p, ns)
    ax = fig.axes[0]
    assert "adam, step (step_size 4, gamma 0.5), L2 λ = 0.01" in ax.get_title()
    line = [li for li in ax.get_lines() if li.get_label().startswith("stochastic (")][0]
    trained = runs[0].result.network.parameters()  # train() with the file's adam: where the path ends
    np.testing.assert_allclose([line.get_xdata()[-1], line.get_ydata()[-1]], trained, rtol=1e-10)
    plain = landscape.descent_path(p.network, p.x, p.y, 0.9, runs[0].schedule, ["w", "b"])
    assert np.abs(plain[-1] - trained).max() > 0.05  # a plain path would end elsewhere
    assert main(["plot", str(path), "--kind", "surface", "-o", str(tmp_path / "a.png"), "--resolution", "9"]) == 0


def test_compare_with_early_stopping_shows_the_epochs_run_and_paths_as_long(held_out, capsys):
    from deltarule.commands.compare import compare_figure, schedule_for, train_runs

    held_out.write_text(held_out.read_text().replace("epochs: 10", "epochs: 30") + "early_stopping: {patience: 2}\n")
    assert main(["compare", str(held_out), "--methods", "batch"]) == 0
    row = _table(capsys.readouterr().out)["batch"]
    p = dr.load_problem(held_out)
    trained = p.train(dr.Schedule("batch", epochs=30))
    ran = len(trained.journal) - 1
    assert 0 < ran < 30 and trained.stopped  # the held-out loss stopped improving
    assert row[:4] == ["4", str(ran), "of", "30"] and row[4] == str(ran)  # batch: one update an epoch
    args = type("Args", (), {"batch_size": None, "epochs": None, "shuffle": None, "seed": None})()
    fig = compare_figure(p, train_runs(p, {"batch": schedule_for(p, "batch", args)}))
    path = [line for line in fig.axes[1].get_lines() if line.get_label().startswith("batch (")][0]
    assert path.get_label() == f"batch ({ran} updates)"  # the path stops where training stopped


def test_with_l2_the_surface_is_the_loss_the_optimizer_descends():
    p = dr.load_problem("seed-000-neuron")
    u, v = np.array([2.0, -1.0]), np.array([1.0, 0.5])
    plain = landscape.loss_surface(p.network, p.x, p.y, ["w", "b"], u, v)
    with_l2 = landscape.loss_surface(p.network, p.x, p.y, ["w", "b"], u, v, l2=0.1)
    # (lambda/2) w^2 on the weight only, never the bias: 0.05 * 4 for w = 2, 0.05 * 1 for w = -1, any b
    np.testing.assert_allclose(with_l2 - plain, [[0.2, 0.05], [0.2, 0.05]], rtol=1e-12)
    paths = {"batch": np.array([[2.0, 1.0], [1.0, 0.0]])}
    s = landscape.surface(p.network, p.x, p.y, ["w", "b"], paths, resolution=5, l2=0.1)
    assert s.label == "loss (sse, mean, + L2 λ = 0.1)"
