"""Issue 17's remainder: the journal's metric columns wherever they stand, integer class labels other
than 0..K-1, and predict/evaluate saying which rows their accuracy is on."""
import numpy as np

from deltarule.cli import main

NEURON = """name: neuron
layers: [{weights: [[2.0]], biases: [1.0], activation: sigmoid}]
loss: sse
data: {inputs: [3.5, 0.35, 3.2, -2.0, 1.5, -0.5], targets: [0.5, 0.5, 0.5, 0.5, 0.1, 0.3]}
learning_rate: 0.9
training: {method: batch, epochs: 4}
validation: {fraction: 0.34, seed: 3}
learning_rate_schedule: {name: step, step_size: 2, gamma: 0.5}
"""


# -- the journal: metrics after the parameters (the contract), found by name wherever they are ----------
def test_plot_journal_finds_metrics_by_name_and_draws_only_parameters_as_parameters(tmp_path):
    from deltarule.commands.plot import read_journal
    from deltarule.plots import journal_figure

    (tmp_path / "n.yaml").write_text(NEURON)
    full, bare = tmp_path / "full.csv", tmp_path / "bare.csv"
    assert main(["train", str(tmp_path / "n.yaml"), "--quiet", "--journal", str(full)]) == 0
    assert main(["train", str(tmp_path / "n.yaml"), "--quiet", "--journal", str(bare), "--journal-params", "none"]) == 0
    journal, metrics = read_journal(str(full)), read_journal(str(bare))
    assert journal.columns == ("epoch", "loss", "w", "b", "val_loss", "learning_rate")  # DESIGN's order
    assert metrics.columns == ("epoch", "loss", "val_loss", "learning_rate")  # metrics right after loss
    np.testing.assert_array_equal(journal.rows[:, -1], [0.9, 0.9, 0.9, 0.45, 0.45])  # row 0: the start
    for j in (journal, metrics):
        fig = journal_figure(j)
        drawn = {line.get_label(): line.get_ydata() for ax in fig.axes for line in ax.get_lines()}
        np.testing.assert_array_equal(drawn["val_loss"], journal.rows[:, 4])
        np.testing.assert_array_equal(drawn["loss"], journal.rows[:, 1])
        assert "learning_rate" not in drawn  # a rate is not a parameter: no line among w and b
    panels = journal_figure(journal).axes
    assert len(panels) == 2 and [li.get_label() for li in panels[1].get_lines()
                                   if not li.get_label().startswith("_")] == ["w", "b"]  # (_child: the zero line)
    assert len(journal_figure(metrics).axes) == 1  # no parameters, no parameter panel
