"""Hostile input for the surfaces added in December (issues 15 and 17), through the command line.

Every case is a real file on disk given to a real command, in-process: problem-file fields
(``optimizer:``, ``learning_rate_schedule:``, ``regularization:``, ``early_stopping:``,
``preprocess:``, ``classes:``, ``validation:``), CSV labels, tampered model files (``predict``,
``evaluate``, ``solve``), tampered optimizer state in resealed checkpoints, answers files with the
optimizer's names, exercise templates with ``optimizer:``, hostile journals for ``plot --journal``,
``compare`` with validation, and the scikit-learn estimators' constructor parameters.

A refusal is exit 2, exactly one stderr line that starts with the file's name, no traceback, no
terminal control character, nothing written (``--save``/``-o`` targets stay absent), within a few
seconds and without a large allocation (tracemalloc's peak).
"""
import contextlib
import copy
import io
import json
import re
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from deltarule.checkpoint import seal
from deltarule.cli import main

SECONDS = 20  # generous on a loaded machine: every case is refused in well under one
PEAK_BYTES = 200 * 2**20
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def cli(argv: list[str]) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak bytes) of the command line run in-process."""
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < SECONDS, argv
    return code, out.getvalue(), err.getvalue(), peak


def refused(argv: list, file, field: str | None = None, absent=()) -> str:
    """Assert the bad-input contract: exit 2, one line ``FILE: field...: problem``, nothing written."""
    code, _, err, peak = cli(argv)
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.endswith("\n"), repr(err)
    assert "Traceback" not in err and not CONTROL.search(err[:-1]), repr(err)
    assert err.startswith(f"{file}: "), err
    if field is not None:
        assert err.startswith(f"{file}: {field}"), err
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB"
    for path in absent:
        assert not Path(path).exists(), path
    return err


def handled(argv: list) -> str:
    """Assert a run that works: exit 0, nothing on stderr; its stdout."""
    code, out, err, _ = cli(argv)
    assert code == 0 and (err == "" or err.startswith("accuracy ")), (code, err)
    return out


# -- the base: a 2-4-3 softmax classifier on a CSV of text labels, every December field set ------
def _csv_rows(n: int = 40) -> list[tuple[float, float, str]]:
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(n):
        a, b = rng.normal(size=2)
        rows.append((round(a, 3), round(100 * b, 3), "cat" if a > 0 else "dog" if b > 0 else "emu"))
    return rows


def write_csv(path: Path, rows, header=("x1", "x2", "label")) -> Path:
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


BASE = {
    "name": "hostile base",
    "layers": [{"units": 4, "inputs": 2, "init": "xavier", "activation": "tanh"},
               {"units": 3, "init": "xavier", "activation": "softmax"}],
    "loss": "cross_entropy", "reduction": "mean", "seed": 0,
    "data": {"file": "d.csv", "targets": ["label"]},
    "classes": ["cat", "dog", "emu"],
    "preprocess": {"scale": "standard"},
    "validation": {"fraction": 0.25, "seed": 0},
    "learning_rate": 0.05,
    "optimizer": {"name": "adam"},
    "learning_rate_schedule": {"name": "step", "step_size": 2, "gamma": 0.5},
    "regularization": {"l2": 0.001},
    "early_stopping": {"patience": 3, "min_delta": 0, "restore_best": True},
    "training": {"method": "minibatch", "batch_size": 8, "epochs": 4, "shuffle": True, "seed": 0},
}


@pytest.fixture
def folder(tmp_path):
    write_csv(tmp_path / "d.csv", _csv_rows())
    return tmp_path


def problem(folder: Path, doc: dict, name="p.json") -> Path:
    p = folder / name
    p.write_text(json.dumps(doc) if name.endswith(".json") else doc)
    return p


def with_field(path: str, value, base=BASE) -> dict:
    """``base`` with ``path`` (dots; a missing last key added) set to ``value`` (DELETE removes it)."""
    doc = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = doc
    for key in parents:
        target = target[key]
    if value is DELETE:
        target.pop(last, None)
    else:
        target[last] = value
    return doc


DELETE = object()
HUGE = 10 ** 300  # a finite JSON number far past any sensible setting

# (field path, hostile value, the field the error must name)
PROBLEM_FIELDS = [
    ("optimizer", "adam", "optimizer"),
    ("optimizer", ["adam"], "optimizer"),
    ("optimizer", {}, "optimizer"),
    ("optimizer", {"name": "nadam"}, "optimizer"),
    ("optimizer", {"name": 5}, "optimizer"),
    ("optimizer", {"name": None}, "optimizer"),
    ("optimizer", {"name": ["adam"]}, "optimizer"),
    ("optimizer", {"name": "adam", "bogus": 1}, "optimizer"),
    ("optimizer", {"name": "adam", "weight_decay": 0.1}, "optimizer"),
    ("optimizer", {"name": "adam", "beta1": "0.9"}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta1": True}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta1": [0.9]}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta1": {"a": 1}}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta1": None}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta1": -0.1}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta1": 1.0}, "optimizer.beta1"),
    ("optimizer", {"name": "adam", "beta2": HUGE}, "optimizer.beta2"),
    ("optimizer", {"name": "adam", "eps": 0}, "optimizer.eps"),
    ("optimizer", {"name": "adam", "eps": -1e-8}, "optimizer.eps"),
    ("optimizer", {"name": "adam", "eps_placement": "bogus"}, "optimizer.eps_placement"),
    ("optimizer", {"name": "adam", "eps_placement": 3}, "optimizer.eps_placement"),
    ("optimizer", {"name": "adam", "eps_placement": ["sklearn"]}, "optimizer.eps_placement"),
    ("optimizer", {"name": "adamw", "weight_decay": -0.01}, "optimizer.weight_decay"),
    ("optimizer", {"name": "sgd", "momentum": 0.9, "nesterov": "true"}, "optimizer.nesterov"),
    ("optimizer", {"name": "sgd", "momentum": 0.9, "nesterov": "yes"}, "optimizer.nesterov"),
    ("optimizer", {"name": "sgd", "momentum": 0.9, "nesterov": 1}, "optimizer.nesterov"),
    ("optimizer", {"name": "sgd", "momentum": 0, "nesterov": True}, "optimizer"),
    ("optimizer", {"name": "sgd", "momentum": -0.5}, "optimizer.momentum"),
    ("optimizer", {"name": "rmsprop", "alpha": 2}, "optimizer.alpha"),
    ("optimizer", {"name": "rmsprop", "alpha": -1}, "optimizer.alpha"),
    ("learning_rate_schedule", "step", "learning_rate_schedule"),
    ("learning_rate_schedule", [{"name": "step"}], "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "warmup"}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "step", "bogus": 1}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "step", "step_size": 0, "gamma": 0.5}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "step", "step_size": -2, "gamma": 0.5}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "step", "step_size": 2.5, "gamma": 0.5}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "step", "step_size": 2, "gamma": -1}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "step", "step_size": 2, "gamma": "0.5"}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "exponential", "gamma": 0}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "cosine", "T_max": 2}, "learning_rate_schedule"),  # PyTorch's spelling
    ("learning_rate_schedule", {"name": "cosine", "t_max": 0}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "cosine", "t_max": 2.5}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "cosine", "t_max": -5}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "cosine", "t_max": 2, "eta_min": -1}, "learning_rate_schedule"),
    ("learning_rate_schedule", {"name": "inverse_scaling", "power_t": -1}, "learning_rate_schedule"),
    ("regularization", 0.1, "regularization"),
    ("regularization", [0.1], "regularization"),
    ("regularization", {"l1": 0.1}, "regularization"),
    ("regularization", {"l2": -1}, "regularization.l2"),
    ("regularization", {"l2": "0.1"}, "regularization.l2"),
    ("regularization", {"l2": True}, "regularization.l2"),
    ("early_stopping", "yes", "early_stopping"),
    ("early_stopping", [], "early_stopping"),
    ("early_stopping", {"patience": 0}, "early_stopping.patience"),
    ("early_stopping", {"patience": -1}, "early_stopping.patience"),
    ("early_stopping", {"patience": 2.5}, "early_stopping.patience"),
    ("early_stopping", {"patience": "3"}, "early_stopping.patience"),
    ("early_stopping", {"patience": 3, "restore_best": "true"}, "early_stopping.restore_best"),
    ("early_stopping", {"patience": 3, "restore_best": 1}, "early_stopping.restore_best"),
    ("early_stopping", {"patience": 3, "min_delta": -1}, "early_stopping.min_delta"),
    ("early_stopping", {"patience": 3, "bogus": 1}, "early_stopping"),
    ("validation", DELETE, "early_stopping"),  # early stopping watches a validation loss
    ("preprocess", "standard", "preprocess"),
    ("preprocess", ["standard"], "preprocess"),
    ("preprocess", {"scale": "bogus"}, "preprocess.scale"),
    ("preprocess", {"scale": 1}, "preprocess.scale"),
    ("preprocess", {"scale": "standard", "bogus": 1}, "preprocess"),
    ("preprocess", {"scale": "standard", "offset": [0, 0], "divisor": [0, 1]}, "preprocess"),
    ("classes", "cat", "classes"),
    ("classes", {"cat": 0}, "classes"),
    ("classes", [], "classes"),
    ("classes", ["cat", "cat", "dog"], "classes"),
    ("classes", ["cat", "dog"], "classes"),
    ("classes", ["cat", "dog", "emu", "yak"], "classes"),
    ("classes", ["cat", None, "emu"], "classes"),
    ("classes", ["cat", ["dog"], "emu"], "classes"),
    ("classes", ["cat", {"d": 1}, "emu"], "classes"),
    ("classes", ["cat", True, "emu"], "classes"),
    ("classes", [f"c{i}" for i in range(100_000)], "classes"),
    ("validation", {"fraction": 0}, "validation.fraction"),
    ("validation", {"fraction": 1}, "validation.fraction"),
    ("validation", {"fraction": -0.1}, "validation.fraction"),
    ("validation", {"fraction": "0.2"}, "validation.fraction"),
    ("validation", {"fraction": HUGE}, "validation.fraction"),
    ("validation", {"fraction": 0.2, "seed": -1}, "validation.seed"),
    ("validation", {"fraction": 0.2, "seed": 2.5}, "validation.seed"),
    ("validation", {"fraction": 0.2, "bogus": 1}, "validation"),
    # a model's record fields in a problem with data: the data decides, but garbage was ignored silently
    ("columns", 5, "columns"),
    ("columns", {"inputs": ["a", "a"], "targets": ["label"]}, "columns.inputs"),
    ("columns", {"inputs": ["a", "b", "c"], "targets": ["label"]}, "columns.inputs"),
    ("trained_on", "x", "trained_on"),
    ("trained_on", {"rows": "x"}, "trained_on"),
]


@pytest.mark.parametrize("path,value,field", PROBLEM_FIELDS, ids=[f"{p}-{i}" for i, (p, _, _) in
                                                                  enumerate(PROBLEM_FIELDS)])
def test_hostile_problem_fields_are_refused(folder, path, value, field):
    p = problem(folder, with_field(path, value))
    refused(["train", p, "--save", folder / "m.json", "--journal", folder / "j.csv", "--quiet"], p, field,
            absent=[folder / "m.json", folder / "j.csv"])


# finite but extreme settings are legal (PyTorch accepts them): they train (exit 0) or stop as a
# divergence (exit 3, one line), never a traceback
EXTREME = [
    ("optimizer", {"name": "adam", "eps": HUGE}),
    ("optimizer", {"name": "adamw", "weight_decay": HUGE}),
    ("optimizer", {"name": "sgd", "momentum": HUGE}),
    ("learning_rate_schedule", {"name": "step", "step_size": HUGE, "gamma": 0.5}),
    ("learning_rate_schedule", {"name": "exponential", "gamma": HUGE}),
    ("learning_rate_schedule", {"name": "inverse_scaling", "power_t": HUGE}),
    ("regularization", {"l2": HUGE}),
    ("learning_rate_schedule", {"name": "cosine", "t_max": 2, "eta_min": HUGE}),  # PyTorch: any eta_min
    ("early_stopping", {"patience": HUGE}),
    ("early_stopping", {"patience": 3, "min_delta": HUGE}),
    ("validation", {"fraction": 0.2, "seed": HUGE}),
    ("validation", {"fraction": 0.999}),  # one training row
    ("classes", ["cat", "dog", "x" * 1_000_000]),  # refused by the data: emu is no class
]


@pytest.mark.parametrize("path,value", EXTREME, ids=[f"{p}-{i}" for i, (p, _) in enumerate(EXTREME)])
def test_extreme_finite_settings_train_or_diverge_in_one_line(folder, path, value):
    p = problem(folder, with_field(path, value))
    code, _, err, peak = cli(["train", p, "--save", folder / "m.json", "--quiet"])
    assert code in (0, 2, 3) and peak < PEAK_BYTES, (code, err)
    assert err.count("\n") == (code != 0) and "Traceback" not in err, err
    assert len(err) < 1000, err[:100]


@pytest.mark.parametrize("text", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_in_settings_are_refused(folder, text):
    for field, key in (("optimizer", "beta1"), ("optimizer", "eps"), ("regularization", "l2"),
                       ("early_stopping", "min_delta"), ("early_stopping", "patience"),
                       ("validation", "fraction"), ("learning_rate_schedule", "gamma")):
        p = problem(folder, with_field(f"{field}.{key}", text))
        refused(["train", p, "--quiet"], p, f"{field}.{key}")


def test_the_base_problem_trains(folder):
    """The base every case tampers with is valid: the refusals above are the tampering's."""
    p = problem(folder, BASE)
    handled(["train", p, "--save", folder / "m.json", "--quiet"])
    model = json.loads((folder / "m.json").read_text())
    assert model["classes"] == ["cat", "dog", "emu"] and len(model["preprocess"]["offset"]) == 2
