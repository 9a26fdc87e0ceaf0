"""Tampered checkpoints are refused on --resume: exit 2, one line ``FILE: field: problem`` (issue 12.10).

Each case edits a checkpoint written by ``train --checkpoint`` after 3 of 6 epochs (5 examples in
batches of 2: 3 updates per epoch, 9 in all). An edit without the seal is caught by the ``sha256``
fingerprint; each case is then resealed (as a forger who knows the format would) to show that the
consistency check behind it catches it too.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import checkpointed
from deltarule.checkpoint import seal
from deltarule.cli import main

TINY = {"name": "tiny", "seed": 1,
        "layers": [{"units": 2, "inputs": 2, "init": "xavier", "activation": "tanh"},
                   {"units": 1, "init": "xavier", "activation": "sigmoid"}],
        "loss": "half_sse",
        "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5]], "targets": [[0], [1], [1], [0], [0.5]]},
        "learning_rate": 0.5,
        "training": {"method": "minibatch", "batch_size": 2, "shuffle": True, "seed": 4, "epochs": 6}}


@pytest.fixture
def saved(tmp_path, capsys):
    return checkpointed(tmp_path, capsys, TINY)


def _header(c: Path) -> dict:
    doc = json.loads(c.read_text())
    del doc["sha256"]
    return doc


def _resume(problem, c, capsys) -> tuple[int, str]:
    code = main(["train", str(problem), "--epochs", "6", "--resume", str(c), "--quiet"])
    return code, capsys.readouterr().err


def _refused(problem, c, capsys, field: str) -> str:
    code, err = _resume(problem, c, capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"{c}: {field}: "), err
    return err


def _rows(c: Path, header: dict) -> np.ndarray:
    j = header["journal"]
    width = 2 + 9  # epoch, loss, the 9 parameters of the 2-2-1 network
    data = (c.parent / j["file"]).read_bytes()[:j["rows"] * width * 8]
    return np.frombuffer(data, "<f8").reshape(j["rows"], width)


def test_the_untampered_checkpoint_resumes(saved, capsys):
    problem, c = saved
    code, err = _resume(problem, c, capsys)
    assert code == 0 and err == ""


def test_any_edit_breaks_the_seal(saved, capsys):
    problem, c = saved
    c.write_text(c.read_text().replace('"learning_rate":0.5', '"learning_rate":0.25'))
    assert '"learning_rate":0.25' in c.read_text()
    err = _refused(problem, c, capsys, "sha256")
    assert "edited" in err


EDITS = {
    # field: (what is edited, the field named in the one line)
    "epoch 2 with 4 journal rows": (lambda h: h.update(epoch=2, updates=6), "journal.rows"),
    "epoch 4 with 4 journal rows": (lambda h: (h.update(epoch=4, updates=12), h["training"].update(epochs=6)),
                                    "journal.rows"),
    "epoch past the schedule": (lambda h: h.update(epoch=9), "epoch"),
    "update count 999,999": (lambda h: h.update(updates=999_999), "updates"),
    "learning rate 0": (lambda h: h.update(learning_rate=0.0), "learning_rate"),
    "learning rate -0.9": (lambda h: h.update(learning_rate=-0.9), "learning_rate"),
    "a weight off the journal's last row": (lambda h: h["model"]["layers"][0]["weights"][0].__setitem__(0, 0.125),
                                            "model"),
    "unknown field in model": (lambda h: h["model"].update(name="x"), "model.name"),
    "unknown field in a model layer": (lambda h: h["model"]["layers"][1].update(init="he"), "model.layers[2].init"),
    "a model layer without weights": (lambda h: h["model"]["layers"][1].pop("weights"), "model.layers[2].weights"),
    "training.epochs 0": (lambda h: h["training"].update(epochs=0), "training.epochs"),
    "training.method": (lambda h: h["training"].update(method="sgd"), "training.method"),
    "minibatch without a batch size": (lambda h: h["training"].update(batch_size=None), "training.batch_size"),
    "training.seed negative": (lambda h: h["training"].update(seed=-1), "training.seed"),
    "unknown engine": (lambda h: h.update(engine="warp"), "engine"),
    "data digest": (lambda h: h.update(data_sha256="abc"), "data_sha256"),
    "journal file elsewhere": (lambda h: h["journal"].update(file="../x.journal"), "journal.file"),
    "journal columns": (lambda h: h["journal"].update(extra_columns=["accuracy"]), "journal.extra_columns"),
    "journal rows miscounted": (lambda h: h["journal"].update(rows=3), "journal.sha256"),
    "examples 0": (lambda h: h.update(examples=0), "examples"),
}


@pytest.mark.parametrize("case", sorted(EDITS))
def test_each_resealed_tampering_is_refused_in_one_line(case, saved, capsys):
    problem, c = saved
    edit, field = EDITS[case]
    header = _header(c)
    edit(header)
    c.write_text(seal(header))
    _refused(problem, c, capsys, field)


@pytest.mark.parametrize("keep", [0, 2])
def test_dropped_or_emptied_journal_rows_are_refused(keep, saved, capsys):
    # rows dropped from the journal, the header's count and digest forged to match
    problem, c = saved
    header = _header(c)
    rows = _rows(c, header)[:keep]
    name = header["journal"]["file"]
    (c.parent / name).write_bytes(rows.tobytes())
    header["journal"].update(rows=keep, sha256=hashlib.sha256(rows.tobytes()).hexdigest())
    c.write_text(seal(header))
    err = _refused(problem, c, capsys, "journal.rows")
    assert f"got {keep} rows" in err


def test_a_truncated_or_missing_journal_file_is_refused(saved, capsys):
    problem, c = saved
    name = _header(c)["journal"]["file"]
    data = (c.parent / name).read_bytes()
    (c.parent / name).write_bytes(data[:-8])
    _refused(problem, c, capsys, "journal.rows")
    (c.parent / name).write_bytes(data[:-8] + b"\x00" * 8)  # same size, another number
    _refused(problem, c, capsys, "journal.sha256")
    (c.parent / name).unlink()
    assert "missing" in _refused(problem, c, capsys, "journal.file")


def test_rows_past_the_headers_count_are_ignored(saved, capsys):
    # a save killed between appending its rows and writing the header leaves rows past the count
    problem, c = saved
    name = _header(c)["journal"]["file"]
    with open(c.parent / name, "ab") as fh:
        fh.write(np.arange(11, dtype="<f8").tobytes() + b"\x01\x02")
    code, err = _resume(problem, c, capsys)
    assert code == 0 and err == ""


def test_a_version_1_checkpoint_is_refused_by_its_version(saved, capsys):
    problem, c = saved
    c.write_text(json.dumps({"format": "deltarule-checkpoint", "version": 1, "epoch": 3, "journal": {}}))
    assert "expected version 2, got 1" in _refused(problem, c, capsys, "version")
