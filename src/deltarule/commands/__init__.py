"""One module per command: HELP, EXAMPLE, add_arguments(parser), run(args) -> int."""
from __future__ import annotations

import argparse
import sys

from ..errors import InputError


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def nonnegative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def positive_float(text: str) -> float:
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return v


def add_allow_outside(p: argparse.ArgumentParser) -> None:
    """``--allow-outside``: read the data files a problem names even outside its folder."""
    p.add_argument("--allow-outside", action="store_true",
                   help="read files that a problem (or answers) file names even when they lie outside its "
                        "folder (absolute paths, '..', symbolic links); refused by default")


def write_output(text: str, path: str | None) -> None:
    """Print ``text``, or write it atomically to ``path``."""
    if not path or path == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from ..io import write_text

    try:
        write_text(path, text)
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", "", path) from None