@pytest.mark.parametrize("command", ["train", "solve"])
@pytest.mark.parametrize("schedule", [{"name": "exponential", "gamma": 1e200},
                                      {"name": "step", "step_size": 1, "gamma": 1e200},
                                      {"name": "inverse_scaling", "power_t": 1e300}])
def test_a_schedule_whose_rate_overflows_diverges_in_one_line(folder, schedule, command):
    """γ^e past the largest float was Python's OverflowError traceback (η·γ^e with γ = 1e200 at
    epoch 2; (e·n + 1)^power_t with power_t = 1e300 at epoch 1): the rate is inf (training stops as
    diverged, exit 3) or, divided by, 0."""
    doc = with_field("learning_rate_schedule", schedule, with_field("learning_rate", 1e-300))
    doc["training"]["epochs"] = 4
    del doc["preprocess"]  # solve notes scaled inputs on stderr
    p = problem(folder, doc)
    code, _, err, _ = cli([command, p, "--quiet"] if command == "train" else [command, p, "--steps", "3"])
    assert code in (0, 3) and "Traceback" not in err, (code, err)
    assert err.count("\n") == (code != 0), err


# -- tampered model files: predict, evaluate, solve -----------------------------------------------
@pytest.fixture(scope="module")
def model_doc(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("model")
    write_csv(folder / "d.csv", _csv_rows())
    p = problem(folder, BASE)
    handled(["train", p, "--save", folder / "m.json", "--quiet"])
    return json.loads((folder / "m.json").read_text())


MODEL_FIELDS = [
    ("classes", ["cat", "dog"]),
    ("classes", ["cat", "dog", "emu", "yak"]),
    ("classes", ["cat", "cat", "emu"]),
    ("classes", ["cat", 1, "emu"]),
    ("classes", ["cat", None, "emu"]),
    ("classes", ["cat", ["dog"], "emu"]),
    ("classes", "cat"),
    ("classes", {"cat": 1}),
    ("classes", [f"c{i}" for i in range(100_000)]),
    ("preprocess", {"scale": "standard", "offset": [0.0], "divisor": [1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0, 0.0], "divisor": [1.0, 1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0], "divisor": [1.0]}),
    ("preprocess", {"scale": "standard", "offset": [float("nan"), 0.0], "divisor": [1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0], "divisor": [float("inf"), 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0], "divisor": [0.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0], "divisor": [-1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0], "divisor": [1e-320, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": ["a", 0.0], "divisor": [1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [[0.0, 0.0]], "divisor": [1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": 0.0, "divisor": 1.0}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0]}),
    ("preprocess", {"scale": "bogus", "offset": [0.0, 0.0], "divisor": [1.0, 1.0]}),
    ("preprocess", {"scale": "standard", "offset": [0.0, 0.0], "divisor": [1.0, 1.0], "x": 1}),
    ("preprocess", {"scale": "standard", "offset": [0.0] * 2_000_000, "divisor": [1.0, 1.0]}),
    ("columns", {"inputs": ["x1", "x1"], "targets": ["label"]}),
    ("columns", {"inputs": ["x1", "nope"], "targets": ["label"]}),
    ("columns", {"inputs": ["x1"], "targets": ["label"]}),
    ("columns", {"inputs": ["x1", "x2", "x3"], "targets": ["label"]}),
    ("columns", {"inputs": ["x1", "label"], "targets": ["label"]}),
    ("columns", {"inputs": ["x1", 2], "targets": ["label"]}),
    ("columns", {"inputs": "x1,x2", "targets": ["label"]}),
    ("columns", ["x1", "x2"]),
    ("columns", {"inputs": ["x1", "x2"], "targets": ["label"], "x": []}),
    ("columns", {"inputs": ["x1", "x2"], "targets": ["nope"]}),
    ("columns", {"inputs": ["x1", "x2"], "targets": ["x1", "x1"]}),
    ("trained_on", {"rows": -1, "held_out": 0, "inputs_sha256": "0" * 64}),
    ("trained_on", {"rows": 2.5, "held_out": 0, "inputs_sha256": "0" * 64}),
    ("trained_on", {"rows": 40, "held_out": 41, "inputs_sha256": "0" * 64}),
    ("trained_on", {"rows": 40, "held_out": 10, "inputs_sha256": "xyz"}),
    ("trained_on", {"rows": 40, "held_out": 10, "inputs_sha256": 5}),
    ("trained_on", {"rows": 40, "held_out": 10}),
    ("trained_on", [40]),
    ("optimizer", {"name": "adam", "beta1": 2}),
    ("optimizer", {"name": "adam", "eps_placement": "x"}),
    ("learning_rate_schedule", {"name": "step", "step_size": 0, "gamma": 0.5}),
    ("regularization", {"l2": -1}),
    ("early_stopping", {"patience": 0}),
    ("layers", []),
]


