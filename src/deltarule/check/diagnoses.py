"""Diagnoses: common mistakes, recomputed with the core's formulas and matched within the band.

A mistake is a :class:`~.graph.Variant` (a mistaken formula at one node: another loss
convention or reduction, f(z) used for f'(z), f' of the wrong quantity, the wrong layer's
activations, a transposed W, updated weights used going back, an update with a sign error,
no or a wrong learning rate), or a generic slip of the whole number (a sign, a transposition,
truncation instead of rounding), or rows copied from another number of the same update.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import losses as _loss
from .answers import Claim, Node, close, is_state, label, split
from .graph import Evaluator, Graph, Variant


def variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """The mistaken formulas worth trying at ``node``."""
    kind, l = split(node[1])
    if kind in ("loss", "loss_after") or (kind == "dL_da" and l == g.L):
        return _loss_variants(g, node) + _penalty_variants(g, node)
    if is_state(kind):
        return _optimizer_variants(g, node)
    table = {"fprime": _fprime_variants, "delta": _derivative_variants, "dL_da": _backward_variants, "dW": _gradient_variants,
             "db": _bias_variants, "W_new": _update_variants, "b_new": _update_variants}
    return table[kind](g, ev, node) if kind in table else []


def _optimizer_variants(g: Graph, node: Node) -> list[Variant]:
    """The optimizer's own mistakes (Optimizer.mistakes) at the stage that computes ``node``: a
    moment (advance), its bias correction (correct) or the step (apply)."""
    k, name = node
    kind, l = split(name)
    opt = g.optimizer(k)
    p = kind[1] if is_state(kind) else kind[0]
    if opt is None or not g.trained(p, l):
        return []
    stage = "correct" if kind.endswith("_hat") else "advance" if is_state(kind) else "apply"
    return [Variant(node, lambda get, m=m: _mistaken(g, node, m, get), m.note.format(p=f"{p}{l}"))
            for m in opt.mistakes() if m.stage == stage]


def _mistaken(g: Graph, node: Node, mistake, get: Callable) -> np.ndarray:
    """The node's value with the optimizer's ``mistake`` in place of its stage, on ``get``'s numbers."""
    k, name = node
    kind, l = split(name)
    opt, t = g.optimizer(k), int(g.steps[k - 1].state["t"])
    if mistake.stage == "advance":
        p = kind[1]
        g_ = np.asarray(get((k, f"d{p}{l}")), float)
        return mistake.fn(g_, g.old_state(k, p, l, get), t)[opt.moments.index(kind[0])]
    if mistake.stage == "correct":
        p = kind[1]
        new = tuple(np.asarray(get((k, f"{q}{p}{l}")), float) for q in opt.moments)
        return mistake.fn(new, t)[opt.hats.index(kind[0])]
    p = kind[0]
    st = g.stages(k, p, l, get)
    return mistake.fn(np.asarray(get((k, f"{p}{l}")), float), st["g"], st["old"], st["new"], st["hats"],
                      g.rate(k), st["t"], p == "W")


def _penalty_variants(g: Graph, node: Node) -> list[Variant]:
    """Under L2: the loss (or the loss after) without the penalty (λ/2)·Σ‖W‖², or without its ½."""
    k, name = node
    if not g.l2(k) or name not in ("loss", "loss_after"):
        return []
    which = "W" if name == "loss" else "W_new"
    lam = g.l2(k)
    return [Variant(node, lambda get: g.compute(node, get) - g.penalty(k, which, get),
                    f"the L2 penalty ({lam:g}/2)·Σ‖W‖² left out of the {'loss' if name == 'loss' else 'loss after'}"),
            Variant(node, lambda get: g.compute(node, get) + g.penalty(k, which, get),
                    f"the L2 penalty without its ½ ({lam:g}·Σ‖W‖² instead of ({lam:g}/2)·Σ‖W‖²)")]


