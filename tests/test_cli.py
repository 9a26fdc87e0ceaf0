"""The command line as users meet it: in-process through ``deltarule.cli.main`` and, for a
few runs, as a real process (``python -m deltarule`` and the ``deltarule`` entry point)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from deltarule import examples
from deltarule.cli import _modules, main
from deltarule.problem import load_problem
from deltarule.training import Schedule

CONTRACT = Path(__file__).resolve().parents[1] / "contract"
if not CONTRACT.is_dir():
    CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract"
EXAMPLES_DIR = Path(examples.__file__).parent
ENTRY_POINT = Path(sys.executable).with_name("deltarule")


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    """(exit code, stdout, stderr) of one in-process run."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def process(*argv, entry=False, cwd=None):
    cmd = [str(ENTRY_POINT)] if entry else [sys.executable, "-m", "deltarule"]
    return subprocess.run(cmd + [str(a) for a in argv], capture_output=True, text=True, cwd=cwd, timeout=120)


def one_line_refusal(code, err, starts=""):
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n") and err.strip(), repr(err)
    assert err.startswith(starts), err


# -- examples ---------------------------------------------------------------------------------
def test_examples_lists_every_builtin(capsys):
    code, out, err = run(capsys, "examples")
    assert code == 0 and err == ""
    listed = [line.split()[0] for line in out.splitlines()]
    on_disk = sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))
    assert listed == on_disk == examples.names()
    assert {"seed-000-neuron", "seed-001", "seed-002", "seed-003", "seed-004-example-3"} <= set(listed)
    for line in out.splitlines():  # each with its one-line name
        name, title = line.split(None, 1)
        assert title.strip() == str(load_problem(name).name)


@pytest.mark.parametrize("name", examples.names())
def test_examples_name_prints_a_file_that_parses_back(here, capsys, name):
    code, out, err = run(capsys, "examples", name)
    assert code == 0 and err == ""
    Path(f"{name}.yaml").write_text(out)
    doc = yaml.safe_load(out)
    if isinstance(doc.get("data"), dict) and "file" in doc["data"]:  # its data file goes with it
        shutil.copy(EXAMPLES_DIR / doc["data"]["file"], here / doc["data"]["file"])
    mine, builtin = load_problem(f"{name}.yaml"), load_problem(name)
    np.testing.assert_array_equal(mine.network.parameters(), builtin.network.parameters())
    assert repr(mine.network) == repr(builtin.network)
    np.testing.assert_array_equal(mine.x, builtin.x)
    np.testing.assert_array_equal(mine.y, builtin.y)
    assert (mine.learning_rate, mine.decimals, mine.schedule, mine.name) == \
        (builtin.learning_rate, builtin.decimals, builtin.schedule, builtin.name)


def test_examples_save_writes_the_problem_and_its_data(here, capsys):
    with_data = [n for n in examples.names() if isinstance(yaml.safe_load(examples.text(n)).get("data"), dict)
                 and "file" in yaml.safe_load(examples.text(n))["data"]]
    assert with_data  # digits and moons ship their data
    name = with_data[0]
    data = yaml.safe_load(examples.text(name))["data"]["file"]
    # printed alone, the file cannot find its data: the error says where it comes from
    Path("alone.yaml").write_text(run(capsys, "examples", name)[1])
    code, _, err = run(capsys, "solve", "alone.yaml")
    one_line_refusal(code, err, f"alone.yaml: data.file: no such data file ({data}); it comes with a built-in "
                                f"example: deltarule examples {name} --save DIR")
    code, out, err = run(capsys, "examples", name, "--save", "course")
    assert code == 0 and err == "" and out.split() == [f"course/{name}.yaml", f"course/{data}"]
    assert (here / "course" / data).read_bytes() == (EXAMPLES_DIR / data).read_bytes()
    saved, builtin = load_problem(f"course/{name}.yaml"), load_problem(name)
    np.testing.assert_array_equal(saved.x, builtin.x)
    np.testing.assert_array_equal(saved.network.parameters(), builtin.network.parameters())
    assert run(capsys, "examples", "seed-002", "--save", ".")[0] == 0
    assert Path("seed-002.yaml").read_text() == examples.text("seed-002")
    one_line_refusal(*run(capsys, "examples", "--save", "x")[::2], starts="--save: --save needs an example NAME")


