"""Problem files as the contract defines them (DESIGN.md, "Problem files"): every schema
feature works, YAML 1.1's traps are closed, JSON files equal their YAML twins, and every
malformed file is refused with exactly one line ``FILE: field.path: message``."""
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from deltarule import examples
from deltarule.cli import main
from deltarule.errors import InputError
from deltarule.problem import TOP_FIELDS, load_problem

SEED_002 = """\
name: seed-002 two-two-one
layers:
  - weights: [[0.15, 0.20], [0.25, 0.30]]
    biases: [0.35, 0.35]
    activation: sigmoid
  - weights: [[0.40, 0.45]]
    biases: [0.60]
    activation: sigmoid
loss: half_sse
data:
  inputs: [[0.05, 0.10]]
  targets: [[0.50]]
learning_rate: 0.5
decimals: 3
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Work in a fresh directory, so error lines name the file as the user typed it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name, text):
    os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
    with open(name, "w", encoding="utf-8") as fh:
        fh.write(text)
    return name


def load(text, name="problem.yaml"):
    return load_problem(write(name, text))


def refused(text, name="problem.yaml"):
    """The one error line for a file holding ``text``."""
    with pytest.raises(InputError) as e:
        load(text, name)
    line = e.value.line()
    assert "\n" not in line
    return line


def edit(old, new, text=SEED_002):
    assert old in text
    return text.replace(old, new, 1)


# -- the schema, feature by feature ----------------------------------------------------------
def test_hand_set_weights_seed_002(here):
    p = load(SEED_002)
    net = p.network
    assert net.sizes == (2, 2, 1) and net.loss.name == "half_sse" and net.reduction == "mean"
    np.testing.assert_array_equal(net.layers[0].W, [[0.15, 0.20], [0.25, 0.30]])  # one row per neuron
    np.testing.assert_array_equal(net.layers[0].b, [0.35, 0.35])
    np.testing.assert_array_equal(net.layers[1].W, [[0.40, 0.45]])
    assert [lay.activation.name for lay in net.layers] == ["sigmoid", "sigmoid"]
    np.testing.assert_array_equal(p.x, [[0.05, 0.10]])
    np.testing.assert_array_equal(p.y, [[0.5]])
    assert (p.learning_rate, p.decimals, p.name) == (0.5, 3, "seed-002 two-two-one")
    assert net.dtype == np.float64
    # defaults: batch, one epoch, file order
    s = p.schedule
    assert (s.method, s.epochs, s.shuffle) == ("batch", 1, False)


@pytest.mark.parametrize("init", ["xavier", "he", "uniform", "zeros"])
def test_seeded_random_weights(here, init):
    text = f"""layers:
  - {{units: 40, inputs: 30, init: {init}, activation: tanh}}
  - {{units: 3, init: {init}, activation: identity}}
loss: mse
seed: 7
"""
    a, b = load(text).network, load(text).network
    other = load(text.replace("seed: 7", "seed: 8")).network
    W1, W2 = a.layers[0].W, a.layers[1].W
    assert W1.shape == (40, 30) and W2.shape == (3, 40)  # fan-in of layer 2 is layer 1's units
    assert np.all(a.layers[0].b == 0) and np.all(a.layers[1].b == 0)
    np.testing.assert_array_equal(a.parameters(), b.parameters())  # same seed, same weights
    # the documented recipe, drawn layer after layer from one generator seeded with `seed`
    rng = np.random.default_rng(7)
    if init == "zeros":
        assert not W1.any() and not W2.any()
        np.testing.assert_array_equal(a.parameters(), other.parameters())
        return
    assert not np.array_equal(a.parameters(), other.parameters())
    if init == "xavier":  # U(-l, l), l = sqrt(6 / (fan_in + units))
        lim = math.sqrt(6 / (30 + 40))
        want = rng.uniform(-lim, lim, size=(40, 30))
        assert np.abs(W1).max() <= lim
    elif init == "he":  # N(0, 2 / fan_in)
        want = rng.normal(0, math.sqrt(2 / 30), size=(40, 30))
        assert abs(W1.std() - math.sqrt(2 / 30)) < 0.1 * math.sqrt(2 / 30)
    else:  # U(-1, 1)
        want = rng.uniform(-1, 1, size=(40, 30))
        assert np.abs(W1).max() <= 1
    np.testing.assert_array_equal(W1, want)


def test_units_after_hand_set_layer_and_default_init(here):
    p = load("""layers:
  - {weights: [[1, 2, 3], [4, 5, 6]], biases: [0, 1], activation: relu}
  - {units: 4, activation: sigmoid}
