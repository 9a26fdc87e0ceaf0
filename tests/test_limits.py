"""Absurd sizes are refused before anything is allocated, with the estimate in the message
(limits documented in deltarule.problem), and outputs are never left half-written."""
import os
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest

from deltarule import io as dio
from deltarule import problem as P
from deltarule.cli import main
from deltarule.data import MAX_CSV_BYTES, MAX_EXAMPLES_BYTES
from deltarule.errors import InputError
from deltarule.loader import MAX_FILE_BYTES
from deltarule.problem import load_problem


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused_cheaply(text, name="problem.yaml"):
    """The error line, and the peak memory Python allocated while refusing."""
    with open(name, "w") as fh:
        fh.write(text)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as e:
            load_problem(name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"allocated {peak / 2**20:.0f} MiB before refusing"
    return e.value.line()


# -- the network ------------------------------------------------------------------------------
def test_a_layer_of_a_billion_units(here):
    # 10^9 units x 2 inputs = 2e9 weights x 8 bytes = 14.9 GiB
    assert refused_cheaply("layers: [{units: 1000000000, inputs: 2, activation: sigmoid}]\nloss: sse\n") == \
        "problem.yaml: layers[1].units: 1000000000 x 2 weights would need 14.9 GiB; " \
        "the limit is 200,000,000 parameters per layer"


def test_a_billion_inputs_and_absurd_integers(here):
    assert refused_cheaply("layers: [{units: 1, inputs: 1000000000, activation: sigmoid}]\nloss: sse\n") == \
        "problem.yaml: layers[1].units: 1 x 1000000000 weights would need 7.45 GiB; " \
        "the limit is 200,000,000 parameters per layer"
    line = refused_cheaply("layers: [{units: 1" + "0" * 350 + ", inputs: 2, activation: sigmoid}]\nloss: sse\n")
    assert line == "problem.yaml: layers[1].units: a number of over 300 digits x 2 weights would need " \
                   "over 1e+292 GiB; the limit is 200,000,000 parameters per layer"


def test_the_whole_network_is_limited_too(here):
    # 20,000 x 10 weights, then 10,000 x 20,000 = 2e8: the second layer alone is allowed, not both
    text = "layers:\n  - {units: 20000, inputs: 10, init: zeros, activation: tanh}\n" \
           "  - {units: 10000, init: zeros, activation: tanh}\nloss: sse\n"
    assert refused_cheaply(text) == "problem.yaml: layers[2].units: 10000 x 20000 more weights make the " \
                                    "network larger than 200,000,000 parameters in all"


# -- the work ------------------------------------------------------------------------------------
ONE_NEURON = "layers: [{weights: [[0.5]], biases: [0], activation: sigmoid}]\nloss: sse\n" \
             "data: {inputs: [1, 2, 3], targets: [0, 1, 1]}\nlearning_rate: 0.1\n"


def test_a_trillion_epochs(here):
    # 10^12 epochs x 3 stochastic updates = 3e12 updates > 10^9
    assert refused_cheaply(ONE_NEURON + "training: {method: stochastic, epochs: 1000000000000}\n") == \
        "problem.yaml: training.epochs: 1000000000000 epochs of 3 updates = 3000000000000 updates; " \
        "the limit is 1e+09 updates"
    assert refused_cheaply(ONE_NEURON + "training: {epochs: 1000000000000000000000000000000}\n") == \
        "problem.yaml: training.epochs: 1e+30 epochs of 1 update = 1e+30 updates; the limit is 1e+09 updates"


def test_a_trillion_epochs_from_the_command_line(here, capsys):
    with open("p.yaml", "w") as fh:
        fh.write(ONE_NEURON)
    assert main(["train", "p.yaml", "--epochs", "1000000000000", "--journal", "j.csv"]) == 2
    assert capsys.readouterr().err == \
        "p.yaml: --epochs: 1000000000000 epochs of 1 update = 1000000000000 updates; the limit is 1e+09 updates\n"
    assert not os.path.exists("j.csv")
    assert main(["train", "p.yaml", "--epochs", "1000", "--quiet"]) == 0  # a sane run still goes


def test_too_much_work(here):
    # 10^6 epochs x 4 x 100 examples x 1,001,000 weights = 4e14 multiply-adds > 1e14
    np.savez("d.npz", inputs=np.zeros((100, 1000)), targets=np.zeros((100, 1)))
    text = "layers:\n  - {units: 1000, inputs: 1000, init: zeros, activation: tanh}\n" \
           "  - {units: 1, init: zeros, activation: identity}\nloss: mse\nlearning_rate: 0.1\n" \
           "data: {file: d.npz}\ntraining: {epochs: 1000000}\n"
    assert refused_cheaply(text) == "problem.yaml: training.epochs: 1000000 epochs x 100 examples x 1,001,000 " \
                                    "weights is about 400400000000000 multiply-adds; the limit is 1e+14"


def test_a_batch_too_big_for_memory(here):
    # batch of 1000 examples through 1 + 300,000 + 1 units: 4 x 1000 x 300002 x 8 bytes = 8.94 GiB
    text = "layers:\n  - {units: 300000, inputs: 1, init: zeros, activation: tanh}\n" \
           "  - {units: 1, init: zeros, activation: identity}\nloss: mse\nlearning_rate: 0.1\n" \
           "data: {file: d.npz}\n"
    np.savez("d.npz", inputs=np.zeros((1000, 1)), targets=np.zeros(1000))
    with open("p.yaml", "w") as fh:
        fh.write(text)
    with pytest.raises(InputError) as e:
        load_problem("p.yaml")
    assert e.value.line() == "p.yaml: training.batch_size: a batch of 1,000 examples through 300,002 units needs " \
                             "about 8.94 GiB; the limit is 8 GiB (use minibatch with a smaller batch_size)"
    with open("q.yaml", "w") as fh:
        fh.write(text + "training: {method: minibatch, batch_size: 10}\n")
    assert load_problem("q.yaml").schedule.batch_size == 10


def test_too_many_solve_steps(capsys):
    assert main(["solve", "seed-002", "--steps", "10000000000", "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("seed-002: --steps: 10000000000 steps of about ") \
        and err.endswith(" GiB; the limit is 2 GiB (ask for fewer steps)\n")


def test_limits_are_documented():
    from deltarule import limits

    doc = limits.__doc__
    for name in ("MAX_PARAMETERS", "MAX_UPDATES", "MAX_WORK", "MAX_BATCH_BYTES", "MAX_FILE_BYTES",
                 "MAX_EXAMPLES_BYTES", "MAX_CSV_BYTES"):
        assert name in doc
    assert (limits.MAX_UPDATES, limits.MAX_WORK, limits.MAX_PARAMETERS) == (10**9, 10**14, 2 * 10**8)
    assert P.MAX_PARAMETERS is limits.MAX_PARAMETERS  # still importable from deltarule.problem


# -- files larger than the limits (sparse: nothing is really written) ----------------------------
def sparse(name, size):
    with open(name, "wb") as fh:
        fh.truncate(size)
    assert os.path.getsize(name) == size
    return name


def test_a_problem_file_over_the_limit(here):
    sparse("huge.yaml", MAX_FILE_BYTES + 1)
    with pytest.raises(InputError) as e:
        load_problem("huge.yaml")
    assert e.value.line() == "huge.yaml: file is 64 MiB; problem files are limited to 64 MiB " \
                             "(put large data in a CSV or NPZ file)"


@pytest.mark.parametrize("name, size, message", [
    ("big.csv", MAX_CSV_BYTES + 1, "data file is 1 GiB; the limit is 1 GiB for CSV (up to 4 GiB as numbers; "
                                   "use .npz for more)"),
    ("big.csv", 5 * 2**30, "data file is 5 GiB; the limit is 1 GiB for CSV (up to 4 GiB as numbers; use .npz for more)"),
    ("big.npz", MAX_EXAMPLES_BYTES + 2**29, "data file is 4.5 GiB; the limit is 4 GiB"),
])
def test_a_data_file_over_the_limit(here, name, size, message):
    sparse(name, size)
    line = refused_cheaply("layers: [{weights: [[1]], biases: [0], activation: identity}]\nloss: sse\n"
                           f"data: {{file: {name}, targets: [y]}}\n")
    assert line == f"problem.yaml: data.file: {message}"


def test_an_npz_whose_header_declares_too_much(here):
    # a few hundred bytes on disk, 10^6 x 10^4 float64 = 74.5 GiB when read: refused from the header
    with zipfile.ZipFile("bomb.npz", "w") as z:
        with z.open("inputs.npy", "w") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (1_000_000, 10_000)})
        with z.open("targets.npy", "w") as fh:
            np.save(fh, np.zeros(3))
    assert os.path.getsize("bomb.npz") < 1000
    line = refused_cheaply("layers: [{weights: [[1]], biases: [0], activation: identity}]\nloss: sse\n"
                           "data: {file: bomb.npz}\n")
    assert line == "bomb.npz: inputs: 1000000 x 10000 numbers would need 74.5 GiB as float64; the limit is 4 GiB"


# -- nothing half-written -------------------------------------------------------------------------
def test_atomic_write_keeps_the_old_file_when_writing_fails_midway(here):
    with open("out.txt", "w") as fh:
        fh.write("the old, complete contents\n")
    with pytest.raises(RuntimeError):
        with dio.atomic_write("out.txt") as fh:
            fh.write("the first half of the new")
            fh.flush()
            raise RuntimeError("the disk caught fire")
    assert open("out.txt").read() == "the old, complete contents\n"
    assert os.listdir() == ["out.txt"]  # the temporary file is gone


def test_atomic_write_keeps_the_old_file_on_ctrl_c_and_failed_rename(here, monkeypatch):
    dio.write_bytes("out.bin", b"old")
    with pytest.raises(KeyboardInterrupt):
        with dio.atomic_write("out.bin", "wb") as fh:
            fh.write(b"new but not fin")
            raise KeyboardInterrupt
    assert open("out.bin", "rb").read() == b"old"

    def no_rename(src, dst):
        raise OSError(28, "No space left on device", src)

    monkeypatch.setattr(dio.os, "replace", no_rename)
    with pytest.raises(OSError) as e:
        dio.write_text("out.bin", "new and complete")
    assert e.value.filename == "out.bin" and e.value.strerror == "No space left on device"  # names the target
    assert open("out.bin", "rb").read() == b"old"
    assert os.listdir() == ["out.bin"]


def test_atomic_write_replaces_whole_and_with_the_usual_mode(here):
    dio.write_text("a.txt", "x" * 10_000)
    dio.write_text("a.txt", "short")
    assert open("a.txt").read() == "short"
    umask = os.umask(0o022)
    try:
        dio.write_text("b.txt", "b")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat("b.txt").st_mode) == 0o644  # not mkstemp's private 0600


