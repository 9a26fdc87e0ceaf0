"""Typed field readers for documents read from files: each returns a checked value or raises
:class:`~deltarule.errors.InputError` naming the field's path (``layers[1].weights``).

``number`` (finite real), ``integer``, ``boolean`` (true/false only), ``choice`` (one of a
vocabulary, with a near miss named), ``mapping`` (known keys only), ``vector`` and ``matrix``
(lists of finite numbers, fast for big tables), and the small texts the messages use
(``kind``: what a value is, ``show``: a number without 5,000 digits, ``gib``, ``plural``).

Paths count from 1, as the notes do: ``layers[2]`` is the second layer (W2, b2), and
``layers[2].weights[1][2]`` is W2[1,2]; ``data.inputs[3][1]`` is example 3's first input.

A leaf: imports only :mod:`deltarule.errors` and numpy, so problem, data, answers and
checkpoint readers all use it without importing each other.
"""
from __future__ import annotations

import difflib
import itertools
import math
import re
from typing import Any

import numpy as np

from .errors import InputError


# -- small typed readers; each raises InputError(message, path) ----------------------------
def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, str):
        return f"the text {v[:40]!r}" + _hint(v)
    if v is None:
        return "nothing"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, (int, float)):
        return _show(v)
    return f"a {type(v).__name__}"


def _show(v: Any) -> str:
    """A number as a short text: huge integers are not printed digit by digit."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**15:
        return f"{float(v):.3g}" if abs(v) < 10**300 else f"{'-' if v < 0 else ''}a number of over 300 digits"
    return repr(v) if isinstance(v, float) else str(v)


def gib(nbytes: int) -> str:
    """A size in GiB for a message, however absurd the size."""
    return f"{nbytes / 2**30:.3g} GiB" if nbytes < 2**1000 else "over 1e+292 GiB"


def _hint(text: str) -> str:
    """Why a text is not a number, for the YAML 1.1 habits that make it look like one."""
    t = text.strip().lower()
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)(e[-+]?[0-9]+)?", t):
        return " (remove the quotes to make it a number)"
    if t in ("yes", "no", "on", "off", "y", "n"):
        return " (only true and false are booleans, and neither is a number)"
    if t.startswith(("0x", "0o", "-0x", "+0x")):
        return " (write numbers in decimal)"
    if ":" in t:
        return " (not a time or a base-60 number; write it in decimal)"
    return ""


def plain(v: Any) -> Any:
    """numpy arrays and scalars, and tuples, as the lists and numbers a file gives (the Python API
    may hand them to any reader that takes lists)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return list(v) if isinstance(v, tuple) else v


_SURROGATE = re.compile("[\ud800-\udfff]")


def text(v: Any, path: str, numbers: bool = False) -> str:
    """Text (a number too, as its text, when ``numbers``); a lone surrogate (``\\ud800``, which no
    encoder can write) is refused."""
    v = plain(v)
    if numbers and isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str):
        raise InputError(f"expected text, got {_kind(v)}", path)
    if not v.isascii() and _SURROGATE.search(v):
        raise InputError("text holds a lone surrogate (such as \\ud800), which is not a character; "
                         "write the character itself", path)
    return v


def number(v: Any, path: str) -> float:
    """A finite real number (not a boolean, not text)."""
    v = plain(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"expected a number, got {_kind(v)}", path)
    f = float(v) if isinstance(v, float) or abs(v) < 10**308 else math.inf
    if not math.isfinite(f):
        raise InputError(f"expected a finite number, got {_show(v)}", path)
    return f


def integer(v: Any, path: str, minimum: int | None = None) -> int:
    """A whole number (a float such as 3.0 is accepted), at least ``minimum`` when given."""
    v = plain(v)
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer() and math.isfinite(v):
            v = int(v)
        else:
            raise InputError(f"expected a whole number, got {_kind(v)}", path)
    if minimum is not None and v < minimum:
        raise InputError(f"must be at least {minimum}, got {_show(v)}", path)
    return v


def boolean(v: Any, path: str) -> bool:
    """``true`` or ``false`` (never yes/no, never 0/1)."""
    if not isinstance(v, bool):
        raise InputError(f"expected true or false, got {_kind(v)}", path)
    return v