# solve gives the model data: then the data's own columns and record are the problem's; predict
# reads the inputs alone when the CSV lacks the model's targets (columns-33)
MODEL_CASES = [(c, p, v, f"{c}-{p}-{i}") for i, (p, v) in enumerate(MODEL_FIELDS) for c in ("predict", "evaluate", "solve")
               if not (c == "solve" and p in ("columns", "trained_on")) and not (c == "predict" and i == 33)]


@pytest.mark.parametrize("command,path,value", [c[:3] for c in MODEL_CASES], ids=[c[3] for c in MODEL_CASES])
def test_tampered_models_are_refused(folder, model_doc, command, path, value):
    m = folder / "m.json"
    doc = with_field(path, value, model_doc)
    if command == "solve":  # a model file is a problem file once it names data and a rate
        doc.update(data=BASE["data"], learning_rate=0.1)
    m.write_text(json.dumps(doc))
    argv = {"predict": ["predict", m, folder / "d.csv", "-o", folder / "out.csv"],
            "evaluate": ["evaluate", m, folder / "d.csv"],
            "solve": ["solve", m, "-o", folder / "out.txt"]}[command]
    code, _, err, _ = cli(argv)
    csv = f"{folder / 'd.csv'}: "
    # the model is refused, or the data it meets (a class or column the CSV lacks): never a flag not given
    file = csv.rstrip(": ") if err.startswith(csv) and not err.split(": ")[1].startswith("--") else m
    refused(argv, file, None if file != m else path, absent=[folder / "out.csv", folder / "out.txt"])


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_the_untampered_model_predicts_and_evaluates(folder, model_doc, command):
    m = folder / "m.json"
    m.write_text(json.dumps(model_doc))
    out = handled([command, m, folder / "d.csv"])
    assert out.count("\n") >= 3