def _bias_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """Under L2: the bias decayed too (db + λ b; L2 is on weights only)."""
    k, l = node[0], split(node[1])[1]
    lam = g.l2(k)
    if not lam:
        return []
    return [Variant(node, lambda get: g.compute(node, get) + lam * get((k, f"b{l}")),
                    f"the bias decayed too (db{l} + {lam:g}·b{l}; L2 is on the weights only)")]


def _backward_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """dL_da{l} from W{l+1} untransposed (when square) or from the updated W{l+1}_new."""
    k, l = node[0], split(node[1])[1]
    out = []
    if g.truth((k, f"W{l + 1}")).shape[0] == g.truth((k, f"W{l + 1}")).shape[1]:
        out.append(Variant(node, lambda get: get((k, f"delta{l + 1}")) @ get((k, f"W{l + 1}")).T,
                           f"W{l + 1} used without transposing (W{l + 1} delta{l + 1} instead of "
                           f"W{l + 1}^T delta{l + 1})"))
    out.append(Variant(node, lambda get: get((k, f"delta{l + 1}")) @ get((k, f"W{l + 1}_new")),
                       f"computed from the already-updated weights W{l + 1}_new instead of W{l + 1}"))
    return out


def _gradient_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """dW{l} with another layer's activations (or z{l-1}) in place of a{l-1}."""
    k, l = node[0], split(node[1])[1]
    fan_in = g.truth((k, f"W{l}")).shape[1]
    out = []
    for m in range(g.L + 1):
        if m != l - 1 and g.truth((k, f"a{m}")).shape[1] == fan_in:
            what = "the input x (a0)" if m == 0 else f"a{m}"
            out.append(Variant(node, lambda get, m=m: get((k, f"delta{l}")).T @ get((k, f"a{m}")) + _l2_term(g, k, l, get),
                               f"the wrong layer's activations: {what} used where a{l - 1} belongs"))
    if l > 1:
        out.append(Variant(node, lambda get: get((k, f"delta{l}")).T @ get((k, f"z{l - 1}")) + _l2_term(g, k, l, get),
                           f"z{l - 1} used where a{l - 1} belongs"))
    lam = g.l2(k)
    if lam:
        out += [Variant(node, lambda get: get((k, f"delta{l}")).T @ get((k, f"a{l - 1}")),
                        f"the L2 term {lam:g}·W{l} left out of dW{l}"),
                Variant(node, lambda get: get((k, f"delta{l}")).T @ get((k, f"a{l - 1}")) + 0.5 * _l2_term(g, k, l, get),
                        f"({lam:g}/2)·W{l} added to dW{l} instead of {lam:g}·W{l} (the derivative of (λ/2)·‖W‖² is λ·W)")]
    return out


def _l2_term(g: Graph, k: int, l: int, get: Callable):
    """λ W_l of update k (0 without L2): what L2 adds to dW_l."""
    return g.l2(k) * get((k, f"W{l}")) if g.l2(k) else 0.0


def _loss_variants(g: Graph, node: Node) -> list[Variant]:
    """The loss, dL/da_L, the losses or the loss after with another squared-error convention
    (``Loss.squared``) or, for a batch, the other reduction."""
    net = g.net
    others = [f for f in _loss.LOSSES.values() if f.squared and f is not net.loss] if net.loss.squared else []
    n_ex = len(g.steps[node[0] - 1].examples)
    reductions = [r for r in _loss.REDUCTIONS if r != net.reduction] if n_ex > 1 and node[1] != "losses" else []
    combos = [(f, net.reduction) for f in others] + [(f, r) for r in reductions for f in (net.loss, *others)]
    out = []
    for alt, red in combos:
        fn = (lambda get, alt=alt, red=red: g.compute(node, get, alt, red))
        out.append(Variant(node, fn, _convention_text(net, alt, red, n_ex) + _factor(g, node, fn)))
    return out