loss: sse
""")
    assert p.network.sizes == (3, 2, 4)
    lim = math.sqrt(6 / (2 + 4))  # xavier by default
    assert 0 < np.abs(p.network.layers[1].W).max() <= lim


def test_frozen_weights_and_biases(here):
    p = load(edit("    activation: sigmoid\n  - weights", "    activation: sigmoid\n    train_biases: false\n"
                  "  - weights", edit("biases: [0.60]\n", "biases: [0.60]\n    train_weights: false\n")))
    assert p.network.layers[0].train_biases is False and p.network.layers[0].train_weights is True
    assert p.network.layers[1].train_weights is False and p.network.layers[1].train_biases is True
    after = p.steps(1)[0].after
    np.testing.assert_array_equal(after.layers[0].b, [0.35, 0.35])  # frozen: unchanged
    np.testing.assert_array_equal(after.layers[1].W, [[0.40, 0.45]])
    assert not np.array_equal(after.layers[0].W, p.network.layers[0].W)  # the others move
    assert not np.array_equal(after.layers[1].b, p.network.layers[1].b)


def test_reduction_sum_is_n_times_mean(here):
    three = """layers: [{weights: [[0.5]], biases: [0.0], activation: sigmoid}]
loss: sse
data: {inputs: [1, 2, 3], targets: [0, 1, 1]}
learning_rate: 0.1
"""
    mean = load(three).network
    total = load(three + "reduction: sum\n").network
    assert (mean.reduction, total.reduction) == ("mean", "sum")
    p = load(three)
    assert total.evaluate(p.x, p.y) == pytest.approx(3 * mean.evaluate(p.x, p.y), rel=1e-15)


def test_inline_flat_lists_for_width_one(here):
    flat = load("""layers: [{weights: [[0.5]], biases: [0.0], activation: sigmoid}]
loss: sse
data: {inputs: [1, 2, 3], targets: [0, 1, 1]}
""")
    rows = load("""layers: [{weights: [[0.5]], biases: [0.0], activation: sigmoid}]
loss: sse
data: {inputs: [[1], [2], [3]], targets: [[0], [1], [1]]}
""")
    np.testing.assert_array_equal(flat.x, [[1], [2], [3]])
    np.testing.assert_array_equal(flat.x, rows.x)
    np.testing.assert_array_equal(flat.y, rows.y)


def test_csv_relative_to_the_problem_file_with_one_hot(here):
    write("course/data/points.csv", "x1,label,x2\n0.5,2,1.5\n-1,0,2\n\n3,1,4\n")
    write("course/p.yaml", """layers: [{units: 3, inputs: 2, activation: softmax}]
loss: cross_entropy
data: {file: data/points.csv, targets: [label], one_hot: true}
""")
    os.makedirs("elsewhere")
    os.chdir("elsewhere")  # the data path is relative to the problem file, not to the cwd
    p = load_problem("../course/p.yaml")
    np.testing.assert_array_equal(p.x, [[0.5, 1.5], [-1, 2], [3, 4]])  # header order, label removed
    np.testing.assert_array_equal(p.y, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert p.one_hot


def test_csv_targets_columns_and_chosen_inputs(here):
    write("t.csv", "a,b,c,y1,y2\n1,2,3,0.1,0.9\n4,5,6,0.2,0.8\n")
    p = load("""layers: [{units: 2, inputs: 2, activation: sigmoid}]
