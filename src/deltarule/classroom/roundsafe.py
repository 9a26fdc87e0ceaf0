"""Round-safe numbers: draw exercises whose every asked answer survives rounding by hand.

An exercise is *round-safe* at d decimals when every asked value

(a) is at least ``MARGIN`` (0.1) of a unit in the d-th decimal away from a rounding boundary,
    so no honest slip of the last digit can flip it;
(b) shows the same at d decimals when a student rounds every number the worked solution
    shows (z, a, f'(z), dL/da, delta, gradients, new weights, losses) to d decimals and
    computes each from the rounded numbers before it, as the notes do; and
(c) does not show as zero (unless the template says ``allow_zero``).

Candidates are drawn in bulk and screened together: :func:`walk` is the forward pass, the
delta rule and the update on C candidates at once, arrays (C, n, units), with a rounding
function applied to every number the solution shows. It uses the registry's formulas
(``Activation.value``/``derivative``/``backward``, ``Loss.value``/``grad``, the fused output
delta ŷ − y, an optimizer's ``advance``/``correct``/``apply``) and never retypes one. The
screen rounds as :func:`deltarule.formatting.fmt`
does (halves away from zero), with a relative slack of 1e-12 for float noise; the chosen
candidate is then confirmed against the core's own trace with ``fmt`` itself (:func:`confirm`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..formatting import fmt

MARGIN = 0.1        # of a unit in the last shown decimal
BATCH = 8192        # candidates screened at once
MAX_DRAWS = 2_000_000
HOPELESS = 16 * BATCH  # after this many draws, a number that failed in every one is refused at once
Rounder = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Spec:
    """What is the same for every candidate: activations, loss, reduction, frozen parts, the batch,
    the optimizer (None: plain gradient descent)."""

    activations: tuple
    loss: object
    reduction: str
    trained: tuple
    examples: tuple
    optimizer: object = None

    @classmethod
    def of(cls, problem) -> Spec:
        """The structure of ``problem``'s first update."""
        net = problem.network
        step = problem.steps(1)[0]
        return cls(tuple(lay.activation for lay in net.layers), net.loss, net.reduction,
                   tuple((lay.train_weights, lay.train_biases) for lay in net.layers), tuple(step.examples),
                   step.optimizer)


@dataclass
class Candidates:
    """C candidate problems: W[l] (C, units, fan_in), b[l] (C, units), x (C, n, d), y (C, n, K),
    lr (C,), and the drawn numbers by template path, each (C,)."""

    W: list
    b: list
    x: np.ndarray
    y: np.ndarray
    lr: np.ndarray
    drawn: dict

    def pick(self, c: int) -> dict:
        """The drawn numbers of candidate ``c`` by path."""
        return {path: float(v[c]) for path, v in self.drawn.items()}


def draw(template, rng: np.random.Generator, size: int) -> Candidates:
    """``size`` candidates: the template's fixed numbers, its draws sampled (in document order)."""
    from .template import slot

    base = template.base
    tile = lambda a: np.repeat(np.asarray(a, dtype=np.float64)[None], size, axis=0)
    W = [tile(lay.W) for lay in base.network.layers]
    b = [tile(lay.b) for lay in base.network.layers]
    cand = Candidates(W, b, tile(base.x), tile(base.y), np.full(size, float(base.learning_rate)), {})
    for path, d in template.draws:
        values = d.sample(rng, size)
        cand.drawn[path] = values
        kind, l, index = slot(path)
        if kind == "lr":
            cand.lr = values
        else:
            target = W[l] if kind == "W" else b[l] if kind == "b" else cand.x if kind == "x" else cand.y
            target[(slice(None), *index)] = values
    return cand


# -- rounding ---------------------------------------------------------------------------------------
def fast_rounder(decimals: int) -> Rounder:
    """Round half away from zero to ``decimals`` places, vectorised (fmt's rule; float noise of
    up to 1e-12 relative below a half counts as the half, as fmt's 15 significant digits do)."""
    scale = 10.0**decimals
    return lambda v: units(v, decimals) / scale