def test_a_failed_command_leaves_earlier_outputs_whole(here, capsys):
    assert main(["train", "seed-002", "--epochs", "3", "--journal", "j.csv", "--save", "m.json", "--quiet"]) == 0
    journal, model = open("j.csv").read(), open("m.json").read()
    # a second run whose model cannot be written: the old model stays whole, the journal is either
    # the old one or the new one complete (header and epochs 0..5), never a part of one
    assert main(["train", "seed-002", "--epochs", "5", "--journal", "j.csv", "--save", "no/dir/m.json",
                 "--quiet"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert open("m.json").read() == model
    new = open("j.csv").read()
    assert new == journal or (new.count("\n") == 7 and new.splitlines()[-1].startswith("5,"))
    assert sorted(os.listdir()) == ["j.csv", "m.json"]


# -- only regular files, bounded while reading (deltarule.reader) ----------------------------------
def one_line(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return code, err.rstrip("\n")


@pytest.mark.parametrize("argv", [["solve", "/dev/zero"], ["train", "/dev/zero"], ["predict", "/dev/zero", "seed-002"],
                                  ["gradcheck", "/dev/zero"]])
def test_a_device_is_refused_at_once(capsys, argv):
    # /dev/zero says st_size 0 and never ends: refused from the opened descriptor, nothing read
    assert one_line(capsys, argv) == (2, "/dev/zero: is a device, not a regular file")


def test_a_symlink_to_a_device_and_a_fifo_are_refused_without_blocking(here, capsys):
    os.symlink("/dev/zero", "link.yaml")
    assert one_line(capsys, ["solve", "link.yaml"]) == (2, "link.yaml: is a device, not a regular file")
    os.mkfifo("pipe.yaml")  # no writer: an ordinary open would block forever
    assert one_line(capsys, ["solve", "pipe.yaml"]) == (2, "pipe.yaml: is a FIFO (a pipe), not a regular file")
    os.mkdir("dir.yaml")
    assert one_line(capsys, ["solve", "dir.yaml"]) == (2, "dir.yaml: is a directory, not a file")


def test_the_size_is_counted_while_reading_not_trusted_from_st_size():
    from deltarule.reader import read_bytes

    assert os.stat("/proc/self/maps").st_size == 0  # /proc says 0 bytes, and has more
    assert len(read_bytes("/proc/self/maps", 10**6)) > 100
    with pytest.raises(InputError) as e:
        read_bytes("/proc/self/maps", 100, "maps")
    assert e.value.line() == "/proc/self/maps: file is over 100 bytes; maps are limited to 100 bytes"


@pytest.mark.parametrize("value", [12, None, 3.5, ["a.yaml"]])
def test_a_name_that_is_not_a_path_is_an_input_error(value):
    with pytest.raises(InputError) as e:
        load_problem(value)
    assert e.value.line().startswith("expected the name of a problem file or a built-in example, got ")