loss: bce
data: {file: t.csv, inputs: [c, a], targets: [y2, y1]}
""")
    np.testing.assert_array_equal(p.x, [[3, 1], [6, 4]])
    np.testing.assert_array_equal(p.y, [[0.9, 0.1], [0.8, 0.2]])


def test_npz_data(here):
    np.savez("d.npz", inputs=np.array([[0.05, 0.10], [1.0, 2.0]]), targets=np.array([0.5, 0.25]))
    p = load(edit("  inputs: [[0.05, 0.10]]\n  targets: [[0.50]]\n", "  file: d.npz\n"))
    np.testing.assert_array_equal(p.x, [[0.05, 0.10], [1.0, 2.0]])
    np.testing.assert_array_equal(p.y, [[0.5], [0.25]])  # a 1-D target array is one column


def test_training_block_and_dtype(here):
    p = load(SEED_002 + "training: {method: minibatch, batch_size: 2, epochs: 10, shuffle: true, seed: 3}\n"
             "dtype: float32\n")
    s = p.schedule
    assert (s.method, s.batch_size, s.epochs, s.shuffle, s.seed) == ("minibatch", 2, 10, True, 3)
    assert p.network.dtype == np.float32 and p.network.layers[0].W.dtype == np.float32
    assert load(SEED_002 + "training: {method: stochastic}\n").schedule.method == "stochastic"


def test_decimals_zero_is_allowed(here):
    assert load(edit("decimals: 3", "decimals: 0")).decimals == 0
    assert load(edit("decimals: 3\n", "")).decimals == 3  # the default


# -- YAML 1.1's traps ----------------------------------------------------------------------------
@pytest.mark.parametrize("token, value", [("1e-3", 0.001), ("-.2", -0.2), (".5", 0.5), ("+1", 1.0),
                                          ("1.", 1.0), ("1E3", 1000.0), ("2.5e+1", 25.0), ("012", 12.0),
                                          ("!!float 0.5", 0.5)])
def test_yaml_12_numbers(here, token, value):
    p = load(edit("[[0.40, 0.45]]", f"[[{token}, 0.45]]"))
    assert p.network.layers[1].W[0, 0] == value


def test_012_is_twelve_not_octal(here):
    assert load(SEED_002 + "training: {epochs: 012}\n").schedule.epochs == 12


@pytest.mark.parametrize("token, why", [
    ("no", "got the text 'no' (only true and false are booleans, and neither is a number)"),
    ("yes", "got the text 'yes' (only true and false are booleans, and neither is a number)"),
    ("on", "got the text 'on' (only true and false are booleans, and neither is a number)"),
    ("off", "got the text 'off' (only true and false are booleans, and neither is a number)"),
    ("1:30", "got the text '1:30' (not a time or a base-60 number; write it in decimal)"),
    ("0x1F", "got the text '0x1F' (write numbers in decimal)"),
    ("0o17", "got the text '0o17' (write numbers in decimal)"),
    ('"0.5"', "got the text '0.5' (remove the quotes to make it a number)"),
    ("'0.5'", "got the text '0.5' (remove the quotes to make it a number)"),
    ("1_000", "got the text '1_000'"),
    ("true", "got true (a boolean)"),
    ("~", "got nothing"),
    ("[0.5]", "got a list"),
])
def test_yaml_11_habits_are_errors_in_a_numeric_field(here, token, why):
    assert refused(edit("learning_rate: 0.5", f"learning_rate: {token}")) == \
        f"problem.yaml: learning_rate: expected a number, {why}"


def test_yaml_11_booleans_are_not_booleans(here):
    assert refused(SEED_002 + "training: {shuffle: yes}\n") == \
        "problem.yaml: training.shuffle: expected true or false, got the text 'yes' " \
        "(only true and false are booleans, and neither is a number)"


def test_unquoted_date_and_yes_are_just_names(here):
    assert load(edit("name: seed-002 two-two-one", "name: 2001-12-14")).name == "2001-12-14"
    assert load(edit("name: seed-002 two-two-one", "name: no")).name == "no"


# -- JSON twins ------------------------------------------------------------------------------------
def _same_problem(a, b):
    np.testing.assert_array_equal(a.network.parameters(), b.network.parameters())
    assert repr(a.network) == repr(b.network) and a.network.dtype == b.network.dtype
    assert [(l.train_weights, l.train_biases) for l in a.network.layers] == \
        [(l.train_weights, l.train_biases) for l in b.network.layers]
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert (a.learning_rate, a.decimals, a.schedule, a.name, a.description, a.seed) == \
        (b.learning_rate, b.decimals, b.schedule, b.name, b.description, b.seed)


@pytest.mark.parametrize("name", examples.names())
def test_json_problem_files_equal_their_yaml_twins(here, name):
    text = examples.text(name)
    doc = yaml.safe_load(text)
    if isinstance(doc.get("data"), dict) and "file" in doc["data"]:  # its data file goes with it
        shutil.copy(Path(examples.__file__).parent / doc["data"]["file"], here / doc["data"]["file"])
    _same_problem(load(text, f"{name}.yaml"), load(json.dumps(doc, indent=1), f"{name}.json"))


def test_json_twin_with_seeded_init(here):
    text = "layers:\n  - {units: 4, inputs: 2, init: he, activation: relu}\n  - {units: 1, activation: sigmoid}\n" \
           "loss: bce\nseed: 11\ndata: {inputs: [[0, 1], [1, 0]], targets: [1, 0]}\nlearning_rate: 0.1\n"
    _same_problem(load(text), load(json.dumps(yaml.safe_load(text)), "problem.json"))


# -- the contract's rules, each refused with its one line ----------------------------------------
RULES = [
    # (change to seed 002, the exact line)
    (("[[0.40, 0.45]]", "[[0.40, 0.45], [0.1, 0.2]]"),
     "problem.yaml: layers[2].weights: expected 1 row of 2 numbers, got 2 rows"),  # the contract's form; layers count from 1 (W2)
    (("[[0.40, 0.45]]", "[[0.40, 0.45, 0.5]]"),
     "problem.yaml: layers[2].weights: expected 1 row of 2 numbers, got 3 in row 1"),
    (("[[0.15, 0.20], [0.25, 0.30]]", "[[0.15, 0.20], [0.25]]"),
     "problem.yaml: layers[1].weights: rows differ in length: row 1 has 2, row 2 has 1"),
    (("[[0.15, 0.20], [0.25, 0.30]]", "[0.15, 0.20]"),
     "problem.yaml: layers[1].weights: expected 2 rows of numbers (a list of lists), got a flat list"),
    (("biases: [0.60]", "biases: [0.60, 0.1]"),
     "problem.yaml: layers[2].weights: expected 2 rows of 2 numbers, got 1 row"),
    (("half_sse", "cross_entropy"),
     "problem.yaml: loss: cross_entropy needs a softmax output layer, but layers[2] is sigmoid"),
    (("learning_rate: 0.5", "learning_rate: 0"), "problem.yaml: learning_rate: must be positive, got 0"),
    (("learning_rate: 0.5", "learning_rate: -0.1"), "problem.yaml: learning_rate: must be positive, got -0.1"),
    (("decimals: 3", "decimals: -1"), "problem.yaml: decimals: must be at least 0, got -1"),
    (("decimals: 3", "decimals: 1.5"), "problem.yaml: decimals: expected a whole number, got 1.5"),
    (("learning_rate: 0.5", "learning_rate: .nan"), "problem.yaml: learning_rate: expected a finite number, got nan"),
    (("learning_rate: 0.5", "learning_rate: .inf"), "problem.yaml: learning_rate: expected a finite number, got inf"),
    (("learning_rate: 0.5", "learning_rate: 1e999"), "problem.yaml: learning_rate: expected a finite number, got inf"),
    (("0.35, 0.35", "0.35, -.inf"), "problem.yaml: layers[1].biases[2]: expected a finite number, got -inf"),
    (("[[0.05, 0.10]]", "[[0.05, .NaN]]"), "problem.yaml: data.inputs[1][2]: expected a finite number, got nan"),
    (("learning_rate: 0.5", "learnin_rate: 0.5"),
     "problem.yaml: learnin_rate: unknown field (did you mean 'learning_rate'?); allowed: " + ", ".join(TOP_FIELDS)),
    (("    activation: sigmoid\n  - w", "    activaton: sigmoid\n  - w"),
     "problem.yaml: layers[1].activaton: unknown field (did you mean 'activation'?); allowed: weights, biases, "
     "activation, units, init, inputs, train_weights, train_biases"),
    (("    activation: sigmoid\n  - w", "    activation: sigmod\n  - w"),
     "problem.yaml: layers[1].activation: unknown 'sigmod' (did you mean 'sigmoid'?); expected one of sigmoid, "
     "tanh, relu, leaky_relu, identity, softmax, softplus, elu, linear"),
    (("half_sse", "halfsse"), "problem.yaml: loss: unknown 'halfsse' (did you mean 'half_sse'?); expected one of "
                              "sse, half_sse, mse, half_mse, bce, cross_entropy"),
    (("loss: half_sse\n", ""), "problem.yaml: loss: missing field 'loss' (sse, half_sse, mse, half_mse, bce, "
                               "cross_entropy)"),
    (("    biases: [0.60]\n", ""), "problem.yaml: layers[2]: missing field 'biases' (one per row of weights)"),
    (("  targets: [[0.50]]\n", ""), "problem.yaml: data: missing field 'targets' (or give 'file')"),
    (("[[0.05, 0.10]]", "[0.05, 0.10]"),
     "problem.yaml: data.inputs: expected rows of 2 numbers (the first layer takes 2 inputs), one row per "
     "example, got a flat list"),
    (("targets: [[0.50]]", "targets: [[0.50], [0.2]]"), "problem.yaml: data.targets: 1 input row but 2 target rows"),
    (("targets: [[0.50]]", "targets: [[0.5, 0.5]]"),
     "problem.yaml: data.targets: expected rows of 1 number, got 2 in row 1"),
    (("decimals: 3", "training: {method: minibatch}"),
     "problem.yaml: training.batch_size: minibatch needs batch_size"),
    (("decimals: 3", "training: {method: minibatch, batch_size: 0}"),
     "problem.yaml: training.batch_size: must be at least 1, got 0"),
    (("decimals: 3", "training: {epochs: 0}"), "problem.yaml: training.epochs: must be at least 1, got 0"),
    (("decimals: 3", "training: {method: sgd}"),
     "problem.yaml: training.method: unknown 'sgd'; expected one of batch, minibatch, stochastic"),
    (("decimals: 3", "training: {epoch: 3}"),
     "problem.yaml: training.epoch: unknown field (did you mean 'epochs'?); allowed: method, batch_size, "
     "epochs, shuffle, seed"),
    (("decimals: 3", "dtype: float16"),
     "problem.yaml: dtype: unknown 'float16' (did you mean 'float64'?); expected one of float64, float32"),
    (("decimals: 3", "reduction: avg"), "problem.yaml: reduction: unknown 'avg'; expected one of mean, sum"),
    (("decimals: 3", "seed: -1"), "problem.yaml: seed: must be at least 0, got -1"),
    (("0.15", "true"), "problem.yaml: layers[1].weights[1][1]: expected a number, got true (a boolean)"),
    (("0.15", "null"), "problem.yaml: layers[1].weights[1][1]: expected a number, got nothing"),
    (("0.15", "9" * 500), "problem.yaml: line 3, column 16: not valid YAML: a number of 500 digits is too long"),
    (("0.15", "1" + "0" * 310), "problem.yaml: layers[1].weights[1][1]: expected a finite number, "
                                "got a number of over 300 digits"),
    (("name: seed-002 two-two-one", "name: [a]"), "problem.yaml: name: expected text, got a list"),
]


@pytest.mark.parametrize("change, line", RULES, ids=[r[1].split(": ", 2)[1] + "-" + str(i) for i, r in enumerate(RULES)])
def test_rule_refused_with_one_line(here, change, line):
    assert refused(edit(*change)) == line


def test_targets_of_bce_and_cross_entropy(here):
    bce = edit("half_sse", "bce", edit("targets: [[0.50]]", "targets: [[1.5]]"))
    assert refused(bce) == "problem.yaml: data.targets: bce needs targets between 0 and 1, got 1.5 in example 1"
    assert load(edit("targets: [[1.5]]", "targets: [[1]]", bce)).y[0, 0] == 1.0
    softmax = """layers: [{weights: [[1, 0], [0, 1]], biases: [0, 0], activation: softmax}]