def exact_rounder(decimals: int) -> Rounder:
    """Round with :func:`deltarule.formatting.fmt` itself, number by number (for a few candidates)."""
    one = np.vectorize(lambda v: float(fmt(v, decimals)), otypes=[np.float64])
    return lambda v: one(np.asarray(v, dtype=np.float64))


def units(v: np.ndarray, decimals: int) -> np.ndarray:
    """The shown value in units of the last decimal (an integer-valued float array)."""
    return np.sign(v) * np.floor(np.abs(v) * 10.0**decimals * (1 + 1e-12) + 0.5)


def _identity(v: np.ndarray) -> np.ndarray:
    return v


# -- the pass, on many candidates at once ---------------------------------------------------------------
def _forward(spec: Spec, Ws, bs, x, rnd: Rounder) -> tuple[list, list]:
    """z_l = W_l a_{l-1} + b_l, a_l = f_l(z_l), each rounded before it is used: (C, n, units)."""
    zs, acts, prev = [], [], x
    for f, W, b in zip(spec.activations, Ws, bs):
        z = rnd(np.einsum("cij,cnj->cni", W, prev) + b[:, None, :])
        a = rnd(f.value(z))
        zs.append(z), acts.append(a)
        prev = a
    return zs, acts


def _losses(spec: Spec, yhat, y, rnd: Rounder) -> tuple[np.ndarray, np.ndarray]:
    """Each example's loss from the (rounded) output, as a student computes it, and the batch loss."""
    per = rnd(spec.loss.value(yhat, y))
    return per, rnd(per.mean(axis=-1) if spec.reduction == "mean" else per.sum(axis=-1))


def _backward(spec: Spec, cand: Candidates, zs, acts, x, y, rnd: Rounder, out: dict) -> None:
    """The delta rule from the rounded numbers; the gradients and new parameters into ``out``."""
    L, n = len(spec.activations), x.shape[1]
    scale = 1.0 / n if spec.reduction == "mean" else 1.0
    fused = spec.activations[-1].name in (spec.loss.fused or {})
    delta_up = None
    for l in range(L - 1, -1, -1):
        f, z, a = spec.activations[l], zs[l], acts[l]
        fp = rnd(f.derivative(z, a))
        if l == L - 1:
            dL_da = rnd(scale * spec.loss.grad(a, y))
        else:
            dL_da = rnd(np.einsum("cki,cnk->cni", cand.W[l + 1], delta_up))
        if l == L - 1 and fused:
            delta = rnd(scale * (a - y))       # the fused pair's delta, y-hat - y (times 1/n)
        elif f.elementwise:
            delta = rnd(dL_da * fp)
        else:
            delta = rnd(f.backward(dL_da, z, a))
        prev = x if l == 0 else acts[l - 1]
        dW, db = rnd(np.einsum("cni,cnj->cij", delta, prev)), rnd(delta.sum(axis=1))
        tw, tb = spec.trained[l]
        k = l + 1
        W_new = _update(spec, cand.W[l], dW, cand.lr[:, None, None], f"W{k}", tw, rnd, out)
        b_new = _update(spec, cand.b[l], db, cand.lr[:, None], f"b{k}", tb, rnd, out)
        out.update({f"fprime{k}": fp, f"dL_da{k}": dL_da, f"delta{k}": delta, f"dW{k}": dW, f"db{k}": db,
                    f"W{k}_new": W_new, f"b{k}_new": b_new})
        delta_up = delta


