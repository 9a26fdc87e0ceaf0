"""The rounding policy: full precision inside, D decimals shown, never ``-0.000``.

A value that is not zero but rounds to zero at D decimals is *tiny*: it is shown as
``0.000`` and a note gives it in scientific notation (as seed 002 does for dE/dw1).
These functions only format numbers the core computed; they never compute model values.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def fmt(v: float, decimals: int) -> str:
    """``v`` to ``decimals`` places, as by hand; a value that rounds to zero has no minus sign.

    The binary noise of float64 is dropped first (15 significant digits), then halves round
    away from zero: 0.25(0.05) + 0.30(0.10) + 0.35 = 0.3925 shows as 0.393, as in the notes,
    not as 0.392 (the float is 0.39249999999999996).
    """
    f = float(v)
    if not math.isfinite(f):
        return str(f)
    q = Decimal(f"{f:.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    s = f"{q:f}"
    if s.startswith("-") and q == 0:
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
            f"{decimals} decimal{'s' if decimals != 1 else ''} (halves away from zero). A value that is not zero but rounds "
            f"to zero is shown as {zero} and marked †, with its value in a note.")