loss: cross_entropy
data: {inputs: [[1, 2], [3, 4]], targets: [[0.25, 0.75], [1, 0]]}
"""
    assert load(softmax).y.shape == (2, 2)
    assert refused(edit("[1, 0]]", "[0.5, 0.4]]", softmax)) == \
        "problem.yaml: data.targets: cross_entropy needs probability rows (non-negative, summing to 1); " \
        "row 2 sums to 0.9"
    assert refused(edit("[1, 0]]", "[1.5, -0.5]]", softmax)).startswith(
        "problem.yaml: data.targets: cross_entropy needs probability rows")


def test_one_hot_labels_checked(here):
    text = """layers: [{units: 3, inputs: 1, activation: softmax}]
loss: cross_entropy
data: {inputs: [1, 2], targets: [0, 3], one_hot: true}
"""
    # 3 is not an output unit (0..2), so the labels are class names: 0 and 3 are two, for three units
    assert refused(text) == "problem.yaml: data.targets: labels 0, 3 are 2 classes, but the output layer has " \
                            "3 units (labels 0..2 name the units themselves; other whole numbers are class names)"
    assert refused(edit("[0, 3]", "[0, 1.5]", text)) == \
        "problem.yaml: data.targets: class labels must be whole numbers, got 1.5 in example 2"
    np.testing.assert_array_equal(load(edit("[0, 3]", "[2, 0]", text)).y, [[0, 0, 1], [1, 0, 0]])


def test_units_and_weights_together(here):
    assert refused(edit("    biases: [0.60]\n", "    biases: [0.60]\n    units: 1\n")) == \
        "problem.yaml: layers[2].units: give either weights and biases, or units and init, not both"
    assert refused("layers: [{units: 2, activation: tanh}]\nloss: sse\n") == \
        "problem.yaml: layers[1]: the first layer needs 'inputs:' (how many inputs) when it gives units"
    assert refused("layers: [{units: 2, inputs: 1, init: glorot, activation: tanh}]\nloss: sse\n") == \
        "problem.yaml: layers[1].init: unknown 'glorot'; expected one of xavier, he, uniform, zeros"


def test_data_file_errors(here):
    base = edit("  inputs: [[0.05, 0.10]]\n  targets: [[0.50]]\n", "  file: {f}\n  targets: [y]\n")
    write("bad.csv", "x1,x2,y\n0.1,0.2,0.3\n0.1,oops,0.3\n")
    assert refused(base.format(f="bad.csv")) == "bad.csv: line 3, column 'x2': expected a finite number, got 'oops'"
    write("short.csv", "x1,x2,y\n0.1,0.2\n")
    assert refused(base.format(f="short.csv")) == "short.csv: line 2: expected 3 values, got 2"
    write("nan.csv", "x1,x2,y\n0.1,nan,0.3\n")
    assert refused(base.format(f="nan.csv")) == "nan.csv: line 2, column 'x2': expected a finite number, got 'nan'"
    write("wide.csv", "x1,x2,x3,y\n0.1,0.2,0.3,0.4\n")
    assert refused(base.format(f="wide.csv")) == \
        "wide.csv: inputs: 3 input columns, but the first layer takes 2 inputs"
    write("ok.csv", "x1,x2,label\n1,2,0.5\n")
    assert refused(base.format(f="ok.csv")) == \
        "problem.yaml: data.targets: no column 'y' (columns: x1, x2, label)"
    assert refused(base.format(f="absent.csv")) == "problem.yaml: data.file: no such data file (absent.csv)"
    write("d.txt", "1 2 3\n")
    assert refused(base.format(f="d.txt")) == "problem.yaml: data.file: data files must be .csv or .npz"
    np.savez("one.npz", inputs=np.ones((2, 2)))
    assert refused(base.format(f="one.npz")) == "one.npz: missing array 'targets' (has inputs)"
    write("fake.npz", "not a zip")
    assert refused(base.format(f="fake.npz")).startswith("fake.npz: not a readable .npz file")
    np.savez("obj.npz", inputs=np.array([{"a": 1}], dtype=object), targets=np.ones(1))
    # no pickle: refused from the .npy header (behaviour changed on purpose: the dtype is named)
    assert refused(base.format(f="obj.npz")) == \
        "obj.npz: inputs: expected real numbers (floating point up to float64, or integers), got Python objects"


# -- not a problem file at all ---------------------------------------------------------------------
def test_not_yaml_binary_empty_directory_missing(here):
    assert refused("layers: [1, 2\nloss: sse\n") == \
        "problem.yaml: line 2, column 5: not valid YAML: did not find expected ',' or ']'"
    with open("junk.yaml", "wb") as fh:
        fh.write(bytes(range(256)) * 4)
    with pytest.raises(InputError) as e:
        load_problem("junk.yaml")
    assert e.value.line() == "junk.yaml: not a text file (invalid UTF-8 at byte 128)"
    with open("nul.yaml", "wb") as fh:
        fh.write(b"layers: []\x00\n")
    with pytest.raises(InputError, match=r"^nul.yaml: not a text file \(contains NUL bytes\)$"):
        load_problem("nul.yaml")
    assert refused("") == "problem.yaml: expected a mapping of fields, got nothing"
    assert refused("# only a comment\n") == "problem.yaml: expected a mapping of fields, got nothing"
    assert refused("just some words\n") == "problem.yaml: expected a mapping of fields, got the text 'just some words'"
    assert refused("- 1\n- 2\n") == "problem.yaml: expected a mapping of fields, got a list"
    assert refused("{}") == "problem.yaml: layers: missing field 'layers' (a list of layers)"
    assert refused("layers: []\nloss: sse\n") == "problem.yaml: layers: expected a non-empty list of layers, got a list"
    os.mkdir("folder.yaml")
    with pytest.raises(InputError, match=r"^folder.yaml: is a directory, not a file$"):
        load_problem("folder.yaml")
    with pytest.raises(InputError, match=r"^nowhere.yaml: no such file$"):
        load_problem("nowhere.yaml")
    assert refused('{"layers": [}', "problem.json") == \
        "problem.json: line 1, column 13: not valid JSON: Expecting value"
    assert refused(edit("loss: half_sse", "loss: half_sse\n---\nloss: sse")) == \
        "problem.yaml: line 10, column 1: not valid YAML: but found another document"


def test_tabs_give_a_yaml_line(here):
    assert refused("layers:\n\t- weights: [[1]]\n") == \
        "problem.yaml: line 2, column 1: not valid YAML: found character that cannot start any token"


def test_object_constructing_tags_are_refused_and_never_run(here):
    canary = here / "CANARY"
    for tag in (f"!!python/object/apply:os.system ['touch {canary}']",
                f"!!python/object/apply:builtins.open ['{canary}', 'w']",
                "!!python/name:os.system", "!!python/module:os", f"!!python/object/new:pathlib.Path ['{canary}']",
                "!<tag:yaml.org,2002:python/object/apply:os.system> ['true']"):
        line = refused(edit("learning_rate: 0.5", f"learning_rate: {tag}"))
        assert line.startswith("problem.yaml: line 13, column 16: the tag !!python/")
        assert line.endswith("is not allowed (a problem file holds only numbers, text, true/false, lists and "
                             "mappings; nothing is constructed or run)")
    assert not canary.exists()
    for tag, name in (("!!binary aGVsbG8=", "!!binary"), ("!!set {a: null}", "!!set"),
                      ("!!timestamp 2001-12-14", "!!timestamp"), ("!!omap [a: 1]", "!!omap"),
                      ("!!pairs [a: 1]", "!!pairs"), ("!custom x", "!custom")):
        assert refused(edit("name: seed-002 two-two-one", f"name: {tag}")).startswith(
            f"problem.yaml: line 1, column 7: the tag {name} is not allowed")


def test_explicit_core_tags_on_bad_text(here):
    assert refused(edit("learning_rate: 0.5", "learning_rate: !!float abc")) == \
        "problem.yaml: line 13, column 16: not valid YAML: not a number: 'abc'"
    assert refused(edit("learning_rate: 0.5", "learning_rate: !!float 1:30")) == \
        "problem.yaml: line 13, column 16: not valid YAML: not a number: '1:30'"
    assert refused(edit("decimals: 3", "decimals: !!int 0x10")) == \
        "problem.yaml: line 14, column 11: not valid YAML: not a whole number: '0x10'"
    assert refused(SEED_002 + "training: {shuffle: !!bool maybe}\n") == \
        "problem.yaml: line 15, column 21: not valid YAML: not true or false: 'maybe'"
    assert refused(edit("learning_rate: 0.5", "learning_rate: !!str 0.5")) == \
        "problem.yaml: learning_rate: expected a number, got the text '0.5' (remove the quotes to make it a number)"


def test_aliases_and_alias_bombs(here):
    assert refused(edit("  targets: [[0.50]]", "  targets: &t [[0.50]]\nextra: *t")) == \
        "problem.yaml: anchors and aliases (&name, *name) are not allowed"
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    assert refused(bomb) == "problem.yaml: anchors and aliases (&name, *name) are not allowed"  # 10^9 leaves
    assert refused("base: &b {loss: sse}\n<<: *b\n") == \
        "problem.yaml: anchors and aliases (&name, *name) are not allowed"


def test_duplicate_keys(here):
    assert refused(SEED_002 + "loss: sse\n") == "problem.yaml: line 15, column 1: not valid YAML: duplicate key 'loss'"
    assert refused('{"loss": "sse", "loss": "mse"}', "problem.json") == \
        "problem.json: not valid JSON: duplicate key 'loss'"


def test_deep_nesting(here):
    assert refused("layers: " + "[" * 100 + "]" * 100 + "\n") == "problem.yaml: nested more than 64 levels deep"
    assert refused("layers: " + "[" * 50_000 + "]" * 50_000 + "\n").startswith("problem.yaml: line 1, column ")
    assert refused('{"layers": ' + "[" * 50_000 + "]" * 50_000 + "}", "problem.json") == \
        "problem.json: nested more than 64 levels deep"


def test_json_nan_and_infinity_are_refused(here):
    doc = json.loads(json.dumps(yaml.safe_load(SEED_002)))
    text = json.dumps(doc).replace('"learning_rate": 0.5', '"learning_rate": NaN')
    assert refused(text, "p.json") == "p.json: learning_rate: expected a finite number, got nan"
    text = json.dumps(doc).replace('"learning_rate": 0.5', '"learning_rate": -Infinity')
    assert refused(text, "p.json") == "p.json: learning_rate: expected a finite number, got -inf"


# -- the whole file is validated, whatever the command line overrides ---------------------------
@pytest.mark.parametrize("training, options", [
    ("{epochs: 0}", ["--epochs", "5"]),
    ("{method: sgd}", ["--method", "batch"]),
    ("{method: minibatch, batch_size: -2}", ["--batch-size", "1"]),
    ("{shuffle: yes}", ["--shuffle"]),
    ("{seed: 1.5}", ["--seed", "2"]),
])
def test_bad_training_field_refused_even_when_overridden(here, capsys, training, options):
    write("p.yaml", SEED_002 + f"training: {training}\n")
    assert main(["train", "p.yaml", "--quiet", *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith("p.yaml: training.") and err.count("\n") == 1
    write("ok.yaml", SEED_002)  # the same options on a good file are fine
    assert main(["train", "ok.yaml", "--quiet", *options]) == 0


def test_learning_rate_refused_even_when_given_on_the_command_line(here, capsys):
    write("p.yaml", edit("learning_rate: 0.5", "learning_rate: -1"))
    assert main(["train", "p.yaml", "--learning-rate", "0.1", "--quiet"]) == 2
    assert capsys.readouterr().err == "p.yaml: learning_rate: must be positive, got -1\n"


# -- the readers' modules: no import cycle (lazy imports count) ----------------------------------------
def _imports(module: str) -> set[str]:
    """Every deltarule module that ``module``'s source imports, at the top or inside functions."""
    import ast

    import deltarule

    root = Path(deltarule.__file__).parent
    file = root / (module.replace(".", "/") + ".py")
    if not file.exists():
        file = root / module.replace(".", "/") / "__init__.py"
    full = f"deltarule.{module}"
    package = (full if file.name == "__init__.py" else full.rsplit(".", 1)[0]).split(".")
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join(base[1:] + ([node.module] if node.module else []))
            found |= {f"{target}.{a.name}".strip(".") for a in node.names} | {target}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("deltarule."):
            found.add(node.module[len("deltarule."):])
    return found