def test_unknown_example_name(capsys):
    one_line_refusal(*run(capsys, "examples", "seed-999")[::2], starts="seed-999: no built-in example")


# -- solve -----------------------------------------------------------------------------------
def test_solve_accepts_a_builtin_name_and_a_file_alike(here, capsys):
    code, by_name, _ = run(capsys, "solve", "seed-002", "--format", "json")
    Path("mine.yaml").write_text(examples.text("seed-002"))
    code2, by_file, _ = run(capsys, "solve", "mine.yaml", "--format", "json")
    assert code == code2 == 0 and json.loads(by_name) == json.loads(by_file)


def test_solve_json_steps_per_contract(capsys):
    code, out, err = run(capsys, "solve", "seed-004-example-3-stochastic", "--format", "json", "--steps", "4")
    assert code == 0 and err == ""
    steps = json.loads(out)["steps"]
    assert [s["examples"] for s in steps] == [[0], [1], [2], [0]]  # file order, then the next epoch
    keys = {"W", "b", "z", "a", "dL_da", "delta", "dW", "db", "W_new", "b_new"}
    for s, nxt in zip(steps, steps[1:]):
        assert set(s) >= {"examples", "loss", "loss_after", "layers"} and len(s["layers"]) == 1
        layer = s["layers"][0]
        assert set(layer) >= keys
        assert len(layer["z"]) == len(s["examples"])  # per-example rows
        assert nxt["layers"][0]["W"] == layer["W_new"]  # each update starts where the last ended
        assert nxt["layers"][0]["b"] == layer["b_new"]
    # seed 004, example 3 stochastic: z = w x with w = 0.5, b = 0 frozen
    first = steps[0]["layers"][0]
    assert first["z"] == [[0.5]] and first["b_new"] == [0.0]


@pytest.mark.parametrize("case", ["seed-002", "seed-004-example-3"])
def test_solve_json_matches_golden_in_a_real_process(case):
    res = process("solve", CONTRACT / f"{case}.yaml", "--format", "json")
    assert res.returncode == 0 and res.stderr == ""
    got, want = json.loads(res.stdout), json.loads((CONTRACT / f"{case}.solve.json").read_text())
    assert len(got["steps"]) == len(want["steps"]) == 1
    for g, w in zip(got["steps"][0]["layers"], want["steps"][0]["layers"]):
        for key, value in w.items():
            np.testing.assert_allclose(np.asarray(g[key], float), np.asarray(value, float), rtol=1e-9, atol=1e-15)
    for key in ("loss", "loss_after"):
        assert got["steps"][0][key] == pytest.approx(want["steps"][0][key], rel=1e-9)


def test_output_file_is_written_whole(here, capsys):
    Path("out.json").write_text("old contents that are much longer than nothing " * 100)
    assert run(capsys, "solve", "seed-002", "--format", "json", "-o", "out.json")[0] == 0
    assert json.loads(Path("out.json").read_text())["steps"]  # replaced, not appended or mixed
    assert sorted(os.listdir()) == ["out.json"]  # no temporary file left behind
    before = Path("out.json").read_bytes()
    Path("bad.yaml").write_text("layers: [\n")
    code, _, err = run(capsys, "solve", "bad.yaml", "--format", "json", "-o", "out.json")
    one_line_refusal(code, err, "bad.yaml: ")
    assert Path("out.json").read_bytes() == before  # a failed run leaves the old output alone
    assert sorted(os.listdir()) == ["bad.yaml", "out.json"]


