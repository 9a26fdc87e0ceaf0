"""The rounding policy: full precision inside, D decimals shown, never ``-0.000``.

A value that is not zero but rounds to zero at D decimals is *tiny*: it is shown as
``0.000`` and a note gives it in scientific notation (as seed 002 does for dE/dw1).
These functions only format numbers the core computed; they never compute model values.
"""
from __future__ import annotations

import math


def fmt(v: float, decimals: int) -> str:
    """``v`` to ``decimals`` places; a value that rounds to zero never shows a minus sign."""
    s = f"{float(v):.{decimals}f}"
    if s.startswith("-") and float(s) == 0.0:
        s = s[1:]
    return s


def is_tiny(v: float, decimals: int) -> bool:
    """Not zero, but shown as zero at this many decimals."""
    return float(v) != 0.0 and math.isfinite(float(v)) and float(fmt(v, decimals)) == 0.0


def sci(v: float, digits: int = 3) -> tuple[str, str]:
    """(LaTeX, text) of ``v`` in scientific notation with ``digits`` significant digits."""
    mantissa, exponent = f"{float(v):.{digits - 1}e}".split("e")
    e = int(exponent)
    return rf"{mantissa} \times 10^{{{e}}}", f"{mantissa} × 10^{e}"


def policy(decimals: int) -> str:
    """The rounding policy in words, stated at the top of every solution."""
    zero = fmt(0.0, decimals)
    return (f"Full precision is used in every computation; numbers are shown rounded to "
            f"{decimals} decimal{'s' if decimals != 1 else ''}. A value that is not zero but rounds "
            f"to zero is shown as {zero} and marked †, with its value in a note.")