@pytest.mark.parametrize("module", ["fields", "limits", "loader", "data", "examples", "netfile", "reader"])
def test_the_readers_of_files_do_not_import_problem(module):
    # problem imports them all; any of them importing problem back (even inside a function) is a cycle
    imported = _imports(module)
    assert imported, module  # the scan found this module's imports
    assert "problem" not in imported and "training" not in imported and "check" not in imported


# -- confinement: a data file lies in the problem file's folder (issue 12.18) ------------------------
CSV_PROBLEM = edit("  inputs: [[0.05, 0.10]]\n  targets: [[0.50]]\n", "  file: {f}\n  targets: [y]\n")
OUTSIDE = "problem.yaml: data.file: {} (pass --allow-outside, or allow_outside=True, to read it anyway)"


def test_a_data_file_outside_the_problem_folder_is_refused_without_reading_it(here, capsys):
    secret = here.parent / f"{here.name}-secret.csv"
    secret.write_text("x1,x2,y\nTOPSECRET,1,2\n")
    os.makedirs("sub")
    os.symlink(secret, "sub/link.csv")
    os.symlink("/proc/self/environ", "env.csv")
    cases = {str(secret): "an absolute path; a data file must lie in the problem file's folder",
             f"../{secret.name}": "outside the problem file's folder (after '..' and symbolic links)",
             "sub/link.csv": "outside the problem file's folder (after '..' and symbolic links)",
             "env.csv": "outside the problem file's folder (after '..' and symbolic links)"}
    for name, why in cases.items():
        write("problem.yaml", CSV_PROBLEM.format(f=name))
        assert main(["solve", "problem.yaml"]) == 2
        out, err = capsys.readouterr()
        assert err == OUTSIDE.format(why) + "\n" and out == ""
        assert "TOPSECRET" not in err and os.environ.get("PATH", "@@") not in err
    # the user opts in: the file is read (and its bad value shown, since the user asked for it)
    assert main(["solve", "problem.yaml", "--allow-outside"]) == 2
    err = capsys.readouterr().err  # read, and refused without showing any of it
    assert err == "env.csv: not a text file (contains NUL bytes)\n" and os.environ.get("PATH", "@@") not in err
    write("problem.yaml", CSV_PROBLEM.format(f=str(secret)))
    with pytest.raises(InputError, match="TOPSECRET"):
        load_problem("problem.yaml", allow_outside=True)