def _update(spec: Spec, value, grad, lr, p: str, trained: bool, rnd: Rounder, out: dict):
    """The new parameter from the rounded gradient: gradient descent θ - η g, or the first step of
    the optimizer (its stages from a zero state at t = 1: Optimizer.advance, correct, apply),
    each number it shows rounded; its state (zero for a frozen parameter) and _hat values into ``out``."""
    opt = spec.optimizer
    if opt is None:
        return rnd(value - lr * grad) if trained else value
    out["t"] = np.ones(value.shape[0])
    zeros = tuple(np.zeros_like(grad) for _ in opt.moments)
    if not trained:
        out.update({f"{m}{p}": z for m, z in zip(opt.moments, zeros)})
        return value
    new = tuple(rnd(m) for m in opt.advance(grad, zeros, 1))
    hats = tuple(rnd(h) for h in opt.correct(new, 1))
    out.update({f"{m}{p}": v for m, v in zip(opt.moments, new)})
    out.update({f"{m}{p}_hat": v for m, v in zip(opt.hats, hats)})
    return rnd(opt.apply(value, grad, new, hats, lr, 1, p[0] == "W"))


def walk(spec: Spec, cand: Candidates, rnd: Rounder = _identity) -> dict[str, np.ndarray]:
    """Every number of the first update for every candidate, each rounded by ``rnd`` before it is
    used (identity: the true values). Per-example names are (C, n, units); dW (C, units, fan_in);
    loss, loss_after (C,); losses (C, n)."""
    ex = list(spec.examples)
    x, y = cand.x[:, ex], cand.y[:, ex]
    zs, acts = _forward(spec, cand.W, cand.b, x, rnd)
    out: dict[str, np.ndarray] = {}
    for k, (z, a) in enumerate(zip(zs, acts), start=1):
        out[f"z{k}"], out[f"a{k}"] = z, a
    out["losses"], out["loss"] = _losses(spec, acts[-1], y, rnd)
    _backward(spec, cand, zs, acts, x, y, rnd, out)
    L = len(spec.activations)
    new = Candidates([out[f"W{k}_new"] for k in range(1, L + 1)], [out[f"b{k}_new"] for k in range(1, L + 1)],
                     cand.x, cand.y, cand.lr, {})
    after = _forward(spec, new.W, new.b, x, rnd)[1]
    out["loss_after"] = _losses(spec, after[-1], y, rnd)[1]
    return out


# -- the screen ---------------------------------------------------------------------------------------
def verdicts(truth: np.ndarray, student: np.ndarray, decimals: int, zero_ok: bool) -> dict[str, np.ndarray]:
    """Per candidate (axis 0), whether any entry is near a boundary, drifts, or shows as zero."""
    C = truth.shape[0]
    t, s = truth.reshape(C, -1), student.reshape(C, -1)
    scaled = np.abs(t) * 10.0**decimals
    near = np.abs(scaled - np.floor(scaled) - 0.5) < MARGIN
    shown = units(t, decimals)
    bad = {"near a rounding boundary": near.any(axis=1) | ~np.isfinite(t).all(axis=1),
           "changed by rounding the steps before it": (units(s, decimals) != shown).any(axis=1)}
    if not zero_ok:
        bad["shown as zero"] = (shown == 0).any(axis=1)
    return bad


def screen(spec: Spec, cand: Candidates, asked, decimals: int, allow_zero=frozenset(),
           why: Counter | None = None) -> np.ndarray:
    """(C,) True for the candidates that are round-safe in every asked name; ``why`` counts the
    reasons the others fail, per (name, reason)."""
    with np.errstate(all="ignore"):  # absurd candidates may overflow: they are refused, not warned about
        truth = walk(spec, cand)
        student = walk(spec, cand, fast_rounder(decimals))
    ok = np.ones(cand.x.shape[0], dtype=bool)
    for name in asked:
        for reason, bad in verdicts(truth[name], student[name], decimals, name in allow_zero).items():
            ok &= ~bad
            if why is not None:
                why[(name, reason)] += int(bad.sum())
    return ok


