"""The checkpoint reader fuzzed through ``train --resume`` (issue 12: a fuzz test over every reader).

Each case is a checkpoint written by ``train --checkpoint`` and then damaged: bytes of the header or
of the journal file flipped, cut, repeated or spliced with hostile fragments (the seal catches
these), or a value anywhere in the header replaced by another JSON value and the header resealed
(as a forger who knows the format would). Each is resumed or refused by the contract of
tests/test_hostile_readers.py: exit 0 with nothing on stderr, or exit 2 and one safe line; no
traceback, bounded time and memory.
"""
import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from test_hostile_readers import FUZZ, mutated, run

from deltarule.checkpoint import seal

TINY = {"name": "tiny", "seed": 1,
        "layers": [{"units": 2, "inputs": 2, "init": "xavier", "activation": "tanh"},
                   {"units": 1, "init": "xavier", "activation": "sigmoid"}],
        "loss": "bce", "data": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [[0], [1], [1], [0]]},
        "learning_rate": 0.5,
        "training": {"method": "minibatch", "batch_size": 3, "shuffle": True, "seed": 4, "epochs": 4}}


def _written() -> tuple[dict, bytes, bytes]:
    """(problem, header bytes, journal bytes) of a checkpoint after 2 of 4 epochs."""
    with tempfile.TemporaryDirectory() as d:
        problem, c = Path(d) / "p.json", Path(d) / "c.json"
        problem.write_text(json.dumps(TINY))
        run(["train", str(problem), "--epochs", "2", "--checkpoint", str(c), "--quiet"], ok=(0,))
        header = c.read_bytes()
        return TINY, header, (Path(d) / json.loads(header)["journal"]["file"]).read_bytes()


_, HEADER, JOURNAL = _written()
JOURNAL_NAME = json.loads(HEADER)["journal"]["file"]


def _resume(header: bytes, journal: bytes) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as d:
        problem, c = Path(d) / "p.json", Path(d) / "c.json"
        problem.write_text(json.dumps(TINY))
        c.write_bytes(header)
        (Path(d) / JOURNAL_NAME).write_bytes(journal)
        return run(["train", str(problem), "--epochs", "4", "--resume", str(c), "--quiet"])


def test_the_undamaged_checkpoint_resumes():
    assert _resume(HEADER, JOURNAL) == (0, "")


@FUZZ
@given(st.one_of(mutated(HEADER).map(lambda b: (b, JOURNAL)), mutated(JOURNAL).map(lambda b: (HEADER, b))))
def test_damaged_bytes(case):
    header, journal = case
    code, err = _resume(header, journal)
    if journal[:len(JOURNAL)] != JOURNAL or not _same_json(header):
        assert code == 2, err  # any damage to what the header says or counts is refused


def _same_json(header: bytes) -> bool:
    try:
        return json.loads(header) == json.loads(HEADER)
    except ValueError:
        return False


VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                      allow_infinity=False) | st.text(max_size=8),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                   max_size=3), max_leaves=6)


def _paths(doc, path=()):
    """Every path to a value in the header (mappings by key, lists by index)."""
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:4]):
            yield from _paths(v, path + (i,))


BODY = {k: v for k, v in json.loads(HEADER).items() if k != "sha256"}
PATHS = [p for p in _paths(BODY) if p]


@FUZZ
@given(path=st.sampled_from(PATHS), value=VALUES)
def test_any_value_replaced_and_resealed(path, value):
    doc = json.loads(json.dumps(BODY))
    *parents, last = path
    node = doc
    for p in parents:
        node = node[p]
    node[last] = value
    code, err = _resume(seal(doc).encode(), JOURNAL)
    if doc != BODY and code == 0:  # only a change that means the same run may resume
        assert err == ""
