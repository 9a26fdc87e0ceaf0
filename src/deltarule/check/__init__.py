"""deltarule check: a hand-worked solution judged as a fair marker judges it.

An answers file (YAML or JSON) claims numbers under the canonical names::

    problem: seed-003.yaml      # in this file's folder, or a built-in example name
    decimals: 2                 # how the numbers were rounded (else the problem's, else 3)
    answers:
      z1: [0.41, 0.47]          # per-example quantities: a vector for a one-example update
      dW1[1,2]: 0.08            # a single entry, 1-based as in the notes
      step2.W1_new: [[0.1, 0.3], [0.2, 0.4]]   # a later update
      loss: {value: 0.0208, decimals: 4}        # a number stated to other decimals

Names: ``z{l} a{l} fprime{l} dL_da{l} delta{l} dW{l} db{l} W{l}_new b{l}_new loss losses
loss_after`` (``fprime{l}`` is f'(z_l) and ``losses`` each example's loss, per example); with
an optimizer (``optimizer:`` in the problem) also its state after the update, ``vW{l} vb{l}``,
``mW{l} mb{l} sW{l} sb{l}``, the bias-corrected ``mW{l}_hat ...`` and ``t``. Under L2, ``dW{l}``
includes λ W_l and ``loss``, ``loss_after`` the penalty, as the worked solution shows them.

Judging (the contract's rule). With d the claim's decimals, a claimed c is right when
``|c - v| <= 1/2 * 10^-d`` (ties right, relative slack 1e-9), where v is

* the true value (always enough), or
* the value that FOLLOWS from the student's own earlier claimed numbers: the node's formula
  (the core's ``Activation``/``Loss`` objects, ``a @ W.T + b``, the optimizer's stages
  ``advance``/``correct``/``apply`` and so on) applied to the
  claims, recursively through numbers that were not claimed. The band is then widened by
  the effect of each claimed input moving by half a unit of its own decimals (evaluated at
  the perturbed inputs, summed over the inputs).

A wrong number is diagnosed by recomputing common mistakes (another loss convention, f(z)
used for f'(z), f' of the wrong quantity, a sign error, a missing or wrong learning rate,
the wrong layer's activations, a transposed matrix, a bias not updated, hidden deltas
from updated weights, truncation; an optimizer's own mistakes, ``Optimizer.mistakes()``: momentum
applied after the step, Adam without bias correction, β and 1 − β swapped, ...; L2 left out of
dW or the loss; the base rate where the schedule gives another) with the same formulas and matching them within the
same tolerance; otherwise the note gives the true value and the formula it comes from.

The package, along its seams: :mod:`.answers` (reading and validating answers files),
:mod:`.graph` (the named quantities and follow-through), :mod:`.diagnoses`, :mod:`.verdicts`,
:mod:`.report` (the result as data; :mod:`deltarule.explain.check_report` presents it).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import InputError
from ..problem import Problem
from .answers import (
    Claim,
    OutsideError,
    close,
    document,
    field_of,
    half_unit,
    parse_claims,
    parse_name,
    read_answers,
    read_decimals,
    require_answers,
    resolve_problem,
    split,
)
from .graph import Evaluator, Graph, Variant
from .report import Report, Verdict
from .verdicts import Checker, judge

__all__ = [
    "Checker",
    "Claim",
    "Evaluator",
    "Graph",
    "OutsideError",
    "Report",
    "Variant",
    "Verdict",
    "check",
    "close",
    "half_unit",
    "parse_claims",
    "parse_name",
    "read_answers",
    "split",
]


def check(problem: Any = None, answers: Any = None, *, decimals: int | None = None,
          allow_outside: bool = False) -> Report:
    """Judge an answers file (or mapping) against a problem; see the module docstring.

    ``problem``: a file, a built-in example name or a :class:`Problem`; None takes the answers
    file's ``problem:``: a file relative to the answers file and inside its folder (anywhere
    with ``allow_outside``; a mapping from Python may name any file), or an example name. ``answers``: a file, or a mapping (either a
    whole answers document or just ``{name: value}``). ``decimals`` overrides the file's.
    Values are numbers, lists and lists of lists (as YAML gives them) or numpy arrays.

    >>> import deltarule as dr
    >>> report = dr.check("seed-003", {"decimals": 2, "answers": {"z1": [0.41, 0.47], "dL_da2": [0.68, -0.17]}})
    >>> report.summary(), report["z1"].status, report["dL_da2"].status
    ('1 right, 1 wrong (answers against seed-003)', 'right', 'wrong')
    >>> report["dL_da2"].note  # doctest: +ELLIPSIS
    'should be [0.34, -0.09]: another loss convention: half_sse ...'
    """
    from ..problem import load_problem

    if answers is None and problem is not None and not isinstance(problem, Problem):
        problem, answers = None, problem  # check("answers.yaml")
    doc, file, base = document(answers)
    if decimals is not None:
        decimals = read_decimals(decimals, "decimals")
    elif "decimals" in doc:
        decimals = read_decimals(doc["decimals"], "decimals")
    if problem is None:
        if "problem" not in doc:
            raise InputError("missing field 'problem' (or give PROBLEM on the command line)", "problem", file)
        confined = bool(file) and not allow_outside
        problem = resolve_problem(doc["problem"], base, file, allow_outside=not confined)
    elif not isinstance(problem, Problem):
        problem = load_problem(problem, allow_outside=allow_outside)
    report = _check(problem, doc["answers"], problem.decimals if decimals is None else decimals, file)
    return replace(report, student=str(doc.get("student", "")), exercise=str(doc.get("exercise", "")))


def _check(problem: Problem, answers: Any, decimals: int, file: str) -> Report:
    """Every claim judged against the first updates of ``problem`` (as many as the claims name)."""
    try:
        require_answers(answers)
        layers = len(problem.network.layers)
        count = max(parse_name(k, layers, field_of(k))[0] for k in answers)
    except InputError as e:
        raise e.in_file(file) from None
    if problem.network.dtype != np.float64:  # judge against the exact arithmetic, not float32's
        problem = replace(problem, network=problem.network.astype("float64"))
    steps = problem.steps(count)
    try:
        claims = parse_claims(answers, steps, decimals)
    except InputError as e:
        raise e.in_file(file) from None
    return Report(judge(problem, steps, claims), problem.source or problem.name, file)
