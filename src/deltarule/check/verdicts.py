"""Verdicts: each claim judged against the true value, else against what follows from the
student's own earlier numbers, else diagnosed (see :mod:`.diagnoses`)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..problem import Problem
from .answers import PER_EXAMPLE, Claim, Node, close, half_unit, label, split
from .diagnoses import diagnose
from .graph import Evaluator, Graph
from .report import Verdict, shown

MAX_ENTRIES = 3  # wrong entries pointed at one by one; more, and the whole value is shown
_ENTRY = {"paths": "path"}  # what one entry of a claim is called ("path [2]" of paths.dW1[1,1])


def _convention(claim: Claim, expected) -> str:
    """The note on a claim read in the per-example delta convention (``scale`` 1/n)."""
    if claim.scale == 1.0:
        return ""
    n = round(1 / claim.scale)
    return (f"in the notes' per-example convention (each example's own derivative, without the "
            f"batch's 1/{n}; the gradients then average them); in the batch loss's convention it is "
            f"{shown(expected, claim.decimals)}")


class Checker:
    """Judges claims against one problem's first updates."""

    def __init__(self, problem: Problem, steps: list, claims: list[Claim]):
        self.g = Graph(problem, steps)
        self.ev = Evaluator(self.g, claims)
        self.claims = claims
        self.wrong_entries = 0  # over the claims judged so far

    def display(self, node: Node, arr: np.ndarray) -> np.ndarray:
        """``arr`` as the answers file writes it (a per-example row as a vector for one example)."""
        kind, _ = split(node[1])
        single = len(self.g.steps[node[0] - 1].examples) == 1
        return arr[0] if single and (kind in PER_EXAMPLE or node[1] == "a0") else arr

    def _as_claimed(self, claim: Claim, arr: np.ndarray):
        """``arr`` (internal shape) in the claim's shape: the whole value, or its one entry."""
        return arr.reshape(claim.display_shape) if claim.index is None else arr[claim.mask][0]

    def judge(self, claim: Claim) -> Verdict:
        """The verdict on one claim: the true value, else follow-through, else a diagnosis."""
        node, mask, d, s = claim.node, claim.mask, claim.decimals, claim.scale
        t, c = self.g.truth(node), claim.value
        expected = self._as_claimed(claim, t)
        expected_json = expected.tolist() if isinstance(expected, np.ndarray) else float(expected)
        given = claim.given.tolist() if isinstance(claim.given, np.ndarray) else claim.given
        verdict = lambda status, note, basis: Verdict(  # noqa: E731
            claim.key, status, given, expected_json, "; ".join(x for x in (note, _convention(claim, expected)) if x),
            basis, d)
        ok = close(c[mask], t[mask], claim.tolerance)
        if ok.all():
            return verdict("right", "", "true value")
        v = band = None
        influence: dict = {}
        if self.ev.frontier(node):
            v, band = self.ev.with_band(node, influence=influence)
            ok = ok | close(c[mask], v[mask], claim.tolerance + band[mask])
        if ok.all():
            names = self._culprits(influence)
            return verdict("right", f"follows from your {names} (the true value is {shown(expected / s, d)})",
                           f"follow-through from {names}")
        wrong = np.zeros(mask.shape, bool)
        wrong[mask] = ~ok
        self.wrong_entries += int(wrong.sum())
        note = self._should_be(claim, wrong, t / s, None if v is None else v / s, influence)
        why = diagnose(self.g, self.ev, claim, wrong, v, band)
        return verdict("wrong", note + (f": {why}" if why else f" = {self.g.formula(node)}, with {self._inputs(node, d)}"),
                       "")

    def _should_be(self, claim: Claim, wrong: np.ndarray, t: np.ndarray, v, influence: dict) -> str:
        """'should be X (Y from your Z)' for the whole claim, or 'entry [2,3]: 0.238, should be
        0.236' for each wrong entry when only a few of several are wrong (``t``, ``v`` and the
        claim in the units the student wrote)."""
        d, mask = claim.decimals, claim.mask
        follows = v is not None and not close(v[mask], t[mask], half_unit(d)).all()
        yours = f" from your {self._culprits(influence)}" if follows else ""
        count = int(wrong.sum())
        if claim.index is not None or (count == mask.sum() and mask.all()) or count > MAX_ENTRIES:
            mine = f" ({shown(self._as_claimed(claim, v), d)}{yours})" if follows else ""
            return f"should be {shown(self._as_claimed(claim, t), d)}{mine}"
        parts = []
        for flat in np.flatnonzero(wrong):
            at = ",".join(str(i + 1) for i in np.unravel_index(flat, claim.display_shape))
            mine = f" ({shown(v.flat[flat], d)}{yours})" if follows else ""
            written = claim.value.flat[flat] / claim.scale
            parts.append(f"{_ENTRY.get(split(claim.node[1])[0], 'entry')} [{at}]: {shown(written, d)}, "
                         f"should be {shown(t.flat[flat], d)}{mine}")
        return "; ".join(parts)

    def _culprits(self, influence: dict) -> str:
        """The claimed inputs that move the result and differ from the truth (else all that move it)."""
        frontier = [n for n, size in influence.items() if size > 0] or list(influence)
        off = []
        for n in frontier:
            value, mask, half = self.ev.claimed[n]
            if not close(value[mask], self.g.truth(n)[mask], half[mask]).all():
                off.append(n)
        return ", ".join(label(n) for n in (off or frontier))

    def _inputs(self, node: Node, d: int) -> str:
        """'W1 = [[...]], a0 = [...] (yours)': the parents' values the student worked from."""
        parts = []
        for p in self.g.parents(node):
            mine = p in self.ev.claimed
            val = self.display(p, self.ev.basis_value(p))
            dp = max([d] + [c.decimals for c in self.claims if c.node == p])
            parts.append(f"{label(p)} = {shown(val, dp)}" + (" (yours)" if mine else ""))
        return ", ".join(parts) or "the problem's data"


