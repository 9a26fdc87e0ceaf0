"""deltarule predict MODEL DATA: one CSV row per example, yhat1..yhatK then the class."""
import csv
import io
import json

import numpy as np
import pytest

import deltarule as dr
from deltarule.cli import main


def read(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "digits.json"
    assert main(["train", "digits", "--epochs", "3", "--quiet", "--save", str(path)]) == 0
    return path


def test_predict_a_regression_model_on_a_problem_file(capsys):
    # seed 002: x = (0.05, 0.10), the 2-2-1 sigmoid network gives yhat = 0.75136507 (the notes' 0.7514)
    assert main(["predict", "seed-002", "seed-002"]) == 0
    header, rows = read(capsys.readouterr().out)
    assert header == ["yhat1"]  # half_sse: not a classifier, no class column
    assert round(float(rows[0][0]), 8) == 0.75136507
    assert float(rows[0][0]) == dr.load_network("seed-002").predict([0.05, 0.10])[0, 0]  # exact decimals


def test_predict_digits_writes_classes_and_reports_accuracy(digits_model, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(digits_model), "digits", "-o", str(out)]) == 0
    header, rows = read(out.read_text())
    assert header == [f"yhat{k}" for k in range(1, 11)] + ["class"]
    problem, net = dr.load_problem("digits"), dr.load_network(digits_model)
    assert len(rows) == len(problem.x) == 1797
    yhat = np.array([[float(v) for v in r[:10]] for r in rows])
    np.testing.assert_array_equal(yhat, net.predict(problem.x))
    classes = np.array([int(r[10]) for r in rows])
    np.testing.assert_array_equal(classes, yhat.argmax(axis=1))
    right = np.mean(classes == problem.y.argmax(axis=1))
    assert right > 0.8  # three epochs already classify most digits
    # the model says which rows: digits is the data it was trained on (its validation split held 359 out)
    assert capsys.readouterr().err.strip() == f"accuracy {right:.2%} on the 1797 rows of digits (the data the " \
                                              "model was trained on: 1438 rows trained on, 359 held out)"


def test_predict_from_csv_and_npz(tmp_path, capsys):
    model = tmp_path / "xor.json"
    net = dr.Network((dr.Layer([[2.0, -2.0]], [0.5], "sigmoid"),), "bce")
    model.write_text(json.dumps(net.to_dict()))
    (tmp_path / "in.csv").write_text("id,b,a\n7,0,1\n8,3,-1\n")
    assert main(["predict", str(model), str(tmp_path / "in.csv"), "--inputs", "a,b"]) == 0
    header, rows = read(capsys.readouterr().out)
    # z = 2a - 2b + 0.5: (1, 0) -> 2.5, sigmoid 0.924 -> class 1; (-1, 3) -> -7.5 -> class 0
    assert header == ["yhat1", "class"]
    assert [r[1] for r in rows] == ["1", "0"] and abs(float(rows[0][0]) - 1 / (1 + np.exp(-2.5))) < 1e-15
    np.savez(tmp_path / "in.npz", inputs=np.array([[1.0, 0.0], [-1.0, 3.0]]), targets=np.array([1.0, 1.0]))
    assert main(["predict", str(model), str(tmp_path / "in.npz")]) == 0
    captured = capsys.readouterr()
    assert read(captured.out)[1] == rows and captured.err.strip() == f"accuracy 50.00% on the 2 rows of {tmp_path / 'in.npz'}"