def _convention_text(net, alt, red: str, n_ex: int) -> str:
    """'another loss convention: ...; summed over the 3 examples instead of averaged'."""
    parts = [f"another loss convention: {alt.name} ({_form(alt)}) where the problem says "
             f"{net.loss.name} ({_form(net.loss)})"] if alt is not net.loss else []
    if red != net.reduction:
        parts.append(f"{'summed' if red == 'sum' else 'averaged'} over the {n_ex} examples "
                     f"instead of {'summed' if red != 'sum' else 'averaged'}")
    return "; ".join(parts)


def _form(loss) -> str:
    """A loss's formula in plain text (its description where it has none)."""
    return loss.text or loss.description


def _derivative_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """delta{l} with the activation's own mistaken derivatives, or f' of another layer's z."""
    k, l = node[0], split(node[1])[1]
    act = g.net.layers[l - 1].activation
    dz, z, a = (k, f"dL_da{l}"), (k, f"z{l}"), (k, f"a{l}")
    out = [Variant(node, lambda get, m=m: get(dz) * m.derivative(get(z), get(a)), m.note.format(f=act.symbol, l=l))
           for m in act.mistakes]
    if act.mistakes:  # an activation with no mistakes of its own (identity, softmax) has no f' to misuse
        for m in range(1, g.L + 1):
            if m != l and g.truth((k, f"z{m}")).shape == g.truth(z).shape:
                out.append(Variant(node, lambda get, m=m: act.backward(get(dz), get((k, f"z{m}")), get((k, f"a{m}"))),
                                   f"{act.symbol}' of layer {m}'s z{m} used instead of z{l}"))
    return out


def _fprime_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """fprime{l} with the activation's own mistaken derivatives."""
    k, l = node[0], split(node[1])[1]
    act = g.net.layers[l - 1].activation
    z, a = (k, f"z{l}"), (k, f"a{l}")
    return [Variant(node, lambda get, m=m: m.derivative(get(z), get(a)), m.note.format(f=act.symbol, l=l))
            for m in act.mistakes]


def _factor(g: Graph, node: Node, fn: Callable) -> str:
    """': a factor 2' when the mistaken value is a constant multiple of the true one."""
    t = g.truth(node)
    alt = np.asarray(fn(g.truth), float)
    use = np.abs(t) > 1e-12
    if not use.any():
        return ""
    r = alt[use] / t[use]
    if not np.allclose(r, r.flat[0], rtol=1e-9) or math.isclose(r.flat[0], 1.0):
        return ""
    f = float(r.flat[0])
    return f" (a factor {f:.4g})" if f >= 1 else f" (a factor 1/{1 / f:.4g})"


def _update_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """The optimizer's own mistakes in the step, then: not updated, a sign error, η left out, the
    base η where a schedule gives another, a wrong η (plain descent)."""
    k, name = node
    kind, l = split(name)
    p = kind[0]
    old, grad = (k, f"{p}{l}"), (k, f"d{p}{l}")
    lr, plain = g.rate(k), g.optimizer(k) is None or not g.optimizer(k).moments
    step = lambda get, rate=None: g._updated(p, k, l, get, rate)  # noqa: E731
    out = _optimizer_variants(g, node)
    out += [Variant(node, lambda get: get(old), f"{'the bias' if p == 'b' else 'the weights'} not updated "
                                                f"({p}{l}_new = {p}{l})"),
            Variant(node, lambda get: 2 * get(old) - step(get),
                    f"a sign error in the update ({p}{l} + η d{p}{l} instead of {p}{l} - η d{p}{l})" if plain else
                    f"a sign error in the update ({p}{l} plus the step instead of minus)")]
    if lr != 1.0:
        out.append(Variant(node, lambda get: step(get, 1.0), f"the learning rate η = {lr:g} left out"))
    out += [Variant(node, lambda get, rate=rate: step(get, rate), text) for rate, text in _other_rates(g, k)]
    implied = _implied_rate(ev, node, old, grad) if plain else None
    if implied is not None and not math.isclose(implied, lr, rel_tol=1e-9) and implied not in (0.0, 1.0):
        out.append(Variant(node, lambda get: step(get, implied),
                           f"a wrong learning rate: η = {implied:g} used instead of {lr:g}"))
    return out