# -- checkpoints carrying optimizer state, tampered and resealed ----------------------------------
@pytest.fixture
def adam_checkpoint(folder):
    doc = {k: v for k, v in BASE.items() if k not in ("early_stopping", "learning_rate_schedule")}
    p = problem(folder, doc)
    c = folder / "c.json"
    handled(["train", p, "--epochs", "2", "--checkpoint", c, "--quiet"])
    header = json.loads(c.read_text())
    del header["sha256"]
    return p, c, header


STATE_TAMPERING = [
    ("t", 2.5), ("t", -1), ("t", HUGE), ("t", "8"), ("t", True), ("t", None), ("t", [8]),
    ("mW1", None), ("mW1", "x"), ("mW1", [[0.0, 0.0]]), ("mW1", [[[0.0]]]), ("mW1", [[True, 0.0]] * 4),
    ("mW1", [["0", 0.0]] * 4), ("sW1", [[-1.0, 0.0]] * 4), ("mb2", [0.0] * 4), ("mb2", {"a": 1}),
    ("vW1", [[0.0, 0.0]] * 4), ("mW9", [[0.0]]), ("", None),
]


@pytest.mark.parametrize("name,value", STATE_TAMPERING, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STATE_TAMPERING)])
def test_tampered_optimizer_state_is_refused(adam_checkpoint, name, value):
    p, c, header = adam_checkpoint
    state = header["optimizer_state"]
    if name == "":
        del state["sW2"]  # a missing state name
    else:
        state[name] = value
    c.write_text(seal(header))
    refused(["train", p, "--epochs", "4", "--resume", c, "--quiet"], c, "optimizer_state")