def choice(v: Any, path: str, options: tuple[str, ...] | list[str]) -> str:
    """One of ``options``; a near miss is named in the error (``did you mean 'sse'?``)."""
    if not isinstance(v, str) or v not in options:
        hint = difflib.get_close_matches(str(v), options, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise InputError(f"unknown {_kind(v) if not isinstance(v, str) else repr(v)}{did}; "
                         f"expected one of {', '.join(options)}", path)
    return v


def mapping(v: Any, path: str, allowed: tuple[str, ...]) -> dict:
    """A mapping whose keys are all in ``allowed`` (an unknown key is an error at its path)."""
    if not isinstance(v, dict):
        raise InputError(f"expected a mapping of fields, got {_kind(v)}", path)
    for key in v:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"unknown field{did}; allowed: {', '.join(allowed)}", _join(path, str(key)))
    return v


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def vector(v: Any, path: str, length: int | None = None) -> np.ndarray:
    """A list of finite numbers, optionally of a given length."""
    v = plain(v)
    if not isinstance(v, list):
        raise InputError(f"expected a list of numbers, got {_kind(v)}", path)
    if length is not None and len(v) != length:
        raise InputError(f"expected {_plural(length, 'number')}, got {len(v)}", path)
    fast = _finite_array(v, v)
    if fast is not None:
        return fast
    return np.array([number(x, f"{path}[{i}]") for i, x in enumerate(v, start=1)], dtype=np.float64)


def _finite_array(v: list, items: Any) -> np.ndarray | None:
    """``v`` as float64 when ``items`` are all ints and floats and finite; else None (then the
    element-by-element reading finds the first bad one and names it). Big tables read fast."""
    if not set(map(type, items)) <= {int, float}:
        return None
    try:
        a = np.array(v, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        return None
    return a if np.isfinite(a).all() else None


def matrix(v: Any, path: str, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """A list of equally long rows of finite numbers, optionally of a given shape."""
    v = plain(v)
    if isinstance(v, list):
        v = [plain(r) for r in v]
    _check_rows(v, path, rows, cols)
    fast = _finite_array(v, itertools.chain.from_iterable(v))
    if fast is not None:
        return fast
    return np.array([[number(x, f"{path}[{i}][{j}]") for j, x in enumerate(r, start=1)]
                      for i, r in enumerate(v, start=1)],
                    dtype=np.float64)


def _check_rows(v: Any, path: str, rows: int | None, cols: int | None) -> None:
    """Refuse anything but a non-empty list of equally long, non-empty lists (of the shape asked)."""
    shape = f"{_plural(rows, 'row') if rows is not None else 'rows'} of " \
            f"{_plural(cols, 'number') if cols is not None else 'numbers'}"
    if not isinstance(v, list) or not v:
        raise InputError(f"expected {shape}, got {_kind(v) if v != [] else 'an empty list'}", path)
    if not all(isinstance(r, list) for r in v):
        raise InputError(f"expected {shape} (a list of lists), got a flat list", path)
    if rows is not None and len(v) != rows:
        raise InputError(f"expected {shape}, got {_plural(len(v), 'row')}", path)
    width = cols if cols is not None else len(v[0])
    for i, r in enumerate(v):
        if len(r) != width:
            raise InputError(f"expected {shape}, got {len(r)} in row {i + 1}" if cols is not None
                             else f"rows differ in length: row 1 has {width}, row {i + 1} has {len(r)}", path)
    if width == 0:
        raise InputError("rows are empty", path)


def named_settings(registry: dict, settings: dict[str, Any]) -> Any:
    """``registry[name](**settings)`` from ``{name: ..., <setting>: value}``: the reader of the
    optimizer and learning-rate-schedule registries (dataclasses keyed by name).

    Raises :class:`~deltarule.errors.InputError` whose field is the setting at fault (``name``,
    ``beta1``, ...): a reader prefixes its own path (``optimizer.beta1``) and the file. Values
    must be numbers or booleans (or words where the default is one): a reader's typed fields come first.
    """
    from dataclasses import MISSING, fields

    rest = dict(settings)
    name = rest.pop("name", None)
    if not isinstance(name, str) or name not in registry:
        raise InputError(f"expected one of {', '.join(registry)}, got {name!r}", "name")
    known = [f.name for f in fields(registry[name])]
    for key in rest:
        if key not in known:
            raise InputError(f"{name} takes {', '.join(known) or 'no settings'}", str(key))
    for f in fields(registry[name]):
        if f.default is MISSING and f.name not in rest:
            raise InputError(f"{name} needs {f.name}", f.name)
    _check_setting_types(registry[name], rest)
    return registry[name](**rest)


def _check_setting_types(cls, settings: dict[str, Any]) -> None:
    """Numbers (booleans among them), or a word where the default is one (Adam's eps_placement:
    the class checks which words)."""
    from dataclasses import fields

    words = {f.name for f in fields(cls) if isinstance(f.default, str)}
    for key, value in settings.items():
        if not (isinstance(value, (int, float)) or (key in words and isinstance(value, str))):
            raise InputError(f"expected a number, got {value!r}", str(key))