def one(problem) -> Candidates:
    """A concrete problem as a batch of one candidate."""
    net = problem.network
    lift = lambda a: np.asarray(a, dtype=np.float64)[None]
    return Candidates([lift(l.W) for l in net.layers], [lift(l.b) for l in net.layers], lift(problem.x),
                      lift(problem.y), np.array([float(problem.learning_rate)]), {})


def truth_values(problem) -> dict[str, np.ndarray]:
    """Every askable number of the first update, from the core's trace, in the checker's shapes
    (``Step.values()``: a one-example update gives vectors), plus ``fprime{l}`` and ``losses``."""
    step = problem.steps(1)[0]
    values = dict(step.values())
    single = len(step.examples) == 1
    for k, (lay, lt) in enumerate(zip(step.before.layers, step.trace.layers), start=1):
        fp = lay.activation.derivative(lt.z, lt.a)
        values[f"fprime{k}"] = fp[0] if single else fp
    values["losses"] = np.asarray(step.trace.per_example_loss)
    return values


def confirm(problem, asked, decimals: int, allow_zero=frozenset()) -> bool:
    """Round-safety of one concrete problem, judged against the core's own values with ``fmt``."""
    spec, cand = Spec.of(problem), one(problem)
    truth = truth_values(problem)
    with np.errstate(all="ignore"):
        mine = walk(spec, cand)
        student = walk(spec, cand, exact_rounder(decimals))
    for name in asked:
        t = np.asarray(truth[name], dtype=np.float64).reshape(1, -1)
        if not np.allclose(mine[name].reshape(1, -1), t, rtol=1e-9, atol=1e-12):
            raise InputError(f"{name}: the round-safety check does not model this problem's update "
                             f"(it computes {mine[name].ravel()[:3]}, the core {t.ravel()[:3]})",
                             "asked", problem.source)
        bad = verdicts(t, student[name].reshape(1, -1), decimals, name in allow_zero)
        if any(b[0] for b in bad.values()):
            return False
    return True


def distinct(template, cap: int = 10**12) -> int:
    """How many different candidates the template can draw (at most ``cap``)."""
    total = 1
    for _, d in template.draws:
        lo, hi = d.grid() if d.kind == "uniform" else (0, len(set(d.options)) - 1)
        total = min(cap, total * (hi - lo + 1))
    return total


def search(template, rng: np.random.Generator, name: str = "", max_draws: int = MAX_DRAWS):
    """The first round-safe candidate drawn from ``rng``: (drawn numbers by path, its concrete
    problem document, the Problem, how many candidates were drawn). InputError (one line) when
    none is found within ``max_draws``."""
    from ..problem import parse_problem

    spec, decimals = Spec.of(template.base), template.base.decimals
    max_draws = min(max_draws, max(BATCH, 50 * distinct(template)))  # a small grid is soon exhausted
    why: Counter = Counter()
    used = 0
    while used < max_draws:
        size = min(BATCH, max_draws - used)
        cand = draw(template, rng, size)
        for c in np.flatnonzero(screen(spec, cand, template.asked, decimals, template.allow_zero, why)):
            doc = template.concrete(cand.pick(c), name)
            problem = parse_problem(doc, template.source, template.base_dir)
            if confirm(problem, template.asked, decimals, template.allow_zero):
                return cand.pick(c), doc, problem, used + int(c) + 1
        used += size
        if used >= HOPELESS and max(why.values(), default=0) == used:
            break  # one asked number fails in every candidate so far: it will not stop failing
    # the commonest failure; on a tie, 'shown as zero' (the one a template can allow)
    (worst, reason), count = max(why.items(), key=lambda kv: (kv[1], kv[0][1] == "shown as zero"))
    raise InputError(f"no round-safe exercise in {used:,} draws at {decimals} decimals: {worst} is "
                     f"{reason} in {100 * count / max(used, 1):.0f}% of them (widen the draws, ask for fewer "
                     f"numbers{', or allow_zero' if reason == 'shown as zero' else ''})", "asked", template.source)
