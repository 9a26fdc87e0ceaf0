"""The rounding policy: full precision inside, D decimals shown, never ``-0.000``; and the
one way text that came from a file is made safe to show.

A value that is not zero but rounds to zero at D decimals is *tiny*: it is shown as
``0.000`` and a note gives it in scientific notation (as seed 002 does for dE/dw1).
A value of magnitude ``SCI_FROM`` or more is shown in scientific form (``1.000e+20``).
These functions only format numbers the core computed; they never compute model values.
"""
from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

SCI_FROM = 1e15  # from here on, D decimals would print 16+ digits of binary noise


def fmt(v: float, decimals: int) -> str:
    """``v`` to ``decimals`` places, as by hand; a value that rounds to zero has no minus sign.

    The binary noise of float64 is dropped first (15 significant digits), then halves round
    away from zero: 0.25(0.05) + 0.30(0.10) + 0.35 = 0.3925 shows as 0.393, as in the notes,
    not as 0.392 (the float is 0.39249999999999996). Any finite value renders: from
    |v| >= ``SCI_FROM`` on, as ``decimals`` decimals of a mantissa and an exponent.

    >>> fmt(0.3925, 3), fmt(-0.0001, 3), fmt(-1e300, 3), fmt(2.5e15, 0)
    ('0.393', '0.000', '-1.000e+300', '3e+15')
    """
    f = float(v)
    if not math.isfinite(f):
        return str(f)
    d = Decimal(f"{f:.15g}")
    with localcontext(Context(prec=40 + max(0, int(decimals)), rounding=ROUND_HALF_UP)):
        if abs(f) >= SCI_FROM:
            return f"{d:.{max(0, int(decimals))}e}"
        q = d.quantize(Decimal(1).scaleb(-decimals))
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


# -- text that came from a file (names, keys, descriptions, column names) ----------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(s: str) -> str:
    r"""``s`` with every control character shown as an escape (``\x1b``, ``\n``), so that it
    cannot move a terminal's cursor, retitle it, break a line or make XML ill-formed.

    >>> printable("a\x1b]2;owned\x07b\nc")
    'a\\x1b]2;owned\\x07b\\nc'
    """
    def esc(m: re.Match) -> str:
        c = m.group(0)
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c) or (
            f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
    return _CONTROL.sub(esc, str(s))


def surrogate_free(s: str) -> str:
    r"""``s`` with lone surrogates (which no encoder writes) shown as ``\udxxx``."""
    return re.sub(r"[\ud800-\udfff]", lambda m: f"\\u{ord(m.group(0)):04x}", s)


def safe_text(s: str) -> str:
    """One line of text from a file, safe for any output: no control characters, no lone
    surrogates (see :func:`printable`). Every renderer passes such text through this first,
    then through its own format's escaping."""
    return surrogate_free(printable(s))


def mpl_literal(s: str) -> str:
    """Text for a matplotlib title or label, drawn literally: ``$`` escaped (no mathtext is
    parsed from it) and control characters shown as escapes; line breaks are kept (a title
    may have several lines)."""
    return "\n".join(safe_text(line).replace("$", r"\$") for line in str(s).split("\n"))