def test_nan_in_optimizer_state_is_refused(adam_checkpoint):
    p, c, header = adam_checkpoint
    header["optimizer_state"]["mW1"][0][0] = float("nan")
    c.write_text(json.dumps({**header, "sha256": "0" * 64}))  # NaN cannot be sealed: JSON has none
    code, _, err, _ = cli(["train", p, "--epochs", "4", "--resume", c, "--quiet"])
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"{c}: "), err


def test_tampered_optimization_settings_are_refused(adam_checkpoint):
    p, c, header = adam_checkpoint
    for spec in ({"optimizer": {"name": "adam", "beta1": 7}}, {"optimizer": "adam"}, [],
                 {"optimizer": {"name": "rmsprop"}}, {"bogus": 1}):
        h = copy.deepcopy(header)
        h["optimization"] = spec
        c.write_text(seal(h))
        refused(["train", p, "--epochs", "4", "--resume", c, "--quiet"], c)


# -- answers files with the optimizer's names ----------------------------------------------------
ANSWERS = [
    {"t": -1}, {"t": HUGE}, {"t": "one"}, {"t": True},
    {"mW1_hat": "x"}, {"mW1_hat": [[1e400]]}, {"mW1_hat": [[0.1, 0.2]]}, {"vW1": [[0.1, 0.2], [0.3, 0.4]]},
    {"sW9": [[0.1]]}, {"mW1_hat_hat": [[0.1]]}, {"mW0": [[0.1]]}, {"step2.t": "x"}, {"step0.mW1": [[0.1]]},
    {"mW1[1,1]": "x"}, {"mW1[9,9]": 0.1}, {"t\x1b[2J": 1}, {"mb2_hat": {"a": 1}},
]