@pytest.mark.parametrize("args,message", [
    (["seed-002", "nope.csv"], "nope.csv: no such file"),
    (["seed-002", "bad.csv"], "bad.csv: line 3, column 'b': expected a finite number, got 'x'"),
    (["seed-002", "wide.csv"], "wide.csv: 3 columns, but the model takes 2 inputs (name the input columns with --inputs)"),
    (["seed-002", "wide.csv", "--inputs", "a,z"], "--inputs: no column 'z' (columns: a, b, c)"),
    (["seed-002", "digits"], "digits: inputs: 64 input columns, but the model takes 2 inputs"),
    (["nope.yaml", "seed-002"], "nope.yaml"),
])
def test_bad_input_is_one_line_exit_2(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("a,b\n0.05,0.1\n1,x\n")
    (tmp_path / "wide.csv").write_text("a,b,c\n1,2,3\n")
    assert main(["predict", *args, "-o", "out.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message) and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()  # nothing half-written


# -- one data reader for train and predict: hostile NPZ and CSV files (issues 11.6, 12.4-12.7) ------------
import os  # noqa: E402
import zipfile  # noqa: E402

DTYPES_REFUSED = {
    "complex": (np.array([[1 + 2j, 3]]), "complex numbers"),
    "datetime": (np.array([["2020-01-01", "2021-01-01"]], dtype="datetime64[D]"), "dates (datetime64)"),
    "timedelta": (np.array([[1, 2]], dtype="timedelta64[s]"), "durations (timedelta64)"),
    "text": (np.array([["1", "2"]]), "text"),
    "bytes": (np.array([[b"1", b"2"]]), "bytes"),
    "bool": (np.array([[True, False]]), "true/false values"),
    "object": (np.array([[1, None]], dtype=object), "Python objects"),
}
if np.dtype(np.longdouble).itemsize > 8:
    DTYPES_REFUSED["float128"] = (np.array([[1.0, 2.0]], dtype=np.longdouble),
                                  f"{np.dtype(np.longdouble).name} (more precision than float64)")


def _flag_encrypted(name):
    data = bytearray(open(name, "rb").read())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header, central directory
        i = data.find(sig)
        while i >= 0:
            data[i + offset] |= 1
            i = data.find(sig, i + 4)
    open(name, "wb").write(bytes(data))


def _declaring(name, shape, data=b"", compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(name, "w", compression=compress) as z:
        with z.open("inputs.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": shape})
            for _ in range(len(data) and 50):
                fh.write(data)
        with z.open("targets.npy", "w") as fh:
            np.save(fh, np.zeros(1))


def hostile_npz(kind):
    """A hostile .npz file in the current directory; its name."""
    name = f"{kind}.npz"
    if kind in DTYPES_REFUSED:
        np.savez(name, inputs=DTYPES_REFUSED[kind][0], targets=np.zeros(1))
    elif kind == "encrypted":
        np.savez(name, inputs=np.ones((2, 2)), targets=np.zeros(2))
        _flag_encrypted(name)
    elif kind == "huge-header":  # 10^6 x 10^6: 7.28 TiB if anyone believed it
        _declaring(name, (10**6, 10**6))
    elif kind == "bomb":  # says 3 numbers, holds 50 MB of zeros in 50 kB: refused before inflating
        _declaring(name, (3,), bytes(2**20))
    elif kind == "truncated":
        np.savez(name, inputs=np.ones((100, 2)), targets=np.zeros(100))
        data = open(name, "rb").read()
        open(name, "wb").write(data[: len(data) // 2])
    elif kind == "bad-crc":
        np.savez(name, inputs=np.ones((100, 2)), targets=np.zeros(100))
        data = bytearray(open(name, "rb").read())
        data[data.find(b"\x00\x00\xf0\x3f") + 2] ^= 0xFF  # inside the stored float64 data
        open(name, "wb").write(bytes(data))
    elif kind == "empty":
        open(name, "wb").close()
    elif kind == "3d":
        np.savez(name, inputs=np.ones((2, 2, 2)), targets=np.zeros(2))
    return name


NPZ_REFUSALS = {
    **{k: f"{k}.npz: inputs: expected real numbers (floating point up to float64, or integers), got {w}"
       for k, (_, w) in DTYPES_REFUSED.items()},
    "encrypted": "encrypted.npz: inputs: the archive is encrypted; deltarule reads only plain .npz files",
    "huge-header": "huge-header.npz: inputs: 1000000 x 1000000 numbers would need 7.45e+03 GiB as float64; "
                   "the limit is 4 GiB",
    "bomb": "bomb.npz: inputs: damaged: the header declares 24 bytes of data, the archive holds 52,428,800",
    "truncated": "truncated.npz: not a readable .npz file (BadZipFile: ",
    "bad-crc": "bad-crc.npz: not a readable .npz file (BadZipFile: Bad CRC-32 for file 'inputs.npy')",
    "empty": "empty.npz: not a readable .npz file (BadZipFile: File is not a zip file)",
    "3d": "3d.npz: inputs: must be a 1-D or 2-D array, got 3 dimensions",
}


@pytest.mark.parametrize("kind", sorted(NPZ_REFUSALS))
def test_predict_refuses_a_hostile_npz_in_one_line(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    name = hostile_npz(kind)
    assert main(["predict", "seed-002", name, "-o", "out.csv"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""
    assert err.startswith(NPZ_REFUSALS[kind]), err
    assert not os.path.exists("out.csv")


@pytest.mark.parametrize("kind", ["complex", "encrypted", "bomb", "bad-crc", "empty"])
def test_train_refuses_the_same_files_with_the_same_line(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    name = hostile_npz(kind)
    (tmp_path / "p.yaml").write_text("layers: [{weights: [[1, 1]], biases: [0], activation: identity}]\n"
                                     f"loss: sse\nlearning_rate: 0.1\ndata: {{file: {name}}}\n")
    assert main(["train", "p.yaml", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(NPZ_REFUSALS[kind]), err


def test_predict_accepts_integer_and_float32_npz(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    np.savez("i.npz", inputs=np.array([[1, 2]], dtype=np.int16))
    np.savez("f.npz", inputs=np.array([[1, 2]], dtype=np.float32))
    assert main(["predict", "seed-002", "i.npz"]) == 0
    first = capsys.readouterr()
    assert main(["predict", "seed-002", "f.npz"]) == 0
    second = capsys.readouterr()
    assert first.err == second.err == "" and first.out == second.out
    assert float(read(first.out)[1][0][0]) == dr.load_network("seed-002").predict([[1.0, 2.0]])[0, 0]


def test_a_csv_header_of_200k_columns_is_read_in_linear_time(tmp_path, monkeypatch, capsys):
    # a header of N columns used to take O(N^2) ('c not in header', header.index(c) per column): 200k
    # columns ran for minutes; through a dict it is a fraction of a second
    import time

    monkeypatch.chdir(tmp_path)
    n = 200_000
    (tmp_path / "wide.csv").write_text(",".join(f"x{j}" for j in range(n)) + ",y\n" + "0," * n + "1\n")
    (tmp_path / "p.yaml").write_text(f"layers: [{{units: 1, inputs: {n}, init: zeros, activation: identity}}]\n"
                                     "loss: sse\nlearning_rate: 0.1\ndata: {file: wide.csv, targets: [y]}\n")
    start = time.perf_counter()
    assert main(["train", "p.yaml", "--quiet"]) == 0
    (tmp_path / "q.yaml").write_text((tmp_path / "p.yaml").read_text().replace("[y]", "[nope]"))
    assert main(["train", "q.yaml", "--quiet"]) == 2
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert err == "q.yaml: data.targets: no column 'nope' (200,001 columns: x0, x1, x2, x3, x4, x5, x6, x7, x8, " \
                  "x9, ...)\n"
    assert elapsed < 60, f"{elapsed:.0f} s"  # generous: quadratic took minutes


def test_an_npz_of_many_members_is_refused_from_its_end_record(tmp_path, monkeypatch, capsys):
    # zipfile would build an object per member before anything could be checked: 40 million empty
    # members in a 4 GiB file would need tens of GiB; the end record says how many there are
    monkeypatch.chdir(tmp_path)
    with zipfile.ZipFile("many.npz", "w") as z:
        z.writestr("inputs.npy", _npy_bytes(np.ones((1, 2))))
        for i in range(1500):
            z.writestr(f"e{i}", b"")
    assert main(["predict", "seed-002", "many.npz"]) == 2
    assert capsys.readouterr().err == "many.npz: the archive lists 1,501 members (75,446 bytes of directory); " \
                                      "an .npz of inputs and targets has a few (at most 1,000 are read)\n"
    with zipfile.ZipFile("zip64.npz", "w") as z:  # past 65,535 members the counts are in the zip64 record
        for i in range(70_000):
            z.writestr(f"e{i}", b"")
    assert main(["predict", "seed-002", "zip64.npz"]) == 2
    assert capsys.readouterr().err.startswith("zip64.npz: the archive lists 70,000 members (")


def _npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()
