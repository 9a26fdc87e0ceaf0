"""The README cannot drift from the program: every command it shows is run here.

A ```console block holds ``$ deltarule ...`` and the output shown for it. Each shown line
must appear in the real output, in order; ``...`` skips lines and ``…`` inside a line stands
for text that changes from run to run (a time). The Quick start's main job is run too.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def console_blocks():
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        first, *shown = block.rstrip("\n").split("\n")
        assert first.startswith("$ deltarule "), first
        yield first[2:], shown


def quick_start_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "Quick start holds exactly two shell blocks"
    return [part.strip() for part in blocks[0].split("&&") if part.strip().startswith("deltarule ")]


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    assert args[0] == "deltarule"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run([sys.executable, "-m", "deltarule", *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def assert_shown_in(shown: list[str], output: str) -> None:
    lines = [line.rstrip() for line in output.splitlines()]
    pos = 0
    for want in shown:
        if want.strip() in ("", "..."):
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in want.rstrip().split("…")) + "$")
        for i in range(pos, len(lines)):
            if pattern.match(lines[i]):
                pos = i + 1
                break
        else:
            raise AssertionError(f"README shows {want!r}, not found (in order) in:\n{output}")


@pytest.fixture
def workdir(tmp_path):
    shutil.copytree(ROOT / "tests" / "answers", tmp_path / "tests" / "answers")
    return tmp_path


@pytest.mark.parametrize("command,shown", list(console_blocks()), ids=lambda v: v if isinstance(v, str) else "")
def test_readme_command(command, shown, workdir):
    result = run(command, workdir)
    expected_exit = 1 if command.startswith("deltarule check") else 0  # check: something is wrong
    assert result.returncode == expected_exit, result.stderr
    assert "Traceback" not in result.stderr
    assert_shown_in(shown, result.stdout + result.stderr)


@pytest.mark.slow
def test_readme_files_written(workdir):
    # the train and compare commands write what the README says they write
    for command, _ in console_blocks():
        run(command, workdir)
    assert (workdir / "run.csv").read_text().startswith("epoch,loss,w,b\n")
    assert (workdir / "model.json").stat().st_size > 0 and (workdir / "paths.png").stat().st_size > 0


def test_quick_start_main_job(tmp_path):
    commands = quick_start_commands()
    assert commands == ["deltarule solve seed-002"]
    result = run(commands[0], tmp_path)
    assert result.returncode == 0 and "0.02970 after" in result.stdout
