"""Atomic writes against what a target can be (issue 12, items 12 and 19).

Devices are only ever reached through symlinks made in tmp_path, so that even the old code
(which renamed a regular file over the target, as root over the device itself) cannot harm
the machine's /dev/full or /dev/null while showing the defect."""
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from deltarule import io as dio
from deltarule.cli import main

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices, FIFOs and signals")
pytestmark = POSIX


def _is_char_device(path):
    return stat.S_ISCHR(os.stat(path).st_mode)


# -- write through what is not a regular file ------------------------------------------------------
def test_a_link_to_a_device_writes_through_and_the_device_stays_a_device(tmp_path):
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    dio.write_text(link, "{}\n")
    assert link.is_symlink() and os.readlink(link) == "/dev/null" and _is_char_device("/dev/null")
    assert sorted(os.listdir(tmp_path)) == ["out.json"]


def test_a_full_disk_names_the_file_and_replaces_nothing(tmp_path):
    # /dev/full answers every write with ENOSPC: a full disk, for real
    link = tmp_path / "out.json"
    link.symlink_to("/dev/full")
    with pytest.raises(OSError) as e:
        dio.write_text(link, "{}\n")
    assert e.value.errno == 28 and e.value.filename == str(link)
    assert str(e.value) == f"[Errno 28] No space left on device: '{link}'"
    assert link.is_symlink() and _is_char_device("/dev/full") and sorted(os.listdir(tmp_path)) == ["out.json"]


def test_a_full_disk_from_the_command_line_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.symlink("/dev/full", "out.json")
    os.symlink("/dev/full", "j.csv")
    assert main(["solve", "seed-002", "--format", "json", "-o", "out.json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("out.json: ") and "No space left on device" in err, err
    assert main(["train", "seed-000-neuron", "--epochs", "2", "--quiet", "--journal", "j.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("j.csv: ") and "No space left on device" in err, err
    assert "Errno" not in err and sorted(os.listdir()) == ["j.csv", "out.json"]
    assert os.path.islink("out.json") and os.path.islink("j.csv") and _is_char_device("/dev/full")


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    dio.write_text(fifo, "through the pipe\n")
    reader.join(timeout=30)
    assert got == ["through the pipe\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_link_to_an_open_descriptor_is_written_through(tmp_path):
    # the issue's `stdout -> /proc/self/fd/1`, with a pipe of our own as the descriptor
    r, w = os.pipe()
    try:
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{w}" if os.path.isdir("/proc/self/fd") else f"/dev/fd/{w}")
        dio.write_bytes(link, b"to the descriptor\n")
        os.set_blocking(r, False)  # nothing written must fail the test, not hang it
        try:
            got = os.read(r, 100)
        except BlockingIOError:
            got = b""
        assert got == b"to the descriptor\n"
        assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["stdout"]
    finally:
        os.close(r)
        os.close(w)


def test_a_link_to_a_regular_file_stays_a_link_and_its_target_is_replaced_whole(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.json"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "model.json"
    link.symlink_to(target)
    dio.write_text(link, "new\n")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new\n"
    assert sorted(os.listdir(tmp_path / "real")) == ["model.json"] and sorted(os.listdir(tmp_path)) == ["model.json", "real"]


def test_a_directory_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    os.mkdir("out")
    with pytest.raises(IsADirectoryError) as e:
        dio.write_text("out", "x")
    assert e.value.filename == "out"
    assert main(["solve", "seed-002", "-o", "out"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("out: ") and "Traceback" not in err
    assert os.listdir() == ["out"] and os.listdir("out") == []


# -- temporary files a killed writer left behind ---------------------------------------------------
def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_the_next_write_removes_dead_writers_temporaries_and_keeps_the_rest(tmp_path):
    dead = _dead_pid()
    stale = [f".out.json.{dead}.0a1b2c3d.tmp",   # its writer is dead
             ".out.json.k3j4h5g6.tmp"]           # the old naming (mkstemp), two hours old
    kept = [f".out.json.{os.getpid()}.feedbeef.tmp",  # a live writer's (this process)
            f".other.json.{dead}.0a1b2c3d.tmp",       # another target's
            "notes.txt"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x" * 10)
    two_hours_ago = time.time() - 7200
    os.utime(tmp_path / stale[1], (two_hours_ago, two_hours_ago))
    dio.write_text(tmp_path / "out.json", "{}\n")
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["out.json"])
    assert len(stale) == 2 and (tmp_path / "out.json").read_text(encoding="utf-8") == "{}\n"


def test_a_temporary_file_names_its_writer(tmp_path):
    seen = []
    with dio.atomic_write(tmp_path / "out.txt") as fh:
        seen = os.listdir(tmp_path)
        fh.write("x")
    assert len(seen) == 1 and seen[0].startswith(f".out.txt.{os.getpid()}.") and seen[0].endswith(".tmp")


def test_after_a_sigkill_mid_write_the_next_write_cleans_up(tmp_path):
    code = textwrap.dedent("""
        import sys, time
        from deltarule import io
        with io.atomic_write(sys.argv[1]) as fh:
            fh.write("half of it")
            fh.flush()
            print("writing", flush=True)
            time.sleep(60)
    """)
    out = tmp_path / "out.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline() == "writing\n"
        left = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        assert len(left) == 1 and left[0].startswith(f".out.json.{child.pid}.")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL and len(os.listdir(tmp_path)) == 1  # the killed write's file
    dio.write_text(out, "whole\n")
    assert os.listdir(tmp_path) == ["out.json"] and out.read_text(encoding="utf-8") == "whole\n"
