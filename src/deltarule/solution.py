"""``dr.solve``: load a problem, take its first updates, hand them to the renderers.

This sits above both the training code (which takes the steps, and trains the journal of
an interactive page's epoch slider) and :mod:`deltarule.explain` (which only reads them), so
the renderers import no training, engine, problem or data module.
"""
from __future__ import annotations

from . import explain


class Solution(explain.Solution):
    """A worked solution (:class:`deltarule.explain.Solution`) that can also train: the
    interactive page's epoch slider over a journal of ``epochs`` epochs."""

    def interactive(self, epochs: int | None = None, *, journal=None):
        """The interactive page; with ``epochs``, the problem is trained that many epochs
        (its own schedule otherwise) and the journal is added as a slider."""
        if epochs is not None and journal is None:
            from dataclasses import replace

            p = self.problem
            journal = replace(p, schedule=replace(p.schedule, epochs=int(epochs))).train().journal
        return super().interactive(journal)


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