@pytest.mark.parametrize("answers", ANSWERS, ids=[str(i) for i in range(len(ANSWERS))])
def test_hostile_answers_with_optimizer_names(tmp_path, answers):
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"problem": "seed-002-adam", "answers": answers}))
    code, _, err, _ = cli(["check", "seed-002-adam", a])
    assert code in (1, 2) and "Traceback" not in err and not CONTROL.search(err[:-1] if err else ""), (code, err)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith(f"{a}: "), err


# -- exercise templates with optimizer: ------------------------------------------------------------
TEMPLATE_OPTIMIZERS = [
    {"name": "adam", "beta1": {"draw": "uniform", "low": 2, "high": 3, "decimals": 1}},
    {"name": {"draw": "choice", "from": ["adam", "nadam"]}},
    {"name": "adam", "eps": {"draw": "choice", "from": [0, -1]}},
    "adam",
    {"name": "sgd", "momentum": 0.9, "nesterov": "yes"},
]


@pytest.mark.parametrize("optimizer", TEMPLATE_OPTIMIZERS, ids=[str(i) for i in range(len(TEMPLATE_OPTIMIZERS))])
def test_hostile_exercise_templates_with_an_optimizer(tmp_path, optimizer):
    from deltarule import examples

    with examples.path("seed-002") as source:
        doc = __import__("yaml").safe_load(Path(source).read_text())
    doc.update(optimizer=optimizer, asked=["W2_new"])
    t = tmp_path / "t.json"
    t.write_text(json.dumps(doc))
    refused(["exercises", t, "--count", "2", "--seed", "1", "-o", tmp_path / "out"], t, None,
            absent=[tmp_path / "out"])


# -- CSV labels ------------------------------------------------------------------------------------
def _labels(kind: str) -> list[str]:
    rows = _csv_rows()
    n = len(rows)
    return {"empty": ["" if i == 3 else r[2] for i, r in enumerate(rows)],
            "one-class": ["cat"] * n,
            "many": [f"c{i}" for i in range(n)],
            "newline": ['"ca\nt"' if i == 0 else r[2] for i, r in enumerate(rows)],
            "control": ["\x1b[2Jcat" if i == 0 else r[2] for i, r in enumerate(rows)],
            "long": ["x" * 100_000 if i == 0 else r[2] for i, r in enumerate(rows)],
            "mixed": ["1" if i == 0 else r[2] for i, r in enumerate(rows)]}[kind]


@pytest.mark.parametrize("kind", ["empty", "one-class", "many", "newline", "control", "long", "mixed"])
def test_hostile_csv_labels(folder, kind):
    rows = [(a, b, label) for (a, b, _), label in zip(_csv_rows(), _labels(kind))]
    write_csv(folder / "d.csv", rows)
    doc = with_field("classes", DELETE)
    p = problem(folder, doc)
    code, _, err, _ = cli(["train", p, "--save", folder / "m.json", "--quiet"])
    assert "Traceback" not in err and not CONTROL.search(err[:-1] if err else ""), (code, err)
    assert code in (0, 2) and err.count("\n") == (code != 0), (code, err)
    if code:
        assert not (folder / "m.json").exists() and len(err) < 1000, err[:200]


