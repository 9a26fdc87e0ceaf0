"""Divergence: NaN or inf in a loss or a parameter stops training at once, names the epoch,
the update and the learning rate, keeps the last finite parameters; `train` exits 3.

Three ways to diverge, each tried on every engine (the generic loop, and the buffered and
compiled engines of deltarule.fast):

* loss overflow: an identity neuron with too large a step grows geometrically until its
  squared error over the epoch is inf (76 epochs in; its parameters are still finite);
* parameter overflow: the second example's loss (5e299) and gradient (1e300) are finite,
  but eta * dW = 1e310 is not (the first example is fitted exactly and changes nothing);
* NaN from inf - inf: W a sums +1e400 and -1e400 in one product.

RuntimeWarnings are errors in this suite, so passing also means: no overflow warning.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_module

import deltarule as dr
from deltarule.cli import main
from deltarule.problem import load_network, parse_problem
from deltarule.training import Diverged, generic, steps, train

GROWS = {"layers": [{"weights": [[0.5]], "biases": [0.1], "activation": "identity"}], "loss": "sse",
         "data": {"inputs": [[1.0], [2.0], [3.0]], "targets": [[1.0], [2.0], [3.0]]},
         "learning_rate": 10.0, "training": {"method": "batch", "epochs": 500}}
STEP_OVERFLOWS = {"layers": [{"weights": [[1.0]], "biases": [0.0], "activation": "identity"}], "loss": "half_sse",
                  "data": {"inputs": [[1.0], [1e150], [1.0]], "targets": [[1.0], [0.0], [0.0]]},
                  "learning_rate": 1e10, "training": {"method": "stochastic", "epochs": 3}}
INF_MINUS_INF = {"layers": [{"weights": [[0.5, 0.5]], "biases": [0.0], "activation": "identity"},
                            {"weights": [[1e200], [1e200]], "biases": [0.0, 0.0], "activation": "identity"},
                            {"weights": [[1e200, -1e200]], "biases": [0.0], "activation": "sigmoid"}],
                 "loss": "bce", "data": {"inputs": [[1.0, 1.0]], "targets": [[1.0]]},
                 "learning_rate": 0.1, "training": {"method": "batch", "epochs": 2}}
CASES = {"loss-overflow": GROWS, "parameter-overflow": STEP_OVERFLOWS, "inf-minus-inf": INF_MINUS_INF}
ENGINES = ["generic", "buffered", "scalar"]


def _train(problem, engine):
    net, x, y, lr, s = problem.network, problem.x, problem.y, problem.learning_rate, problem.schedule
    if engine == "generic":
        return generic(net, x, y, lr, s)
    if engine == "scalar":
        require_module("numba")
    result = train(net, x, y, lr, s, engine=engine)
    assert result is not None
    return result


def _diverge(case, engine):
    problem = parse_problem(CASES[case])
    with pytest.raises(Diverged) as info:
        _train(problem, engine)
    return problem, info.value


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case,epoch,update,reason", [
    ("loss-overflow", 76, 1, "the loss after the epoch is inf"),
    ("parameter-overflow", 1, 2, "the update makes a parameter NaN or inf"),
    ("inf-minus-inf", 1, 1, "the loss is nan"),
])
def test_every_path_stops_at_once_with_the_last_finite_parameters(case, epoch, update, reason, engine):
    problem, e = _diverge(case, engine)
    if epoch is not None:
        assert e.epoch == epoch
    assert e.update == update and e.learning_rate == problem.learning_rate
    text = str(e)
    assert "\n" not in text and f"epoch {e.epoch}, update {e.update}" in text
    assert f"learning rate {problem.learning_rate:g}" in text
    if engine == "generic":
        assert reason in text
    params = e.network.parameters()
    assert np.isfinite(params).all()
    # the parameters are those after every update before the failing one: replay them with
    # solve's step-by-step path (Network.step), which the failing update then breaks
    per_epoch = {"batch": 1, "stochastic": len(problem.x)}[problem.schedule.method]
    done = (e.epoch - 1) * per_epoch + e.update - 1  # updates that went through
    if "after the epoch" in text:  # every update went through; the epoch's loss is inf
        done += 1
        with np.errstate(over="ignore"):
            assert np.isinf(problem.network.with_parameters(params).evaluate(problem.x, problem.y))
    with np.errstate(over="ignore", invalid="ignore"):
        last = steps(problem.network, problem.x, problem.y, problem.learning_rate, problem.schedule, done + 1)
    before = last[done - 1].after if done > 0 else problem.network
    if engine == "generic":
        np.testing.assert_array_equal(params, before.parameters())
    else:
        np.testing.assert_allclose(params, before.parameters(), rtol=1e-12)
    if "after the epoch" not in text:
        broken = last[done]
        with np.errstate(over="ignore", invalid="ignore"):
            assert not (np.isfinite(broken.trace.loss) and np.isfinite(broken.after.parameters()).all())
    # the journal holds the epochs completed before, every number finite
    assert len(e.journal) == e.epoch  # row 0 (the start) and epochs 1 .. epoch-1
    assert np.isfinite(e.journal.rows[1:]).all() and np.isfinite(e.journal.rows[0, 2:]).all()
    if case == "inf-minus-inf":  # the starting parameters already give NaN: row 0 says so
        assert np.isnan(e.journal.loss[0])
    np.testing.assert_array_equal(e.journal.epochs, np.arange(e.epoch))


def test_loss_overflow_happens_epochs_in_and_float32_too():
    problem, e = _diverge("loss-overflow", "generic")
    # w grows by a factor of about 1 - 2 eta * mean(x^2) = -92 per epoch: (92^76)^2 = 1e298 ... inf
    assert e.journal.loss[-1] > 1e280
    doc = dict(GROWS, dtype="float32")
    p32 = parse_problem(doc)
    with pytest.raises(Diverged) as info:
        generic(p32.network, p32.x, p32.y, p32.learning_rate, p32.schedule)
    assert info.value.network.dtype == np.float32 and np.isfinite(info.value.network.parameters()).all()
    assert 5 < info.value.epoch < 30  # float32 overflows at 3.4e38: (92^k)^2 > 3e38 at k = 10


def test_default_engine_diverges_the_same_way():
    for case in CASES:
        problem = parse_problem(CASES[case])
        with pytest.raises(Diverged) as ours:
            problem.train()
        _, ref = _diverge(case, "generic")
        assert (ours.value.epoch, ours.value.update) == (ref.epoch, ref.update)


# -- the command line -------------------------------------------------------------------------------
def _write(tmp_path, doc, name="p.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_exits_3_with_one_line_and_saves_the_last_finite_model(case, tmp_path, capsys):
    path = _write(tmp_path, CASES[case])
    model, journal = tmp_path / "m.json", tmp_path / "j.csv"
    code = main(["train", str(path), "--save", str(model), "--journal", str(journal), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("deltarule train: training diverged at epoch ")
    assert "update" in err and "learning rate" in err and "Traceback" not in err
    _, ref = _diverge(case, "generic")
    saved = load_network(model)
    np.testing.assert_allclose(saved.parameters(), ref.network.parameters(), rtol=1e-12)
    lines = journal.read_text().splitlines()
    assert len(lines) == 1 + ref.epoch  # header, then epochs 0 .. epoch-1


def test_cli_divergence_in_a_fresh_process_and_help(tmp_path):
    path = _write(tmp_path, GROWS)
    run = subprocess.run([sys.executable, "-m", "deltarule", "train", str(path), "--checkpoint",
                          str(tmp_path / "c.json"), "--every", "50"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 3, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr and "Warning" not in run.stderr
    # the checkpoint is the last one written before the divergence, still loadable
    from deltarule.checkpoint_load import load_checkpoint

    c = load_checkpoint(tmp_path / "c.json")
    assert c.epoch % 50 == 0 and np.isfinite(c.network.parameters()).all()
    helptext = subprocess.run([sys.executable, "-m", "deltarule", "train", "--help"], capture_output=True,
                              text=True, timeout=60).stdout
    assert "3 diverged" in helptext and "130 interrupted" in helptext
    import deltarule.cli

    assert "3 training diverged" in deltarule.cli.__doc__


@pytest.mark.parametrize("flag", ["--save", "--journal"])
def test_cli_divergence_whose_output_cannot_be_written_gives_one_line(flag, tmp_path, capsys):
    # issue 12.15: the divergence line and the write error used to be two lines
    path = _write(tmp_path, GROWS)
    target = tmp_path / "missing-folder" / ("m.json" if flag == "--save" else "j.csv")
    code = main(["train", str(path), flag, str(target), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"{target}: cannot write") and "diverged at epoch" in err and "not saved" in err
    assert not target.parent.exists()


@pytest.mark.parametrize("engine", [None, "generic"])
def test_the_divergence_line_gives_the_rate_of_the_epoch_that_diverged(engine):
    """With a schedule the line gave the base rate (0.01) though epoch 20 ran at 0.01·10^19 = 1e17."""
    from deltarule.schedules import Exponential

    net = dr.Network((dr.Layer([[0.5]], [0.1], "identity"),), "sse")
    x, y = np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]])
    with pytest.raises(dr.Diverged) as e:
        dr.train(net, x, y, 0.01, dr.Schedule("batch", epochs=50), lr_schedule=Exponential(gamma=10.0), engine=engine)
    assert e.value.epoch == 20 and e.value.learning_rate == pytest.approx(0.01 * 10.0 ** 19, rel=1e-12)
    assert "(learning rate 1e+17)" in str(e.value)