def _other_rates(g: Graph, k: int) -> list[tuple[float, str]]:
    """Under a learning-rate schedule, the rates a student may have used instead of update k's η_e:
    the base η, and the schedule's rate of the epoch after or before (its epochs counted from 1
    where the schedule counts from 0, or the other way), each with its note."""
    st = g.steps[k - 1]
    if st.lr_schedule is None or st.base_learning_rate is None:
        return []
    lr, e, n = st.learning_rate, st.epoch, len(g.problem.split()[0])
    where = f"the schedule's rate in epoch {e} is η = {lr:g}"
    out = [(st.base_learning_rate, f"the base learning rate η = {st.base_learning_rate:g} used; {where}")]
    for other in (e + 1, e - 1):  # 1-based epochs; the schedule's rate(e - 1) is epoch e's
        if other >= 1:
            out.append((float(st.lr_schedule.rate(other - 1, st.base_learning_rate, n)),
                        f"the rate of epoch {other} used (the epochs counted off by one); {where}"))
    seen: list[float] = [lr]
    kept = []
    for rate, text in out:  # a rate equal to the right one, or to one tried before, explains nothing new
        if not any(math.isclose(rate, r, rel_tol=1e-12) for r in seen):
            kept.append((rate, text))
            seen.append(rate)
    return kept


def _implied_rate(ev: Evaluator, node: Node, old: Node, grad: Node) -> float | None:
    """The learning rate the claimed update used, to 2 significant digits, if it has one."""
    c = ev.claimed.get(node)
    if c is None:
        return None
    o, d = ev.basis_value(old), ev.basis_value(grad)
    use = c[1] & (np.abs(d) > 1e-12)
    if not use.any():
        return None
    rates = (o[use] - c[0][use]) / d[use]
    rate = float(np.median(rates))
    if not math.isfinite(rate) or rate <= 0:
        return None
    # only a plausible slip: a round number (one significant digit) well away from eta
    rate = float(f"{rate:.1g}")
    lr = ev.g.rate(node[0])
    return rate if abs(rate - lr) > 0.2 * lr else None


def _generic(t: np.ndarray, v: np.ndarray | None, d: int) -> list[tuple[str, np.ndarray]]:
    """Sign, transposition and truncation, of the true value and of the follow-through one."""
    out = []
    for what, x in (("the true value", t), ("what follows from your numbers", v)):
        if x is None:
            continue
        out.append((f"a sign error (the negative of {what})", -x))
        if x.ndim == 2 and x.shape[0] == x.shape[1] > 1 and not np.allclose(x, x.T):
            out.append((f"a transposed matrix (the transpose of {what})", x.T))
        trunc = np.trunc(x * 10.0 ** d) / 10.0 ** d
        out.append((f"truncated (cut off) instead of rounded to {d} decimals ({what})", trunc))
    return out


def diagnose(g: Graph, ev: Evaluator, claim: Claim, wrong: np.ndarray, v, band) -> str:
    """The first common mistake that reproduces the wrong entries of ``claim``, or ''.

    ``wrong``: the entries (internal shape) that match neither the truth nor ``v``, the
    follow-through value, within its ``band``."""
    node, tol = claim.node, claim.tolerance
    t = g.truth(node)
    right = (t, np.zeros(t.shape)) if v is None else (v, band)  # what the right formula gives
    for target in ev.unclaimed_ancestors(node):
        for var in variants(g, ev, target):
            if _reproduces(ev, node, var, claim.value, wrong, tol, right):
                return var.text if var.node == node else f"{var.text}, in {label(var.node)}"
    return _generic_match(t, v, band, claim, wrong) or _copied(g, ev, claim, wrong)


