"""Built-in examples: every worked example of the seed notes, as problem files.

``names()`` lists them, ``load(name)`` parses one, ``text(name)`` gives its file.
Any command that takes a problem file also takes one of these names.
"""
from __future__ import annotations

from importlib import resources

from ..errors import InputError


def _files():
    return resources.files(__name__)


def names() -> list[str]:
    """Every built-in example name, sorted."""
    return sorted(p.name[:-5] for p in _files().iterdir() if p.name.endswith(".yaml"))


def exists(name: str) -> bool:
    """True when ``name`` is a built-in example."""
    return name in names()


def text(name: str) -> str:
    """The problem file of example ``name``."""
    if not exists(name):
        raise InputError(f"no built-in example of that name (see 'deltarule examples')", "", name)
    return (_files() / f"{name}.yaml").read_text(encoding="utf-8")


def load(name: str):
    """The parsed :class:`~deltarule.problem.Problem` of example ``name``."""
    from ..loader import parse_text
    from ..problem import parse_problem

    with resources.as_file(_files() / f"{name}.yaml") as path:
        return parse_problem(parse_text(text(name), name), name, path.parent)


def describe(name: str) -> str:
    """The example's one-line name."""
    return str(load(name).name)