# -- train --------------------------------------------------------------------------------------
def test_train_with_every_option(here, capsys):
    code, out, err = run(capsys, "train", "seed-002", "--method", "minibatch", "--batch-size", "1",
                         "--epochs", "7", "--learning-rate", "0.3", "--shuffle", "--seed", "4",
                         "--journal", "run.csv", "--save", "model.json", "--plot", "run.png")
    assert code == 0 and err == "", err
    assert "seed-002" in out and "7 epochs" in out
    # the journal: epoch, loss, then every parameter by its contract name
    journal = pd.read_csv("run.csv")
    assert list(journal.columns[:8]) == ["epoch", "loss", "W1[1,1]", "W1[1,2]", "W1[2,1]", "W1[2,2]",
                                         "b1[1]", "b1[2]"]
    assert list(journal.columns[8:11]) == ["W2[1,1]", "W2[1,2]", "b2[1]"]
    assert list(journal["epoch"]) == [0, 1, 2, 3, 4, 5, 6, 7]
    # the same run through the API, bit for bit
    problem = load_problem("seed-002")
    result = problem.train(Schedule("minibatch", 1, 7, True, 4), 0.3)
    np.testing.assert_array_equal(journal.to_numpy(), result.journal.rows)
    # the journal's loss is the loss over all examples with that row's parameters
    net = problem.network.with_parameters(journal.iloc[3, 2:11].to_numpy())
    assert journal["loss"][3] == net.evaluate(problem.x, problem.y)
    # the model is a problem file, and loads back exactly
    saved = load_problem("model.json")
    np.testing.assert_array_equal(saved.network.parameters(), result.network.parameters())
    np.testing.assert_array_equal(saved.network.parameters(), journal.iloc[-1, 2:11].to_numpy())
    assert repr(saved.network) == repr(problem.network) and saved.x is None
    assert set(json.loads(Path("model.json").read_text())) >= {"layers", "loss"}
    assert Path("run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir()) == ["model.json", "run.csv", "run.png"]  # nothing else left behind


def test_train_single_neuron_journal_names_w_and_b(here, capsys):
    assert run(capsys, "train", "seed-000-neuron", "--epochs", "3", "--journal", "j.csv", "--quiet")[0] == 0
    assert list(pd.read_csv("j.csv").columns[:4]) == ["epoch", "loss", "w", "b"]


def test_train_saved_model_trains_on(here, capsys):
    """A saved model is a problem file: add data and it trains again."""
    assert run(capsys, "train", "seed-002", "--epochs", "2", "--save", "m.json", "--quiet")[0] == 0
    doc = json.loads(Path("m.json").read_text())
    doc.update(data={"inputs": [[0.05, 0.1]], "targets": [[0.5]]}, learning_rate=0.5)
    Path("again.json").write_text(json.dumps(doc))
    assert run(capsys, "train", "again.json", "--epochs", "3", "--journal", "j.csv", "--quiet")[0] == 0
    straight = load_problem("seed-002").train(Schedule(epochs=5), 0.5).journal.rows
    np.testing.assert_array_equal(pd.read_csv("j.csv").to_numpy()[-1], [3, *straight[-1, 1:]])


def test_train_through_the_entry_point(tmp_path):
    res = process("train", "seed-004-example-3", "--epochs", "3", "--journal", "j.csv", "--save", "m.json",
                  entry=True, cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert list(pd.read_csv(tmp_path / "j.csv")["epoch"]) == [0, 1, 2, 3]
    # seed 004 example 3: one batch update of w = 0.5 (z = w x, the bias frozen at 0), sse averaged:
    # dL/dw = mean_i 2 (s_i - y_i) s_i (1 - s_i) x_i with s_i = sigmoid(0.5 x_i)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0])
    s = 1 / (1 + np.exp(-0.5 * x))
    w1 = 0.5 - 0.1 * np.mean(2 * (s - y) * s * (1 - s) * x)
    journal = pd.read_csv(tmp_path / "j.csv")
    assert journal["w"][1] == pytest.approx(w1, rel=1e-12) and list(journal["b"]) == [0, 0, 0, 0]
    assert load_problem(tmp_path / "m.json").network.layers[0].train_biases is False


# -- bad input: one line, exit 2, never a traceback ---------------------------------------------
MALFORMED = {
    "not-yaml.yaml": ("layers: [\n", "not-yaml.yaml: line 2, column 1: not valid YAML: "),
    "shape.yaml": (examples.text("seed-002").replace("[[0.40, 0.45]]", "[[0.40, 0.45], [1, 2]]"),
                   "shape.yaml: layers[2].weights: expected 1 row of 2 numbers, got 2 rows"),
    "nan.yaml": (examples.text("seed-002").replace("learning_rate: 0.5", "learning_rate: .nan"),
                 "shape"),
    "no.yaml": (examples.text("seed-002").replace("learning_rate: 0.5", "learning_rate: no"),
                "no.yaml: learning_rate: expected a number, got the text 'no'"),
    "ce.yaml": (examples.text("seed-002").replace("half_sse", "cross_entropy"),
                "ce.yaml: loss: cross_entropy needs a softmax output layer"),
    "unknown.yaml": (examples.text("seed-002") + "epochs: 3\n", "unknown.yaml: epochs: unknown field"),
    "act.yaml": (examples.text("seed-002").replace("activation: sigmoid", "activation: sigmoidal", 1),
                 "act.yaml: layers[1].activation: unknown 'sigmoidal' (did you mean 'sigmoid'?)"),
    "tag.yaml": ("layers: !!python/object/apply:os.system ['echo hacked']\n", "tag.yaml: line 1, column 9: the tag"),
    "alias.yaml": ("a: &a [1, 2]\nb: [*a, *a]\n", "alias.yaml: anchors and aliases"),
    "dup.yaml": ("loss: sse\nloss: mse\n", "dup.yaml: line 2, column 1: not valid YAML: duplicate key 'loss'"),
    "empty.yaml": ("", "empty.yaml: expected a mapping of fields, got nothing"),
    "list.json": ("[1, 2, 3]", "list.json: expected a mapping of fields, got a list"),
    "broken.json": ('{"layers": 1,}', "broken.json: line 1, column 14: not valid JSON"),
    "nodata.yaml": (examples.text("seed-002").split("data:")[0] + "learning_rate: 0.5\n",
                    "nodata.yaml: data: missing (the file gives no data)"),
    "nolr.yaml": (examples.text("seed-002").replace("learning_rate: 0.5\n", ""),
                  "nolr.yaml: learning_rate: missing (the file gives no learning rate)"),
}
MALFORMED["nan.yaml"] = (MALFORMED["nan.yaml"][0], "nan.yaml: learning_rate: expected a finite number, got nan")


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("command", ["solve", "train"])
def test_malformed_files(here, capsys, name, command):
    text, starts = MALFORMED[name]
    Path(name).write_text(text)
    code, out, err = run(capsys, command, name)
    one_line_refusal(code, err, starts)
    assert out == ""


def test_binary_junk_directory_and_missing_file(here, capsys):
    Path("junk.yaml").write_bytes(os.urandom(64) + b"\xff\xfe")
    one_line_refusal(*run(capsys, "solve", "junk.yaml")[::2], starts="junk.yaml: not a text file")
    os.mkdir("dir.yaml")
    one_line_refusal(*run(capsys, "train", "dir.yaml")[::2], starts="dir.yaml: is a directory, not a file")
    one_line_refusal(*run(capsys, "solve", "missing.yaml")[::2], starts="missing.yaml: no such file")


BAD_ARGUMENTS = [
    (["solve", "seed-002", "--steps", "0"], "deltarule solve: argument --steps: must be at least 1, got 0"),
    (["solve", "seed-002", "--steps", "two"], "deltarule solve: argument --steps: expected a whole number"),
    (["solve", "seed-002", "--format", "pdf"], "deltarule solve: argument --format: invalid choice: 'pdf'"),
    (["solve", "seed-002", "--decimals", "-1"], "deltarule solve: argument --decimals: must be 0 or more"),
    (["solve"], "deltarule solve: the following arguments are required: problem"),
    (["train", "seed-002", "--epochs", "0"], "deltarule train: argument --epochs: must be at least 1, got 0"),
    (["train", "seed-002", "--learning-rate", "-1"], "deltarule train: argument --learning-rate: must be a positive"),
    (["train", "seed-002", "--learning-rate", "nan"], "deltarule train: argument --learning-rate: must be a positive"),
    (["train", "seed-002", "--method", "adam"], "deltarule train: argument --method: invalid choice: 'adam'"),
    (["train", "seed-002", "--batch-size", "0"], "deltarule train: argument --batch-size: must be at least 1"),
    (["train", "seed-002", "--seed", "x"], "deltarule train: argument --seed: expected a whole number"),
    (["train", "seed-002", "--method", "minibatch"], "--batch-size: minibatch needs --batch-size"),
    (["train", "seed-002", "--epochs", "1000000000000"],
     "seed-002: --epochs: 1000000000000 epochs of 1 update = 1000000000000 updates; the limit is 1e+09 updates"),
    (["train", "seed-002", "--journal", "no/such/dir/run.csv"], "no/such/dir/run.csv: No such file or directory"),
    (["train", "seed-002", "--save", "."], ".: "),
    (["solve", "seed-002", "-o", "no/such/dir/out.txt"], "no/such/dir/out.txt: cannot write"),
    (["train", "seed-002", "--frobnicate"], "deltarule: unrecognized arguments: --frobnicate"),
    (["frobnicate"], "deltarule: argument COMMAND: invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv, starts", BAD_ARGUMENTS, ids=[" ".join(a[1:])[:40] for a, _ in BAD_ARGUMENTS])
def test_bad_arguments(here, capsys, argv, starts):
    code, out, err = run(capsys, *argv)
    one_line_refusal(code, err, starts)
    assert os.listdir() == []  # nothing written


def test_bad_input_in_real_processes(tmp_path):
    (tmp_path / "bad.yaml").write_text("learning_rate: 1:30\nlayers: 3\n")
    for argv, entry in ((["solve", "bad.yaml"], False), (["train", "bad.yaml"], True),
                        (["solve", "seed-002", "--steps", "-3"], True), (["examples", "nope"], False)):
        res = process(*argv, entry=entry, cwd=tmp_path)
        one_line_refusal(res.returncode, res.stderr)
        assert res.stdout == ""


# -- help ----------------------------------------------------------------------------------------
COMMANDS = [name for name, _ in _modules()]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_an_example(capsys, command):
    code, out, err = run(capsys, command, "--help")
    assert code == 0 and err == ""
    assert "example:" in out and f"deltarule {command}" in out.split("example:", 1)[1]


def test_top_level_help_and_version_in_a_process():
    res = process("--help", entry=True)
    assert res.returncode == 0 and res.stderr == ""
    for command in ("solve", "train", "examples"):
        assert command in res.stdout
    res = process("--version")
    assert res.returncode == 0 and res.stdout.startswith("deltarule ")



def test_an_os_error_naming_a_file_with_control_characters_is_one_escaped_line(monkeypatch, capsys):
    # the last-resort OSError branch of main() names the file; an ESC or BEL in that name must not
    # reach the terminal raw (ESC]2;... retitles it)
    import errno

    from deltarule.commands import solve

    def fail(args):
        raise PermissionError(errno.EACCES, "Permission denied", "out\x1b]2;owned\x07.json")

    monkeypatch.setattr(solve, "run", fail)
    assert main(["solve", "seed-002"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\x07" not in err
    assert err.startswith("out") and "Permission denied" in err