def test_data_below_the_problem_folder_and_built_in_examples_still_load(here):
    write("data/in.csv", "x1,x2,y\n0.05,0.10,0.5\n")
    assert load(CSV_PROBLEM.format(f="data/../data/in.csv")).x.tolist() == [[0.05, 0.10]]
    assert load_problem("moons").x.shape == (120, 2)  # the example's CSV lies beside it


@pytest.mark.parametrize("command", ["solve", "train", "gradcheck", "predict", "compare", "plot"])
def test_every_command_that_reads_problems_takes_allow_outside(command, capsys):
    assert main([command, "--help"]) == 0
    assert "--allow-outside" in capsys.readouterr().out


def test_a_mistyped_example_name_suggests_the_nearest(here, capsys):
    assert main(["solve", "seed-02"]) == 2
    assert capsys.readouterr().err == \
        "seed-02: no such file or built-in example (did you mean 'seed-002'? see 'deltarule examples')\n"
    assert main(["solve", "zzz"]) == 2
    assert capsys.readouterr().err == "zzz: no such file\n"


# -- hostile text and numbers in YAML/JSON (issues 12.1, 12.2, 12.9) ----------------------------------
def test_a_json_integer_of_5000_digits_is_one_line(here, capsys):
    write("big.json", json.dumps(yaml.safe_load(SEED_002)).replace('"learning_rate": 0.5', '"learning_rate": ' + "7" * 5000))
    assert main(["solve", "big.json"]) == 2
    assert capsys.readouterr().err == "big.json: not valid JSON: a number of 5,000 digits is too long\n"


