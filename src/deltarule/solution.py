"""``dr.solve``: load a problem, take its first updates, hand them to the renderers.

This sits above both the training code (which takes the steps) and :mod:`deltarule.explain`
(which only reads them), so the renderers import no training, engine, problem or data module.
"""
from __future__ import annotations

from .explain import Solution


def solve(problem, steps: int = 1, *, style: str = "neuron", decimals: int | None = None,
          chain: str | None = None) -> Solution:
    """The worked solution of the first ``steps`` updates of ``problem`` (a Problem, a
    problem file or a built-in example name), shown to ``decimals`` places (default the
    problem's), per neuron or in matrix form, with the fully expanded chain of one
    parameter (``chain="W1[1,1]"``) if asked.

    >>> import deltarule as dr
    >>> sol = dr.solve("seed-002", chain="W1[1,1]")
    >>> sol
    Solution('seed-002 two-two-one', 1 update(s), style='neuron')
    >>> "The fully expanded chain for dW1[1,1]" in sol.to_text()
    True
    """
    from .problem import Problem, load_problem

    if not isinstance(problem, Problem):
        problem = load_problem(problem)
    d = problem.decimals if decimals is None else int(decimals)
    return Solution(problem, problem.steps(steps), d, style, chain)


__all__ = ["Solution", "solve"]