def test_ten_thousand_classes_are_refused_without_a_blow_up(folder):
    rows = [(i % 7, i % 11, f"c{i}") for i in range(10_000)]
    write_csv(folder / "d.csv", rows)
    p = problem(folder, with_field("classes", DELETE))
    refused(["train", p, "--quiet"], folder / "d.csv")


# -- plot --journal: a hostile journal CSV ----------------------------------------------------------
JOURNALS = {
    "empty": "", "header": "epoch,loss\n", "no-loss": "epoch,x\n0,1\n", "text": "epoch,loss\n0,abc\n",
    "nan": "epoch,loss\n0,nan\n1,nan\n", "inf": "epoch,loss\n0,inf\n1,1\n", "negative": "epoch,loss\n0,-1\n1,-2\n",
    "duplicate": "epoch,loss,loss\n0,1,2\n1,1,2\n", "ragged": "epoch,loss\n0,1,2\n1\n",
    "control": "epoch,loss,\x1b[2J\n0,1,2\n", "epochs": "epoch,loss\n5,1\n2,1\n2,1\n",
    "wide": "epoch,loss," + ",".join(f"c{i}" for i in range(20_000)) + "\n",
    "binary": "\x00\xff\xfe", "huge-number": "epoch,loss\n0," + "9" * 5000 + "\n",
}


@pytest.mark.parametrize("kind", list(JOURNALS))
def test_hostile_journals_for_plot(tmp_path, kind):
    j = tmp_path / "j.csv"
    j.write_text(JOURNALS[kind], errors="surrogateescape")
    out = tmp_path / "plot.svg"
    code, _, err, _ = cli(["plot", "--journal", j, "-o", out])
    assert "Traceback" not in err and code in (0, 2), (code, err)
    if code:
        assert err.count("\n") == 1 and err.startswith(f"{j}: ") and not out.exists(), err
        assert not CONTROL.search(err[:-1]), repr(err)


# -- compare with validation -------------------------------------------------------------------------
@pytest.mark.parametrize("validation", [{"fraction": 1}, {"fraction": float("nan")}, {"fraction": 0.999}, "x"])
def test_compare_with_hostile_validation(folder, validation):
    p = problem(folder, with_field("validation", validation, with_field("early_stopping", DELETE)))
    code, _, err, _ = cli(["compare", p, "--epochs", "2"])
    assert code in (0, 2) and "Traceback" not in err, (code, err)
    assert err.count("\n") == (code != 0), err


# -- the scikit-learn estimators: a clear ValueError at fit ---------------------------------------
ESTIMATOR_PARAMS = [
    {"optimizer": "nadam"}, {"optimizer": 5}, {"optimizer": None}, {"optimizer": ["adam"]},
    {"optimizer": "adam", "optimizer_params": {"beta1": 2}}, {"optimizer": "adam", "optimizer_params": {"bogus": 1}},
    {"optimizer": "adam", "optimizer_params": ["beta1"]}, {"optimizer": "adam", "optimizer_params": {"beta1": "x"}},
    {"optimizer": "adam", "optimizer_params": {"eps": float("nan")}},
    {"optimizer": "adam", "optimizer_params": {"eps_placement": "x"}},
    {"optimizer": "sgd", "optimizer_params": {"momentum": 0.9, "nesterov": "yes"}},
    {"learning_rate_schedule": "warmup"}, {"learning_rate_schedule": "step", "schedule_params": {"step_size": 0}},
    {"learning_rate_schedule": "step", "schedule_params": "x"}, {"l2": -1}, {"l2": float("nan")}, {"l2": "x"},
    {"early_stopping": True, "validation_fraction": 0}, {"early_stopping": True, "validation_fraction": 2},
    {"early_stopping": True, "n_iter_no_change": 0}, {"early_stopping": True, "n_iter_no_change": 2.5},
    {"early_stopping": "yes"}, {"learning_rate": float("nan")}, {"learning_rate": -1},
    # TypeError from '<' / '>' on text; a divergence; a 146 TiB journal (MemoryError); silently truncated
    {"early_stopping": True, "validation_fraction": "x"}, {"learning_rate": "x"}, {"learning_rate": float("inf")},
    {"l2": float("inf")}, {"epochs": 10**12}, {"epochs": 2.5}, {"epochs": -1}, {"batch_size": -3},
    {"batch_size": 2.5}, {"shuffle": "x"},
]


