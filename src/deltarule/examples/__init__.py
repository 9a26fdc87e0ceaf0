"""Built-in examples: every worked example of the seed notes, as problem files.

``names()`` lists them, ``text(name)`` gives its file, ``parse(name)`` its document,
``path(name)`` where it lies (its data files beside it). Any command that takes a problem file
also takes one of these names: :func:`deltarule.problem.load_problem` resolves them (this
package only finds and reads the files, so it imports no problem or data module).
"""
from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError


def _files():
    return resources.files(__name__)


def names() -> list[str]:
    """Every built-in example name, sorted."""
    return sorted(p.name[:-5] for p in _files().iterdir() if p.name.endswith(".yaml"))


def exists(name: str) -> bool:
    """True when ``name`` is a built-in example."""
    return isinstance(name, str) and name in names()


def nearest(name: str) -> str | None:
    """The built-in example name closest to ``name`` (``seed-02`` -> ``seed-002``), if any is close."""
    close = difflib.get_close_matches(str(name), names(), n=1, cutoff=0.75)
    return close[0] if close else None


def text(name: str) -> str:
    """The problem file of example ``name``."""
    if not exists(name):
        raise InputError("no built-in example of that name (see 'deltarule examples')", "", name)
    return (_files() / f"{name}.yaml").read_text(encoding="utf-8")


def parse(name: str) -> Any:
    """The parsed (not yet validated) document of example ``name``."""
    from ..loader import parse_text

    return parse_text(text(name), name)


@contextlib.contextmanager
def path(name: str) -> Iterator[Path]:
    """The file of example ``name`` on disk, for as long as the ``with`` block lasts."""
    text(name)  # refuses an unknown name
    with resources.as_file(_files() / f"{name}.yaml") as p:
        yield p


def describe(name: str) -> str:
    """The example's one-line name."""
    doc = parse(name)
    return str(doc.get("name", name)) if isinstance(doc, dict) else name