@pytest.mark.parametrize("where", ["name", "description", "key", "column"])
def test_a_lone_surrogate_is_refused_at_load(here, capsys, where):
    doc = yaml.safe_load(SEED_002)
    if where == "key":
        doc["\ud800"] = 1
    elif where == "column":
        doc["data"] = {"file": "d.csv", "targets": ["\ud800"]}
    else:
        doc[where] = "a\ud800b"
    write("s.json", json.dumps(doc))  # json.dumps writes the surrogate as \ud800, as an attacker would
    assert "\\ud800" in open("s.json").read()
    assert main(["train", "s.json", "--quiet"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "s.json: text holds a lone surrogate (such as \\ud800), which is not a " \
                                "character; write the character itself\n"


def test_a_good_non_ascii_name_trains_and_summarises(here, capsys):
    doc = yaml.safe_load(SEED_002)
    doc["name"] = "r\u00e9seau \U0001F9E0"
    write("ok.json", json.dumps(doc))
    assert main(["train", "ok.json", "--epochs", "2"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", ["\x1b]2;owned\x07", "\x1b[2J", "a\rb\nc", "\u202eevil", "\x9b31m"])
def test_control_characters_in_an_error_line_are_escaped(here, capsys, bad):
    # an unknown key and an unknown activation, both echoed by the error line
    for text in (SEED_002 + f"{json.dumps(bad)}: 1\n",
                 SEED_002.replace("activation: sigmoid", f"activation: {json.dumps(bad)}", 1)):
        write("problem.yaml", text)
        assert main(["solve", "problem.yaml"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.endswith("\n")
        assert not any(c in err[:-1] for c in "\x1b\r\n\x07\x9b\u202e"), repr(err)
        escaped = bad.encode("unicode_escape").decode("ascii").replace("\\u202e", "\\u202e")
        assert escaped.split("\\")[1][:3] in err  # shown as an escape such as \x1b


def test_error_line_escapes_are_the_usual_ones():
    assert InputError("unknown field", "\x1b]2;title\x07", "p.yaml").line() == "p.yaml: \\x1b]2;title\\x07: unknown field"
    assert InputError("clear \x1b[2J", "", "a\nb.yaml").line() == "a\\nb.yaml: clear \\x1b[2J"
    assert InputError("x", "\u202eabc").line() == "\\u202eabc: x"


def test_paths_count_from_one_as_the_notes_do(here):
    # W2[1,2] (0.45 in seed 002) is layers[2].weights[1][2]: the same numbers as the parameter's name
    assert refused(edit("[[0.40, 0.45]]", "[[0.40, x]]")) == \
        "problem.yaml: layers[2].weights[1][2]: expected a number, got the text 'x'"
    assert refused(edit("[[0.05, 0.10]]", "[[0.05, x]]")) == \
        "problem.yaml: data.inputs[1][2]: expected a number, got the text 'x'"
