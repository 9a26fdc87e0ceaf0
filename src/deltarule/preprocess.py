"""Input scaling stored with a model: the ``preprocess:`` field of a problem or model file.

In a problem file::

    preprocess: {scale: standard}     # (x - mean) / standard deviation, per input column
    preprocess: {scale: minmax}       # (x - min) / (max - min), per input column: [0, 1]

fitted on the training examples only (the held-out split is left out), then written into the
saved model with its numbers, which ``predict``, ``evaluate`` and ``solve`` apply::

    preprocess: {scale: standard, offset: [13.1, 19.3], divisor: [3.52, 4.30]}

x_scaled = (x - offset) / divisor, offset and divisor of shape (d,). A constant column gets
divisor 1 (it is shifted only), so nothing divides by zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError
from .fields import choice, mapping, vector

SCALES = ("standard", "minmax")
SPREAD_WARNING = 100.0  # feature scales this many times apart, unscaled: a warning


@dataclass(frozen=True)
class Scaler:
    """``scale`` (standard | minmax) with ``offset`` and ``divisor`` (d,), None until fitted."""

    scale: str
    offset: np.ndarray | None = None
    divisor: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> "Scaler":
        """Fitted on x (n, d): standard: mean and standard deviation (ddof 0, as scikit-learn's
        StandardScaler); minmax: min and max - min. A spread of 0 becomes 1."""
        x = np.asarray(x, dtype=np.float64)
        if self.scale == "standard":
            offset, spread = x.mean(axis=0), x.std(axis=0)
        else:
            offset, spread = x.min(axis=0), x.max(axis=0) - x.min(axis=0)
        return Scaler(self.scale, offset, np.where(spread > 0, spread, 1.0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(x - offset) / divisor, (n, d) -> (n, d); an InputError at ``preprocess`` where a finite
        input scales past the largest float (a model file's tiny divisor: inf, not a warning)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(over="ignore"):
            out = (x - self.offset) / self.divisor
        bad = ~np.isfinite(out) & np.isfinite(x)
        if bad.any():
            j = int(np.argwhere(bad)[0][1])
            raise InputError(f"(x - offset) / divisor overflows for input {j + 1} (offset {self.offset[j]:g}, "
                             f"divisor {self.divisor[j]:g})", f"preprocess.divisor[{j + 1}]")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "offset": self.offset.tolist(), "divisor": self.divisor.tolist()}


def parse_preprocess(spec: Any, d: int) -> Scaler:
    """``preprocess: {scale: ..., offset: [...], divisor: [...]}`` -> Scaler (fitted when both
    numbers are given; d of each, divisors positive)."""
    spec = mapping(spec, "preprocess", ("scale", "offset", "divisor"))
    if "scale" not in spec:
        raise InputError(f"missing field 'scale' ({', '.join(SCALES)})", "preprocess")
    scale = choice(spec["scale"], "preprocess.scale", SCALES)
    given = [f for f in ("offset", "divisor") if f in spec]
    if not given:
        return Scaler(scale)
    if len(given) == 1:
        missing = "divisor" if given == ["offset"] else "offset"
        raise InputError(f"missing field '{missing}' (a fitted scaling gives offset and divisor)", "preprocess")
    offset, divisor = (vector(spec[f], f"preprocess.{f}") for f in ("offset", "divisor"))
    for f, v in (("offset", offset), ("divisor", divisor)):
        if len(v) != d:
            raise InputError(f"expected {d} numbers (one per input), got {len(v)}", f"preprocess.{f}")
    if (divisor <= 0).any():
        i = int(np.argmax(divisor <= 0))
        raise InputError(f"divisors must be positive, got {divisor[i]:g}", f"preprocess.divisor[{i + 1}]")
    return Scaler(scale, offset, divisor)


def spread_warning(x: np.ndarray, columns: list[str] | None = None) -> str | None:
    """A warning when the inputs' scales (each column's largest |value|) differ by more than
    SPREAD_WARNING times; None when they do not (or every column is 0)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2 or len(x) == 0:
        return None
    size = np.abs(x).max(axis=0)
    nonzero = size[size > 0]
    if len(nonzero) < 2 or nonzero.max() <= SPREAD_WARNING * nonzero.min():
        return None
    big, small = int(np.argmax(np.where(size > 0, size, -np.inf))), int(np.argmin(np.where(size > 0, size, np.inf)))
    name = (lambda j: repr(columns[j]) if columns else f"input {j + 1}")
    return (f"input scales differ by {nonzero.max() / nonzero.min():.3g}x ({name(big)} up to {size[big]:.4g}, "
            f"{name(small)} up to {size[small]:.4g}) and nothing scales them; "
            f"add 'preprocess: {{scale: standard}}' to the problem file")
