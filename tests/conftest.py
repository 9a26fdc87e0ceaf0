"""What the tests need from the machine, said once.

A test that needs an outside program (pdflatex, Chromium) or an optional package (torch, numba,
nbclient) asks for it with ``require_tool`` / ``require_module``. On a developer's machine a
missing one skips the test; under ``DELTARULE_STRICT=1`` (set by ``.ci/run``, which installs
them all) it FAILS the test, so CI can never pass by skipping what it was meant to check.
"""
from __future__ import annotations

import functools
import importlib
import os
import shutil
import subprocess

import pytest


def strict() -> bool:
    """True under ``DELTARULE_STRICT=1`` (CI): what a test needs must be there."""
    return os.environ.get("DELTARULE_STRICT", "") not in ("", "0")


def require(ok: bool, what: str) -> None:
    """Skip the calling test when ``ok`` is false (fail it under DELTARULE_STRICT).

    Works at a module's top level too (then it skips or fails the whole module)."""
    if ok:
        return
    if strict():
        pytest.fail(f"{what} (DELTARULE_STRICT is set: CI installs it, so its absence is a failure)",
                    pytrace=False)
    pytest.skip(what, allow_module_level=True)


@functools.lru_cache(maxsize=None)
def _find_tool(names: tuple[str, ...]) -> str | None:
    # a program that is on PATH but does not start (a snap stub without snapd) is not there
    for name in names:
        path = shutil.which(name)
        if not path:
            continue
        try:
            r = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return path
    return None


TOOLS = {"chromium": ("chromium", "chromium-browser", "google-chrome"), "pdflatex": ("pdflatex",)}


def require_tool(name: str) -> str:
    """The path of a program that runs (``pdflatex``, ``chromium``); skip or fail without it."""
    path = _find_tool(TOOLS.get(name, (name,)))
    require(path is not None, f"{name} not installed")
    return path


def require_module(name: str):
    """Import ``name`` (an optional package: torch, numba, nbclient); skip or fail without it."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        require(False, f"{name} cannot be imported: {e}")


def checkpointed(tmp_path, capsys, doc: dict, epochs: int = 3):
    """Write problem ``doc`` as tiny.json, train it ``epochs`` epochs with a checkpoint c.json (quiet);
    returns (problem path, checkpoint path) — the start of every resume and tamper test."""
    import json

    from deltarule.cli import main

    problem = tmp_path / "tiny.json"
    problem.write_text(json.dumps(doc))
    c = tmp_path / "c.json"
    assert main(["train", str(problem), "--epochs", str(epochs), "--checkpoint", str(c), "--quiet"]) == 0
    capsys.readouterr()
    return problem, c
