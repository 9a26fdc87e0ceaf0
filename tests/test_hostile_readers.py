"""Every reader of a user's file, fuzzed through the command line (issue 12, "a fuzz test over
every reader"): problem files (YAML and JSON), data CSV, data NPZ and saved models.

Each case is a real file on disk given to a real command, in-process. It is either handled
(exit 0, nothing on stderr) or refused: exit 2 (3 for a training that diverges), exactly one
stderr line, no traceback, no escape sequence or other control character reaching the
terminal, within a few seconds and without a large allocation (tracemalloc's peak).
Answers files and checkpoints are fuzzed by their own modules' tests (tests/test_fuzz.py,
tests/test_checkpoint.py); they reach the same bounded reader (deltarule.loader.read_document).
"""
import io
import json
import re
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deltarule as dr
from deltarule import examples
from deltarule.cli import main

FUZZ = settings(deadline=None, database=None, max_examples=60, suppress_health_check=list(HealthCheck))
SECONDS = 20  # generous on a loaded machine; every case here is refused or run in well under one
PEAK_BYTES = 200 * 2**20  # nothing read here needs more: a file that claims more is refused first
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def run(argv: list[str], ok=(0, 2)) -> tuple[int, str]:
    """Run the command line in-process; assert the contract for bad input; (code, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    tracemalloc.start()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed, text = time.perf_counter() - start, err.getvalue()
    assert code in ok, (code, text)
    assert elapsed < SECONDS, f"{elapsed:.1f} s for {argv}"
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB for {argv}"
    assert "Traceback" not in text
    if code == 0:
        assert text == "" or text.startswith("accuracy "), text
    else:
        assert text.count("\n") == 1 and text.endswith("\n"), repr(text)
        assert not CONTROL.search(text[:-1]), repr(text)  # escaped: one line, no terminal control
    return code, text


# -- mutations: bytes flipped, cut, repeated, hostile fragments spliced in ----------------------------
FRAGMENTS = [b"\x1b]2;owned\x07", b"\x1b[2J", b"\r", b"\n", b"\x00", b"\xff\xfe", "\u202e".encode(),
             b'"\\ud800"', b"9" * 5000, b"1e999", b"-", b",", b"[", b"]", b"{", b"}", b":", b'"', b"'",
             b"!!python/object/apply:os.system ['echo owned']", b"&a [1]", b"*a", b"\t", b" " * 50]


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """``base`` with one to four changes: a byte set, a fragment inserted, a cut, a repeat."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["set", "insert", "insert", "cut", "truncate", "repeat"]))
        if op == "set" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "repeat":
            data[at:at] = bytes(data[at:at + draw(st.integers(1, 64))]) * draw(st.integers(2, 50))
    return bytes(data)


SEED_002 = examples.text("seed-002").encode()
SEED_002_JSON = json.dumps(examples.parse("seed-002")).encode()


@FUZZ
@given(st.one_of(mutated(SEED_002).map(lambda b: ("p.yaml", b)), mutated(SEED_002_JSON).map(lambda b: ("p.json", b))))
def test_problem_files(case):
    name, data = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        run(["solve", str(path), "--format", "json"])


MODEL = json.dumps(dr.load_network("seed-002").to_dict()).encode()


@FUZZ
@given(mutated(MODEL))
def test_model_files(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.json"
        path.write_bytes(data)
        run(["predict", str(path), "seed-002"])


# -- CSV: random headers and cells, rows of any length -------------------------------------------------
CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**30, 10**30).map(str),
                  st.sampled_from(["", " ", "nan", "inf", "1e999", "0x1F", "1,5", '"1"', "\x1b[2J", "\ud800", "9" * 500]),
                  st.text(max_size=8))
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=6)


def csv_bytes(header: list[str], rows: list[list[str]], junk: bytes) -> bytes:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    return text.encode("utf-8", "surrogatepass") + junk


