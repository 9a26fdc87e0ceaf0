"""How a printed figure relates to the true value: the seed tests' shared vocabulary."""
import math

import numpy as np


def shown(got, printed, decimals):
    """``printed`` is ``got`` rounded to ``decimals`` (a tie counts as right)."""
    got, printed = np.asarray(got, float), np.asarray(printed, float)
    assert np.all(np.abs(got - printed) <= 0.5 * 10.0 ** -decimals * (1 + 1e-9) + 1e-15), (got, printed)


def near(got, printed, tol):
    """The true value is within ``tol`` of an early-rounded printed figure."""
    assert np.all(np.abs(np.asarray(got, float) - np.asarray(printed, float)) <= tol), (got, printed)


def truncated(got, printed, decimals):
    """``printed`` is ``got`` with the digits after ``decimals`` cut off (towards zero)."""
    got = float(got)
    assert math.trunc(got * 10 ** decimals) == round(printed * 10 ** decimals), (got, printed)