def _reproduces(ev: Evaluator, node: Node, var: Variant, c: np.ndarray, wrong: np.ndarray, tol: float,
                right: tuple) -> bool:
    """The mistake, made at its node, gives the claimed entries ``c[wrong]``: from the student's
    own numbers (within the band their rounding allows) or from the true ones; and it is told
    apart from the right computation (``right``: its value and band), landing somewhere more
    than twice the band from it. A mistake that changes the result by less than the rounding
    could have explains nothing: it is not named."""
    c = c[wrong]
    val, b = ev.with_band(node, var)
    width = tol + np.maximum(b, right[1])[wrong]
    if close(c, val[wrong], tol + b[wrong]).all() and np.any(np.abs(val[wrong] - right[0][wrong]) > 2 * width):
        return True
    from_truth = ev.value(node, var, use_claims=False)[wrong]
    return bool(close(c, from_truth, tol).all() and np.any(np.abs(from_truth - ev.g.truth(node)[wrong]) > 2 * tol))


def _generic_match(t: np.ndarray, v, band, claim: Claim, wrong: np.ndarray) -> str:
    """A sign, transposition or truncation of the true or follow-through value that gives the claim."""
    c, tol, s = claim.value[wrong], claim.tolerance, claim.scale
    for text, alt in _generic(t / s, None if v is None else v / s, claim.decimals):
        alt = alt * s
        if alt.shape != t.shape:
            continue
        if text.startswith("truncated"):
            if close(c, alt[wrong], 1e-9 * tol).all() and not close(c, t[wrong], 1e-9 * tol).all():
                return text
            continue
        width = tol + (band[wrong] if band is not None and "follows" in text else 0.0)
        if close(c, alt[wrong], width).all():
            return text
    return ""


def _copied(g: Graph, ev: Evaluator, claim: Claim, wrong: np.ndarray) -> str:
    """Rows of the claim that equal rows of another number of the same update."""
    node, tol, value = claim.node, claim.tolerance, claim.value
    if value.ndim != 2:
        return ""
    k = node[0]
    names = ["a0"] + [f"{q}{l}" for l in range(1, g.L + 1) for q in ("W", "b", "z", "a", "dL_da", "delta", "dW", "db")]
    names += [f"{p}{l}_new" for l in range(1, g.L + 1) for p in "Wb"]
    found = []
    for i in np.nonzero(wrong.any(axis=1))[0]:
        hit = _row_source(g, ev, k, [n for n in names if n != node[1]], value[i], tol)
        if hit:
            found.append(f"row {i + 1} equals {hit}")
    return "; ".join(found)


def _row_source(g: Graph, ev: Evaluator, k: int, names: list, row: np.ndarray, tol: float) -> str:
    """'dW2 row 1' (or 'the input x (a0)'): the first number of update k with ``row`` as a row."""
    for other in names:
        cands = [g.truth((k, other))]
        mine = ev.claimed.get((k, other))
        if mine is not None and mine[1].all():
            cands.insert(0, mine[0])
        hit = _row_match(row, cands, tol)
        if hit is not None:
            what = "the input x (a0)" if other == "a0" else label((k, other))
            return what + (f" row {hit + 1}" if hit >= 0 else "")
    return ""


def _row_match(row: np.ndarray, cands: list, tol: float) -> int | None:
    """The index of the row of a candidate that equals ``row`` (-1 for a one-row candidate)."""
    for arr in cands:
        arr = np.atleast_2d(arr)
        if arr.shape[1] != row.shape[0] or np.all(np.abs(row) <= tol):
            continue
        for j, r in enumerate(arr):
            if close(row, r, tol).all():
                return j if arr.shape[0] > 1 else -1
    return None