@FUZZ
@given(header=st.lists(st.sampled_from(["x1", "x2", "y", "", "x1 ", "\x1b]2;t\x07", '"y"', "y,z", "\ud800"])
                       | st.text(max_size=6), min_size=0, max_size=5),
       rows=ROWS, junk=st.sampled_from([b"", b"\xff", b"\x00", b"\r\r\n", b'"unclosed']),
       command=st.sampled_from(["train", "predict"]))
def test_data_csv(header, rows, junk, command):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "d.csv").write_bytes(csv_bytes(header, rows, junk))
        if command == "predict":
            run(["predict", "seed-002", str(Path(d) / "d.csv")])
            return
        problem = {"layers": [{"weights": [[0.1, 0.2]], "biases": [0.0], "activation": "sigmoid"}],
                   "loss": "sse", "learning_rate": 0.5, "data": {"file": "d.csv", "targets": ["y"]}}
        (Path(d) / "p.json").write_text(json.dumps(problem))
        run(["train", str(Path(d) / "p.json"), "--quiet"], ok=(0, 2, 3))


# -- NPZ: valid archives of any dtype and shape, mutated; crafted headers and zip entries --------------
DTYPES = ["<f8", ">f8", "<f4", "<f2", "<i8", "|u1", "<c16", "<M8[s]", "<m8[s]", "<U3", "|S3", "|b1", "|O", "<V8",
          "<f16" if np.dtype(np.longdouble).itemsize > 8 else "<f8"]
SHAPES = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple) | st.sampled_from(
    [(10**6, 10**6), (2**62,), (3, 2**40), (-1, 2)])


def npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@st.composite
def crafted_npz(draw) -> bytes:
    """An archive whose inputs member has any dtype descr and shape in its header, and any data."""
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        header = {"descr": draw(st.sampled_from(DTYPES)), "fortran_order": draw(st.booleans()),
                  "shape": draw(SHAPES)}
        head = io.BytesIO()
        try:
            np.lib.format.write_array_header_1_0(head, header)
        except (ValueError, TypeError):
            head = io.BytesIO(b"\x93NUMPY\x01\x00" + b"v\x00{'descr': '<f8'}" + b" " * 100)
        z.writestr("inputs.npy", head.getvalue() + draw(st.binary(max_size=64)) * draw(st.integers(0, 20)))
        z.writestr("targets.npy", _npy(np.zeros(2)))
    return buf.getvalue()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


GOOD_NPZ = npz_bytes({"inputs": np.ones((3, 2)), "targets": np.zeros(3)})


@FUZZ
@given(data=st.one_of(mutated(GOOD_NPZ), crafted_npz()), command=st.sampled_from(["train", "predict"]))
def test_data_npz(data, command):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "d.npz").write_bytes(data)
        if command == "predict":
            run(["predict", "seed-002", str(Path(d) / "d.npz")])
            return
        problem = {"layers": [{"weights": [[0.1, 0.2]], "biases": [0.0], "activation": "sigmoid"}],
                   "loss": "sse", "learning_rate": 0.5, "data": {"file": "d.npz"}}
        (Path(d) / "p.json").write_text(json.dumps(problem))
        run(["train", str(Path(d) / "p.json"), "--quiet"], ok=(0, 2, 3))


def test_the_fuzzers_see_both_outcomes(tmp_path):
    # the harness itself: a good file passes (exit 0, silent), a broken one is one line
    (tmp_path / "p.yaml").write_bytes(SEED_002)
    assert run(["solve", str(tmp_path / "p.yaml"), "--format", "json"])[0] == 0
    (tmp_path / "d.npz").write_bytes(GOOD_NPZ[: len(GOOD_NPZ) // 2])
    code, err = run(["predict", "seed-002", str(tmp_path / "d.npz")])
    assert code == 2 and err.startswith(f"{tmp_path / 'd.npz'}: not a readable .npz file")