def judge(problem: Problem, steps: list, claims: list[Claim]) -> tuple[Verdict, ...]:
    """Every claim's verdict. A batch update's dL_da and delta claims are also read in the
    notes' per-example convention (each example's own derivative, n times the batch loss's
    under ``mean``; the gradients then average them): that reading is kept, update by update,
    when it leaves fewer claims wrong (or as many, with fewer wrong entries)."""
    verdicts, score = _judge(problem, steps, claims)
    for k in sorted({c.node[0] for c in claims if _per_example(c, problem, steps)}):
        n = len(steps[k - 1].examples)
        alt = [replace(c, value=c.value / n, scale=1 / n) if c.node[0] == k and _per_example(c, problem, steps)
               else c for c in claims]
        alt_verdicts, alt_score = _judge(problem, steps, alt)
        if alt_score < score:
            claims, verdicts, score = alt, alt_verdicts, alt_score
    return verdicts


def _per_example(claim: Claim, problem: Problem, steps: list) -> bool:
    """A dL_da or delta claim of a batch update whose loss is averaged over the examples."""
    kind, _ = split(claim.node[1])
    n = len(steps[claim.node[0] - 1].examples)
    return kind in ("dL_da", "delta") and n > 1 and problem.network.reduction == "mean"


def _judge(problem: Problem, steps: list, claims: list[Claim]) -> tuple[tuple[Verdict, ...], tuple[int, int]]:
    """The verdicts and their score: (claims wrong, entries wrong)."""
    checker = Checker(problem, steps, claims)
    # absurd claims (1e300) may overflow the follow-through: such values match nothing
    with np.errstate(all="ignore"):
        verdicts = tuple(checker.judge(c) for c in claims)
    return verdicts, (sum(not v.right for v in verdicts), checker.wrong_entries)