@pytest.mark.parametrize("params", ESTIMATOR_PARAMS, ids=[str(i) for i in range(len(ESTIMATOR_PARAMS))])
def test_estimators_refuse_bad_params_with_a_value_error_at_fit(params):
    from deltarule.sklearn import DeltaRuleClassifier

    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    y = np.array([0, 1, 1, 0] * 5)
    est = DeltaRuleClassifier(**{"hidden_layer_sizes": (3,), "epochs": 2, "batch_size": 4, **params})
    with pytest.raises(ValueError) as e:
        est.fit(x, y)
    assert "\n" not in str(e.value) and len(str(e.value)) < 400, str(e.value)
    # a clear message names the parameter (or its setting) at fault
    assert any(k in str(e.value) for k in [*params, *(params.get("optimizer_params") or {})]
               if isinstance(k, str)), str(e.value)


# -- predict --drop / --inputs, evaluate --inputs / --targets: columns named on the command line ----
@pytest.mark.parametrize("argv,field", [
    (["predict", "{m}", "{d}", "--inputs", "x1,x1"], "--inputs"),
    (["predict", "{m}", "{d}", "--drop", "label,label"], "--drop"),
    (["predict", "{m}", "{d}", "--drop", "nope"], "--drop"),
    (["predict", "{m}", "{d}", "--drop", "x1,x2,label"], ""),
    (["evaluate", "{m}", "{d}", "--inputs", "x1,x1", "--targets", "label"], "--inputs"),
    (["evaluate", "{m}", "{d}", "--inputs", "x1,x2", "--targets", "label,label"], "--targets"),
    (["evaluate", "{m}", "{d}", "--inputs", "x1,x2", "--targets", "x1"], ""),
    (["evaluate", "{m}", "{d}", "--inputs", "x1,label", "--targets", "label"], ""),
])
def test_hostile_column_flags(folder, model_doc, argv, field):
    """A column named twice was read twice (--inputs x1,x1: the model saw x1 as both inputs, exit 0);
    --drop label,label blamed data.targets with no file."""
    m = folder / "m.json"
    m.write_text(json.dumps(model_doc))
    argv = [a.format(m=m, d=folder / "d.csv") for a in argv]
    code, _, err, _ = cli(argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (code, err)
    if field:
        assert err.startswith(f"{field}: ") or err.startswith(f"{folder / 'd.csv'}: {field}: "), err
    else:
        assert err.startswith(f"{folder / 'd.csv'}: "), err


def test_a_problem_naming_an_input_column_twice_is_refused(folder):
    p = problem(folder, with_field("data", {"file": "d.csv", "inputs": ["x1", "x1"], "targets": ["label"]}))
    refused(["train", p, "--quiet"], p, "data.inputs")


# -- class names that would reach the terminal raw ---------------------------------------------------
HOSTILE_NAMES = ["c\x1b[2Jat", "d\x1b]2;owned\x07og", "e\u202emu", "ca\nt", "ca\rt", "c\x00t", ""]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[repr(n) for n in HOSTILE_NAMES])
def test_hostile_class_names_are_refused(folder, model_doc, name):
    """A class name with ESC reached the terminal raw through evaluate's confusion matrix and predict's
    CSV on stdout (exit 0; ESC[2J clears the screen), from a model's classes: or from CSV labels."""
    m = folder / "m.json"
    m.write_text(json.dumps(with_field("classes", ["cat", "dog", name], model_doc)))
    refused(["evaluate", m, folder / "d.csv"], m, "classes")
    refused(["predict", m, folder / "d.csv"], m, "classes")
    p = problem(folder, with_field("classes", ["cat", "dog", name]))
    refused(["train", p, "--quiet"], p, "classes")
    rows = [(a, b, name if label == "emu" else label) for a, b, label in _csv_rows()]
    (folder / "d.csv").write_bytes(b"x1,x2,label\n" + b"".join(
        f'{a},{b},"{label}"\n'.encode("utf-8", "surrogatepass") for a, b, label in rows))
    p = problem(folder, with_field("classes", DELETE))
    refused(["train", p, "--save", folder / "m2.json", "--quiet"], folder / "d.csv", "data.targets",
            absent=[folder / "m2.json"])


@pytest.mark.parametrize("kwargs", [{"optimizer": "adam"}, {"optimizer": 5}, {"lr_schedule": "step"},
                                    {"l2": -1.0}, {"l2": float("nan")}, {"l2": float("inf")}])
def test_the_api_refuses_bad_optimization_arguments(kwargs):
    """dr.train(optimizer='adam') was an AttributeError inside an engine ('str' has no 'update_into'),
    l2=-1 ran ascent on the penalty, l2=nan ended as Diverged: each is a ValueError naming it."""
    import deltarule as dr

    p = dr.load_problem("seed-002")
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        dr.train(p.network, p.x, p.y, 0.5, dr.Schedule("batch", epochs=2), **kwargs)
