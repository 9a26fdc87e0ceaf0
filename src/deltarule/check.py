"""deltarule check: a hand-worked solution judged as a fair marker judges it.

An answers file (YAML or JSON) claims numbers under the canonical names::

    problem: seed-003.yaml      # relative to this file, or a built-in example name
    decimals: 2                 # how the numbers were rounded (else the problem's, else 3)
    answers:
      z1: [0.41, 0.47]          # per-example quantities: a vector for a one-example update
      dW1[1,2]: 0.08            # a single entry, 1-based as in the notes
      step2.W1_new: [[0.1, 0.3], [0.2, 0.4]]   # a later update
      loss: {value: 0.0208, decimals: 4}        # a number stated to other decimals

Names: ``z{l} a{l} dL_da{l} delta{l} dW{l} db{l} W{l}_new b{l}_new loss loss_after``.

Judging (the contract's rule). With d the claim's decimals, a claimed c is right when
``|c - v| <= 1/2 * 10^-d`` (ties right, relative slack 1e-9), where v is

* the true value (always enough), or
* the value that FOLLOWS from the student's own earlier claimed numbers: the node's formula
  (the core's ``Activation``/``Loss`` objects, ``a @ W.T + b`` and so on) applied to the
  claims, recursively through numbers that were not claimed. The band is then widened by
  the effect of each claimed input moving by half a unit of its own decimals (evaluated at
  the perturbed inputs, summed over the inputs).

A wrong number is diagnosed by recomputing common mistakes (another loss convention, f(z)
used for f'(z), f' of the wrong quantity, a sign error, a missing or wrong learning rate,
the wrong layer's activations, a transposed matrix, a bias not updated, hidden deltas
from updated weights, truncation) with the same formulas and matching them within the
same tolerance; otherwise the note gives the true value and the formula it comes from.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import losses as _loss
from .errors import InputError
from .problem import Problem, _kind, integer, mapping, matrix, number, vector

ANSWERS_FIELDS = ("problem", "decimals", "answers", "name", "description")
ENTRY_FIELDS = ("value", "decimals")
MAX_STEPS = 10_000
KINDS = ("z", "a", "dL_da", "delta", "dW", "db")
PER_EXAMPLE = ("z", "a", "dL_da", "delta")
NAME_HELP = "z{l}, a{l}, dL_da{l}, delta{l}, dW{l}, db{l}, W{l}_new, b{l}_new, loss, loss_after"
_NAME = re.compile(r"^(?:step(?P<step>\d+)\.)?(?P<base>loss_after|loss|(?:z|a|dL_da|delta|dW|db)\d+"
                   r"|[Wb]\d+_new)(?:\[(?P<i>\d+)(?:,(?P<j>\d+))?\])?$")
_BASE = re.compile(r"^(loss_after|loss|z|a|dL_da|delta|dW|db|W|b)(\d*)(_new)?$")
Node = tuple  # (step k, base name): (1, "dW1")


def split(name: str) -> tuple[str, int]:
    """('dW', 1) for 'dW1', ('W_new', 2) for 'W2_new', ('loss', 0) for 'loss'."""
    m = _BASE.match(name)
    return (m.group(1) + (m.group(3) or "")), int(m.group(2) or 0)


def half_unit(decimals: int) -> float:
    """1/2 * 10^-d: how far a number stated to d decimals may be from the value and be right."""
    return 0.5 * 10.0 ** -decimals


def close(c: np.ndarray, v: np.ndarray, tol: Any) -> np.ndarray:
    """|c - v| <= tol, ties right, with a relative slack of 1e-9 for floating point."""
    c, v = np.asarray(c, float), np.asarray(v, float)
    with np.errstate(all="ignore"):  # a non-finite value (from absurd claims) matches nothing
        slack = 1e-9 * np.maximum(np.maximum(np.abs(c), np.abs(v)), tol)
        return np.isfinite(v) & np.isfinite(c) & (np.abs(c - v) <= tol + slack)


# -- answers files ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """One claimed name: ``node`` (step, base), ``mask`` of the entries it claims (internal
    shape), ``value`` (internal shape, NaN elsewhere), ``decimals``, and as written."""

    key: str
    node: Node
    mask: np.ndarray
    value: np.ndarray
    decimals: int
    given: Any
    display_shape: tuple
    index: tuple | None


def _depth(v: Any) -> int:
    return 1 + _depth(v[0]) if isinstance(v, list) and v else (1 if isinstance(v, list) else 0)


def read_value(v: Any, shape: tuple, path: str) -> np.ndarray:
    """A claimed number, vector or matrix of ``shape`` (as Step.values() gives it); a value
    whose squeezed shape matches (a 1x1 matrix as a number, a column as a list) is accepted."""
    readers = {0: lambda x: np.asarray(number(x, path)), 1: lambda x: vector(x, path),
               2: lambda x: matrix(x, path)}
    exact = {0: lambda x: np.asarray(number(x, path)),
             1: lambda x: vector(x, path, shape[0] if shape else None),
             2: lambda x: matrix(x, path, *shape)}
    depth = min(_depth(v), 2)
    if depth != len(shape) and depth in readers:
        arr = readers[depth](v)
        if arr.size == math.prod(shape) and arr.squeeze().shape == np.zeros(shape).squeeze().shape:
            return arr.reshape(shape)
    return exact[len(shape)](v)


def _shape_text(shape: tuple) -> str:
    if not shape:
        return "a number"
    if len(shape) == 1:
        return f"{shape[0]} numbers"
    return f"{shape[0]} rows of {shape[1]}"


def parse_claims(answers: Any, steps: list, decimals: int, file: str = "") -> list[Claim]:
    """Validate the ``answers:`` mapping against the problem's shapes; one Claim per name."""
    if not isinstance(answers, dict) or not answers:
        raise InputError(f"expected a mapping of names to numbers, got "
                         f"{_kind(answers) if answers != {} else 'an empty mapping'}", "answers", file)
    claims = []
    for key, raw in answers.items():
        path = f"answers.{key}"
        k, base, index = parse_name(key, len(steps[0].trace.layers), path)
        values = steps[k - 1].values()
        truth = np.asarray(values[base])
        internal = _internal(steps[k - 1], base).shape
        d = decimals
        if isinstance(raw, dict):
            mapping(raw, path, ENTRY_FIELDS)
            if "value" not in raw:
                raise InputError("missing field 'value'", path)
            if "decimals" in raw:
                d = integer(raw["decimals"], f"{path}.decimals", 0)
                if d > 15:
                    raise InputError(f"at most 15 decimals are meaningful, got {d}", f"{path}.decimals")
            raw = raw["value"]
            path = f"{path}.value"
        mask = np.zeros(internal, bool)
        value = np.full(internal, np.nan)
        if index is None:
            arr = read_value(raw, truth.shape, path)
            mask[...] = True
            value[...] = arr.reshape(internal)
        else:
            if len(index) != truth.ndim:
                how = ("no index", "one index [i]", "two indices [i,j]")[truth.ndim]
                raise InputError(f"{base} is {_shape_text(truth.shape)}: give {how}", path)
            if any(i < 0 or i >= n for i, n in zip(index, truth.shape)):
                raise InputError(f"index out of range: {base} is {_shape_text(truth.shape)} "
                                 f"(indices start at 1)", path)
            flat = np.ravel_multi_index(index, truth.shape)
            where = np.unravel_index(flat, internal)
            mask[where] = True
            value[where] = number(raw, path)
        claims.append(Claim(str(key), (k, base), mask, value, d, raw, truth.shape, index))
    return claims


def parse_name(key: Any, layers: int, path: str) -> tuple[int, str, tuple | None]:
    """(step, base name, 0-based index or None) of an answers key such as ``step2.dW1[1,2]``."""
    if not isinstance(key, str):
        raise InputError(f"a name must be text, got {_kind(key)}; names: {NAME_HELP}", path)
    m = _NAME.match(re.sub(r"\s+", "", key))
    if not m:
        raise InputError(f"unknown name {key!r}; names are {NAME_HELP} (l = 1..{layers}), "
                         f"'step2.' for a later update, '[i,j]' for one entry", path)
    base = m.group("base")
    kind, l = split(base)
    if kind not in ("loss", "loss_after") and not 1 <= l <= layers:
        raise InputError(f"unknown name {key!r}: there is no layer {l} (layers are 1..{layers})", path)
    k = int(m.group("step") or 1)
    if not 1 <= k <= MAX_STEPS:
        raise InputError(f"updates are numbered 1..{MAX_STEPS}, got step{k}", path)
    index = None
    if m.group("i") is not None:
        index = tuple(int(g) - 1 for g in (m.group("i"), m.group("j")) if g is not None)
    return k, base, index


def _internal(step, base: str) -> np.ndarray:
    """The true value in the checker's shapes: per-example quantities (n, units), always."""
    kind, l = split(base)
    if kind == "loss":
        return np.asarray(step.loss)
    if kind == "loss_after":
        return np.asarray(step.loss_after)
    if kind == "a" and l == 0:
        return np.asarray(step.trace.x)
    if kind in ("W_new", "b_new"):
        return np.asarray(getattr(step.after.layers[l - 1], kind[0]))
    return np.asarray(getattr(step.trace.layers[l - 1], kind))


# -- the computation, node by node, with the core's formulas -----------------------------------------
class Graph:
    """Every number of the first K updates as a node ``(k, name)`` computed from its parents.

    ``compute(node, get)`` applies the node's formula to ``get(parent)``: with ``get`` giving
    true values it reproduces the trace; with the student's claims it gives follow-through.
    Parameters of update k > 1 are the W_new, b_new of update k - 1.
    """

    def __init__(self, problem: Problem, steps: list):
        self.problem, self.steps = problem, steps
        self.net = problem.network
        self.L = len(self.net.layers)

    def truth(self, node: Node) -> np.ndarray:
        """The true value of ``node`` (internal shape), read from the traces."""
        return _internal(self.steps[node[0] - 1], node[1])

    def parents(self, node: Node) -> tuple:
        """The nodes that ``node``'s formula reads (``dW1`` <- ``delta1``, ``a0``)."""
        k, name = node
        kind, l = split(name)
        L = self.L
        table = {
            "W": ((k - 1, f"W{l}_new"),) if k > 1 else (),
            "b": ((k - 1, f"b{l}_new"),) if k > 1 else (),
            "z": ((k, f"a{l - 1}"), (k, f"W{l}"), (k, f"b{l}")),
            "a": ((k, f"z{l}"),) if l else (),
            "loss": ((k, f"a{L}"),),  # from yhat, as a student computes it
            "dL_da": ((k, f"a{L}"),) if l == L else ((k, f"delta{l + 1}"), (k, f"W{l + 1}")),
            "delta": ((k, f"dL_da{l}"), (k, f"z{l}"), (k, f"a{l}")),
            "dW": ((k, f"delta{l}"), (k, f"a{l - 1}")),
            "db": ((k, f"delta{l}"),),
            "W_new": ((k, f"W{l}"), (k, f"dW{l}")),
            "b_new": ((k, f"b{l}"), (k, f"db{l}")),
            "loss_after": tuple((k, f"{p}{i}_new") for i in range(1, L + 1) for p in "Wb"),
        }
        return table[kind]

    def compute(self, node: Node, get: Callable, loss=None, reduction=None) -> np.ndarray:
        """The node's formula on its parents' values (``loss``/``reduction`` override the net's)."""
        k, name = node
        kind, l = split(name)
        net, tr = self.net, self.steps[k - 1].trace
        loss, reduction = loss or net.loss, reduction or net.reduction
        lay = net.layers[l - 1] if l else None
        if kind in ("W", "b"):
            return getattr(tr.layers[l - 1], kind) if k == 1 else get((k - 1, f"{kind}{l}_new"))
        if kind == "a" and l == 0:
            return np.asarray(tr.x)
        if kind == "z":
            return get((k, f"a{l - 1}")) @ get((k, f"W{l}")).T + get((k, f"b{l}"))
        if kind == "a":
            return lay.activation.value(get((k, f"z{l}")))
        if kind == "loss" or (kind == "dL_da" and l == self.L):
            a = get((k, f"a{self.L}"))
            if kind == "loss":  # from yhat, as a student computes it
                return np.asarray(_loss.reduce(loss.value(a, np.asarray(tr.y)), reduction))
            # dL/da depends on a alone; z enters only the delta that output_layer also returns
            z = get((k, f"z{self.L}"))
            return _loss.output_layer(loss, net.layers[-1].activation, z, a, np.asarray(tr.y), reduction)[1]
        if kind == "dL_da":
            return get((k, f"delta{l + 1}")) @ get((k, f"W{l + 1}"))
        if kind == "delta":
            return lay.activation.backward(get((k, f"dL_da{l}")), get((k, f"z{l}")), get((k, f"a{l}")))
        if kind == "dW":
            return get((k, f"delta{l}")).T @ get((k, f"a{l - 1}"))
        if kind == "db":
            return get((k, f"delta{l}")).sum(axis=0)
        if kind in ("W_new", "b_new"):
            p = kind[0]
            old, grad = get((k, f"{p}{l}")), get((k, f"d{p}{l}"))
            trained = lay.train_weights if p == "W" else lay.train_biases
            return old - self.problem.learning_rate * grad if trained else old
        return self._loss_after(k, get, loss, reduction)

    def _loss_after(self, k: int, get: Callable, loss, reduction) -> np.ndarray:
        from .network import Network

        tr = self.steps[k - 1].trace
        layers = tuple(replace(lay, W=np.asarray(get((k, f"W{i}_new")), float),
                               b=np.asarray(get((k, f"b{i}_new")), float))
                       for i, lay in enumerate(self.net.layers, start=1))
        return np.asarray(Network(layers, loss, reduction).evaluate(tr.x, tr.y))

    def formula(self, node: Node) -> str:
        """How the node is computed, in words the notes use."""
        k, name = node
        kind, l = split(name)
        L, net = self.L, self.net
        act = net.layers[l - 1].activation.name if l else ""
        lr = self.problem.learning_rate
        return {
            "z": f"W{l} a{l - 1} + b{l}" + (" (a0 = x)" if l == 1 else ""),
            "a": f"{act}(z{l})",
            "loss": f"{net.loss.name} ({getattr(net.loss, 'text', '') or net.loss.description}) of a{L} "
                    f"and y, {net.reduction} over the examples",
            "dL_da": (f"dL/da{L} of {net.loss.name}" if l == L else f"W{l + 1}^T delta{l + 1}"),
            "delta": f"dL_da{l} * {act}'(z{l})",
            "dW": f"delta{l} a{l - 1}^T" + (" (a0 = x)" if l == 1 else ""),
            "db": f"delta{l}" + (" summed over the batch" if len(self.steps[k - 1].examples) > 1 else ""),
            "W_new": f"W{l} - {lr:g} dW{l}",
            "b_new": f"b{l} - {lr:g} db{l}",
            "loss_after": "the loss with the updated W and b",
        }[kind]


@dataclass
class Variant:
    """A mistaken formula for one node: ``fn(get)`` replaces ``Graph.compute`` there."""

    node: Node
    fn: Callable
    text: str


class Evaluator:
    """Follow-through values and their rounding bands, from a set of claims."""

    def __init__(self, graph: Graph, claims: list[Claim]):
        self.g = graph
        self._cache: dict = {}
        self.claimed: dict[Node, tuple] = {}
        for c in claims:  # merge: later claims of the same entries win
            value, mask, half = self.claimed.get(
                c.node, (np.full(c.mask.shape, np.nan), np.zeros(c.mask.shape, bool), np.zeros(c.mask.shape)))
            value, mask, half = value.copy(), mask | c.mask, half.copy()
            value[c.mask] = c.value[c.mask]
            half[c.mask] = half_unit(c.decimals)
            self.claimed[c.node] = (value, mask, half)

    def value(self, target: Node, variant: Variant | None = None, perturb=None, use_claims=True):
        """The target's formula on its parents' basis values (claims over follow-through)."""
        memo: dict = {}
        claimed = self.claimed if use_claims else {}

        def basis(n):
            if n not in memo:
                c = claimed.get(n)
                if c is not None and c[1].all():
                    v = c[0]
                else:
                    v = ft(n)
                    if c is not None:
                        v = np.where(c[1], c[0], v)
                if perturb is not None and perturb[0] == n:
                    v = np.array(v, float)
                    v[perturb[1]] += perturb[2]
                memo[n] = v
            return memo[n]

        def ft(n):
            if variant is not None and variant.node == n:
                return np.asarray(variant.fn(basis), float)
            return np.asarray(self.g.compute(n, basis), float)

        # fill the memo update by update (no recursion through many updates), reusing the
        # parameters of updates that a perturbation cannot reach
        cache = self._cache.setdefault(use_claims, {})
        limit = target[0] if perturb is None else min(target[0], perturb[0][0])
        for n in self._earlier_parameters(target[0], claimed):
            if n[0] < limit and n in cache:
                memo[n] = cache[n]
            else:
                basis(n)
                if perturb is None:
                    cache[n] = memo[n]
        return ft(target)

    def _earlier_parameters(self, k: int, claimed: dict) -> list:
        """W_new, b_new of the updates before k, from the last fully claimed one on."""
        params = lambda j: [(j, f"{p}{l}_new") for l in range(1, self.g.L + 1) for p in "Wb"]  # noqa: E731
        start = 1
        for j in range(k - 1, 0, -1):
            if all(n in claimed and claimed[n][1].all() for n in params(j)):
                start = j + 1
                break
        return [n for j in range(start, k) for n in params(j)]

    def basis_value(self, node: Node) -> np.ndarray:
        """What the student used for ``node``: their claim where they gave one, else follow-through."""
        c = self.claimed.get(node)
        if c is not None and c[1].all():
            return c[0]
        v = self.value(node)
        return v if c is None else np.where(c[1], c[0], v)

    def frontier(self, target: Node) -> list[Node]:
        """Claimed nodes that feed the target, reached through numbers not (fully) claimed."""
        out, seen, stack = [], {target}, list(self.g.parents(target))
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            c = self.claimed.get(n)
            if c is not None:
                out.append(n)
                if c[1].all():
                    continue
            stack.extend(self.g.parents(n))
        return sorted(out, key=_order)

    def unclaimed_ancestors(self, target: Node) -> list[Node]:
        """The target and the numbers of its update it is computed from that were not claimed."""
        out, seen, queue = [], set(), [target]
        while queue:
            n = queue.pop(0)  # nearest first
            if n in seen or n[0] != target[0]:
                continue
            seen.add(n)
            c = self.claimed.get(n)
            if n != target and c is not None and c[1].all():
                continue
            out.append(n)
            queue.extend(self.g.parents(n))
        return out

    def with_band(self, target: Node, variant: Variant | None = None, influence: dict | None = None):
        """Follow-through value and the half-width its claimed inputs' rounding allows
        (each claimed entry moved by half a unit both ways; ``influence`` collects, per input
        node, how much it moved the target)."""
        v0 = self.value(target, variant)
        band = np.zeros(v0.shape)
        for n in self.frontier(target):
            before = band.copy()
            value, mask, half = self.claimed[n]
            for idx in zip(*np.nonzero(mask)) if mask.ndim else [()]:
                worst = np.zeros(v0.shape)
                for s in (1.0, -1.0):
                    v = self.value(target, variant, perturb=(n, idx, s * half[idx]))
                    worst = np.maximum(worst, np.abs(v - v0))
                band += worst
            if influence is not None:
                influence[n] = float(np.max(band - before, initial=0.0))
        return v0, band


def _order(node: Node) -> tuple:
    """Forward quantities, the loss, then backwards layer by layer, then the updates."""
    kind, l = split(node[1])
    if kind in ("W", "b", "z", "a"):
        return node[0], 0, l, ("W", "b", "z", "a").index(kind)
    if kind == "loss":
        return node[0], 1, 0, 0
    if kind in ("dL_da", "delta", "dW", "db"):
        return node[0], 2, -l, ("dL_da", "delta", "dW", "db").index(kind)
    return node[0], 3, l if l else 10**6, ("W_new", "b_new", "loss_after").index(kind)


# -- diagnoses: common mistakes, recomputed with the same formulas -----------------------------------
_SYMBOL = {"sigmoid": "σ"}


def variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    """The mistaken formulas worth trying at ``node``."""
    k, name = node
    kind, l = split(name)
    if kind in ("loss", "loss_after") or (kind == "dL_da" and l == g.L):
        return _loss_variants(g, node)
    out: list[Variant] = []
    if kind == "delta":
        out += _derivative_variants(g, node)
    elif kind == "dL_da":
        W = g.truth((k, f"W{l + 1}"))
        if W.shape[0] == W.shape[1]:
            out.append(Variant(node, lambda get: get((k, f"delta{l + 1}")) @ get((k, f"W{l + 1}")).T,
                               f"W{l + 1} used without transposing (W{l + 1} delta{l + 1} instead of "
                               f"W{l + 1}^T delta{l + 1})"))
        out.append(Variant(node, lambda get: get((k, f"delta{l + 1}")) @ get((k, f"W{l + 1}_new")),
                           f"computed from the already-updated weights W{l + 1}_new instead of W{l + 1}"))
    elif kind == "dW":
        fan_in = g.truth((k, f"W{l}")).shape[1]
        for m in range(0, g.L + 1):
            if m != l - 1 and g.truth((k, f"a{m}")).shape[1] == fan_in:
                what = "the input x (a0)" if m == 0 else f"a{m}"
                out.append(Variant(node, lambda get, m=m: get((k, f"delta{l}")).T @ get((k, f"a{m}")),
                                   f"the wrong layer's activations: {what} used where a{l - 1} belongs"))
        if l > 1:
            out.append(Variant(node, lambda get: get((k, f"delta{l}")).T @ get((k, f"z{l - 1}")),
                               f"z{l - 1} used where a{l - 1} belongs"))
    elif kind in ("W_new", "b_new"):
        out += _update_variants(g, ev, node)
    return out


def _loss_variants(g: Graph, node: Node) -> list[Variant]:
    net = g.net
    squared = ("sse", "half_sse", "mse", "half_mse")
    names = [n for n in squared if n != net.loss.name] if net.loss.name in squared else []
    n_ex = len(g.steps[node[0] - 1].examples)
    reductions = [net.reduction] + ([r for r in _loss.REDUCTIONS if r != net.reduction] if n_ex > 1 else [])
    out = []
    for red in reductions:
        for name in [net.loss.name, *names]:
            if name == net.loss.name and red == net.reduction:
                continue
            alt = _loss.get(name)
            parts = []
            if name != net.loss.name:
                form = lambda f: getattr(f, "text", "") or f.description  # noqa: E731
                parts.append(f"another loss convention: {name} ({form(alt)}) where the problem "
                             f"says {net.loss.name} ({form(net.loss)})")
            if red != net.reduction:
                parts.append(f"{'summed' if red == 'sum' else 'averaged'} over the {n_ex} examples "
                             f"instead of {'summed' if red != 'sum' else 'averaged'}")
            fn = (lambda get, alt=alt, red=red: g.compute(node, get, alt, red))
            out.append(Variant(node, fn, "; ".join(parts) + _factor(g, node, fn)))
    return out


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


def _derivative_variants(g: Graph, node: Node) -> list[Variant]:
    k, name = node
    _, l = split(name)
    act = g.net.layers[l - 1].activation
    if not act.elementwise or act.name == "identity":
        return []
    f = _SYMBOL.get(act.name, act.name)
    dz, z, a = (k, f"dL_da{l}"), (k, f"z{l}"), (k, f"a{l}")
    out = [
        Variant(node, lambda get: get(dz) * act.value(get(z)), f"{f}(z{l}) used for {f}'(z{l})"),
        Variant(node, lambda get: act.backward(get(dz), get(a), act.value(get(a))),
                f"{f}' taken of a{l} instead of z{l} ({f}'(a{l}) = {f}(a{l})(1 - {f}(a{l})))"
                if act.name == "sigmoid" else f"{f}' taken of a{l} instead of z{l}"),
        Variant(node, lambda get: act.backward(get(dz), get(z), get(z)),
                f"{f}'(z{l}) computed with z{l} in place of a{l}" + (f" (z{l}(1 - z{l}))"
                                                                 if act.name == "sigmoid" else "")),
        Variant(node, lambda get: get(dz), f"the factor {f}'(z{l}) left out"),
    ]
    for m in range(1, g.L + 1):
        if m != l and g.truth((k, f"z{m}")).shape == g.truth(z).shape:
            out.append(Variant(node, lambda get, m=m: act.backward(get(dz), get((k, f"z{m}")), get((k, f"a{m}"))),
                               f"{f}' of layer {m}'s z{m} used instead of z{l}"))
    return out


def _update_variants(g: Graph, ev: Evaluator, node: Node) -> list[Variant]:
    k, name = node
    kind, l = split(name)
    p = kind[0]
    old, grad = (k, f"{p}{l}"), (k, f"d{p}{l}")
    lr = g.problem.learning_rate
    out = [Variant(node, lambda get: get(old), f"{'the bias' if p == 'b' else 'the weights'} not updated "
                                               f"({p}{l}_new = {p}{l})"),
           Variant(node, lambda get: get(old) + lr * get(grad),
                   f"a sign error in the update ({p}{l} + η d{p}{l} instead of {p}{l} - η d{p}{l})")]
    if lr != 1.0:
        out.append(Variant(node, lambda get: get(old) - get(grad), f"the learning rate η = {lr:g} left out"))
    implied = _implied_rate(ev, node, old, grad)
    if implied is not None and not math.isclose(implied, lr, rel_tol=1e-9) and implied not in (0.0, 1.0):
        out.append(Variant(node, lambda get: get(old) - implied * get(grad),
                           f"a wrong learning rate: η = {implied:g} used instead of {lr:g}"))
    return out


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
    lr = ev.g.problem.learning_rate
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


# -- verdicts ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """One claimed name: right or wrong, what it should be, and why (``basis``: what made it right)."""

    name: str
    status: str
    claimed: Any
    expected: Any
    note: str
    basis: str
    decimals: int

    @property
    def right(self) -> bool:
        """True when the claim is right (the true value, or by follow-through)."""
        return self.status == "right"

    def to_json(self) -> dict:
        """The contract's verdict object: name, status, claimed, expected, note."""
        return {"name": self.name, "status": self.status, "claimed": self.claimed,
                "expected": self.expected, "note": self.note}


def _fmt(x: Any, d: int) -> str:
    """Numbers at ``d`` decimals, nested as lists."""
    if isinstance(x, (list, tuple, np.ndarray)) and np.ndim(x) > 0:
        return "[" + ", ".join(_fmt(e, d) for e in x) + "]"
    if not abs(float(x)) < 1e9:
        return f"{float(x):.6g}"
    s = f"{float(x):.{d}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def _fmt_claim(x: Any, d: int) -> str:
    """A claimed number as written (at least ``d`` decimals, more if it has them)."""
    if isinstance(x, list):
        return "[" + ", ".join(_fmt_claim(e, d) for e in x) + "]"
    if not abs(float(x)) < 1e9:
        return f"{float(x):.6g}"
    s = f"{float(x):.{d}f}"
    return s if float(s) == float(x) else repr(float(x))


class Checker:
    """Judges claims against one problem's first updates."""

    def __init__(self, problem: Problem, steps: list, claims: list[Claim]):
        self.g = Graph(problem, steps)
        self.ev = Evaluator(self.g, claims)
        self.claims = claims

    def label(self, node: Node) -> str:
        """The name a student writes for ``node``: ``dW1``, or ``step2.dW1`` for later updates."""
        return f"step{node[0]}.{node[1]}" if node[0] > 1 else node[1]

    def display(self, node: Node, arr: np.ndarray) -> np.ndarray:
        """``arr`` as the answers file writes it (a per-example row as a vector for one example)."""
        kind, _ = split(node[1])
        single = len(self.g.steps[node[0] - 1].examples) == 1
        return arr[0] if single and (kind in PER_EXAMPLE or node[1] == "a0") else arr

    def judge(self, claim: Claim) -> Verdict:
        """The verdict on one claim: the true value, else follow-through, else a diagnosis."""
        node, mask, d = claim.node, claim.mask, claim.decimals
        tol = half_unit(d)
        t = self.g.truth(node)
        c = claim.value
        expected = t.reshape(claim.display_shape) if claim.index is None else t[mask][0]
        expected_json = expected.tolist() if isinstance(expected, np.ndarray) else float(expected)
        given = claim.given.tolist() if isinstance(claim.given, np.ndarray) else claim.given
        ok_true = close(c[mask], t[mask], tol)
        if ok_true.all():
            return Verdict(claim.key, "right", given, expected_json, "", "true value", d)
        frontier = self.ev.frontier(node)
        v = band = None
        influence: dict = {}
        ok = ok_true
        if frontier:
            v, band = self.ev.with_band(node, influence=influence)
            ok = ok_true | close(c[mask], v[mask], tol + band[mask])
        if ok.all():
            names = self._culprits(influence)
            note = f"follows from your {names} (the true value is {_fmt(expected, d)})"
            return Verdict(claim.key, "right", given, expected_json, note, f"follow-through from {names}", d)
        wrong = np.zeros(mask.shape, bool)
        wrong[mask] = ~ok
        note = f"should be {_fmt(expected, d)}"
        if v is not None and not close(v[mask], t[mask], tol).all():
            shown = self.display(node, v).reshape(claim.display_shape) if claim.index is None else v[mask][0]
            note += f" ({_fmt(shown, d)} from your {self._culprits(influence)})"
        why = self.diagnose(claim, wrong, v, band)
        note += f": {why}" if why else f" = {self.g.formula(node)}, with {self._inputs(node, d)}"
        return Verdict(claim.key, "wrong", given, expected_json, note, "", d)

    def _culprits(self, influence: dict) -> str:
        """The claimed inputs that move the result and differ from the truth (else all that move it)."""
        frontier = [n for n, size in influence.items() if size > 0] or list(influence)
        off = []
        for n in frontier:
            value, mask, half = self.ev.claimed[n]
            if not close(value[mask], self.g.truth(n)[mask], half[mask]).all():
                off.append(n)
        return ", ".join(self.label(n) for n in (off or frontier))

    def _inputs(self, node: Node, d: int) -> str:
        parts = []
        for p in self.g.parents(node):
            mine = p in self.ev.claimed
            val = self.display(p, self.ev.basis_value(p))
            dp = max([d] + [c.decimals for c in self.claims if c.node == p])
            parts.append(f"{self.label(p)} = {_fmt(val, dp)}" + (" (yours)" if mine else ""))
        return ", ".join(parts) or "the problem's data"

    def diagnose(self, claim: Claim, wrong: np.ndarray, v, band) -> str:
        """The first common mistake that reproduces the wrong entries, or ''."""
        node, d = claim.node, claim.decimals
        tol = half_unit(d)
        c = claim.value[wrong]
        for target in self.ev.unclaimed_ancestors(node):
            for var in variants(self.g, self.ev, target):
                val, b = self.ev.with_band(node, var)
                if close(c, val[wrong], tol + b[wrong]).all():
                    return self._where(var, node)
                if close(c, self.ev.value(node, var, use_claims=False)[wrong], tol).all():
                    return self._where(var, node)
        t = self.g.truth(node)
        for text, alt in _generic(t, v, d):
            if alt.shape != t.shape:
                continue
            if text.startswith("truncated"):
                if close(c, alt[wrong], 1e-9 * tol).all() and not close(c, t[wrong], 1e-9 * tol).all():
                    return text
                continue
            width = tol + (band[wrong] if band is not None and "follows" in text else 0.0)
            if close(c, alt[wrong], width).all():
                return text
        return self._copied(claim, wrong)

    def _where(self, var: Variant, node: Node) -> str:
        return var.text if var.node == node else f"{var.text}, in {self.label(var.node)}"

    def _copied(self, claim: Claim, wrong: np.ndarray) -> str:
        """Rows of the claim that equal rows of another number of the same update."""
        node, d = claim.node, claim.decimals
        tol = half_unit(d)
        value = claim.value
        if value.ndim != 2:
            return ""
        k = node[0]
        names = ["a0"] + [f"{q}{l}" for l in range(1, self.g.L + 1)
                          for q in ("W", "b", "z", "a", "dL_da", "delta", "dW", "db")]
        names += [f"{p}{l}_new" for l in range(1, self.g.L + 1) for p in "Wb"]
        found = []
        for i in np.nonzero(wrong.any(axis=1))[0]:
            row = value[i]
            for other in names:
                if other == node[1]:
                    continue
                cands = [self.g.truth((k, other))]
                if (k, other) in self.ev.claimed and self.ev.claimed[(k, other)][1].all():
                    cands.insert(0, self.ev.claimed[(k, other)][0])
                hit = self._row_match(row, cands, tol)
                if hit is not None:
                    what = "the input x (a0)" if other == "a0" else self.label((k, other))
                    found.append(f"row {i + 1} equals {what}" + (f" row {hit + 1}" if hit >= 0 else ""))
                    break
        return "; ".join(found) if found else ""

    @staticmethod
    def _row_match(row: np.ndarray, cands: list, tol: float) -> int | None:
        for arr in cands:
            arr = np.atleast_2d(arr)
            if arr.shape[1] != row.shape[0] or np.all(np.abs(row) <= tol):
                continue
            for j, r in enumerate(arr):
                if close(row, r, tol).all():
                    return j if arr.shape[0] > 1 else -1
        return None


# -- the report ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """Verdicts on every claimed name; renders as a table in a terminal, Markdown and HTML."""

    verdicts: tuple[Verdict, ...]
    problem: str = ""
    answers: str = ""

    @property
    def right(self) -> int:
        """How many claimed names are right."""
        return sum(v.right for v in self.verdicts)

    @property
    def wrong(self) -> int:
        """How many claimed names are wrong."""
        return len(self.verdicts) - self.right

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (``deltarule check`` exits 0)."""
        return self.wrong == 0

    @property
    def tolerance(self) -> str:
        """The tolerance used, in words."""
        ds = sorted({v.decimals for v in self.verdicts})
        bands = ", ".join(f"±{_fmt(half_unit(d), d + 1)} at {d} decimals" for d in ds)
        return (f"right within {bands} (half a unit in the last decimal, ties right) of the true value, "
                f"or of what follows from your own earlier numbers, widened by their rounding")

    def __getitem__(self, name: str) -> Verdict:
        for v in self.verdicts:
            if v.name == name:
                return v
        raise KeyError(name)

    def to_json(self) -> dict:
        """The contract's JSON object."""
        return {"verdicts": [v.to_json() for v in self.verdicts], "right": self.right, "wrong": self.wrong}

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(name, claimed, expected, verdict, note) per claim, as the tables show them."""
        out = []
        for v in self.verdicts:
            verdict = "right" if v.basis == "true value" else ("right (follow-through)" if v.right else "WRONG")
            out.append((v.name, _fmt_claim(v.claimed, v.decimals), _fmt(v.expected, v.decimals), verdict, v.note))
        return out

    def summary(self) -> str:
        """``N right, M wrong (ANSWERS against PROBLEM)``."""
        head = f"{self.right} right, {self.wrong} wrong"
        return f"{head} ({self.answers or 'answers'} against {self.problem})" if self.problem else head

    def to_text(self) -> str:
        """A plain table (for pipes and files)."""
        header = ("name", "claimed", "expected", "verdict", "note")
        rows = [header, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
        return "\n".join([*(l.rstrip() for l in lines), "", self.summary(), self.tolerance])

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title=self.summary(), caption=self.tolerance, caption_justify="left")
        for col in ("name", "claimed", "expected", "verdict", "note"):
            table.add_column(col, overflow="fold")
        for r in self.rows():
            style = "red" if r[3] == "WRONG" else ("yellow" if "follow" in r[3] else "green")
            table.add_row(r[0], r[1], r[2], Text(r[3], style=style), r[4])
        return Group(table)

    def _repr_markdown_(self) -> str:
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        lines = [f"**{self.summary()}**", "", "| name | claimed | expected | verdict | note |",
                 "|---|---|---|---|---|"]
        lines += [f"| `{esc(r[0])}` | " + " | ".join(esc(c) for c in r[1:]) + " |" for r in self.rows()]
        return "\n".join([*lines, "", f"*{self.tolerance}*"])

    def _repr_html_(self) -> str:
        colours = {"WRONG": "#c00", "right": "#080"}
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" if i != 3 else
                             f"<td style='color:{colours.get(c, '#a60')}'>{html.escape(c)}</td>"
                             for i, c in enumerate(r)) + "</tr>" for r in self.rows())
        head = "".join(f"<th>{h}</th>" for h in ("name", "claimed", "expected", "verdict", "note"))
        return (f"<div><p><b>{html.escape(self.summary())}</b></p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table><p><i>{html.escape(self.tolerance)}</i></p></div>")

    def __repr__(self) -> str:
        return f"Report({self.summary()})"


# -- the API -----------------------------------------------------------------------------------------------
def read_answers(path: str | Path) -> dict:
    """An answers file, read safely (YAML or JSON)."""
    from .loader import read_document

    return read_document(path)


def _plain(v: Any) -> Any:
    """numpy arrays and scalars as the lists and floats a YAML file gives."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v.tolist() if isinstance(v, (np.ndarray, np.generic)) else v


def _resolve_problem(ref: Any, base: Path, file: str) -> Problem:
    from . import examples
    from .problem import load_problem

    if not isinstance(ref, str) or not ref.strip():
        raise InputError(f"expected a problem file or a built-in example name, got {_kind(ref)}", "problem", file)
    path = base / ref
    if path.exists():
        return load_problem(path)
    stem = Path(ref).stem if Path(ref).suffix.lower() in (".yaml", ".yml", ".json") else ref
    for name in (ref, stem):
        if examples.exists(name):
            return examples.load(name)
    raise InputError(f"no such file ({path}) and no built-in example of that name", "problem", file)


def check(problem: Any = None, answers: Any = None, *, decimals: int | None = None) -> Report:
    """Judge an answers file (or mapping) against a problem; see the module docstring.

    ``problem``: a file, a built-in example name or a :class:`Problem`; None takes the answers
    file's ``problem:`` (resolved relative to it). ``answers``: a file, or a mapping (either a
    whole answers document or just ``{name: value}``). ``decimals`` overrides the file's.
    Values are numbers, lists and lists of lists (as YAML gives them) or numpy arrays.

    >>> import deltarule as dr
    >>> report = dr.check("seed-003", {"decimals": 2, "answers": {"z1": [0.41, 0.47], "dL_da2": [0.68, -0.17]}})
    >>> report.summary(), report["z1"].status, report["dL_da2"].status
    ('1 right, 1 wrong (answers against seed-003)', 'right', 'wrong')
    >>> report["dL_da2"].note  # doctest: +ELLIPSIS
    'should be [0.34, -0.09]: another loss convention: half_sse ...'
    """
    from .problem import load_problem

    if answers is None and problem is not None and not isinstance(problem, Problem):
        problem, answers = None, problem  # check("answers.yaml")
    file, base = "", Path(".")
    if isinstance(answers, (str, Path)):
        file, base = str(answers), Path(answers).parent
        doc = read_answers(answers)
    elif isinstance(answers, dict):
        doc = answers if "answers" in answers else {"answers": answers}
        if isinstance(doc.get("answers"), dict):  # numpy arrays from the API are lists in a file
            doc = {**doc, "answers": {k: _plain(v) for k, v in doc["answers"].items()}}
    else:
        raise InputError(f"expected an answers file or a mapping, got {_kind(answers)}", "answers", file)
    try:
        doc = mapping(doc, "", ANSWERS_FIELDS)
        if "answers" not in doc:
            raise InputError("missing field 'answers' (a mapping of names to numbers)", "answers")
        if decimals is None and "decimals" in doc:
            decimals = integer(doc["decimals"], "decimals", 0)
            if decimals > 15:
                raise InputError(f"at most 15 decimals are meaningful, got {decimals}", "decimals")
    except InputError as e:
        raise e.in_file(file) from None
    if problem is None:
        if "problem" not in doc:
            raise InputError("missing field 'problem' (or give PROBLEM on the command line)", "problem", file)
        problem = _resolve_problem(doc["problem"], base, file)
    elif not isinstance(problem, Problem):
        problem = load_problem(problem)
    if decimals is None:
        decimals = problem.decimals
    return _check(problem, doc["answers"], decimals, file)


def _check(problem: Problem, answers: Any, decimals: int, file: str) -> Report:
    try:
        if not isinstance(answers, dict) or not answers:
            parse_claims(answers, [], decimals)  # raises the right message
        layers = len(problem.network.layers)
        count = max(parse_name(k, layers, f"answers.{k}")[0] for k in answers)
    except InputError as e:
        raise e.in_file(file) from None
    if problem.network.dtype != np.float64:  # judge against the exact arithmetic, not float32's
        problem = replace(problem, network=problem.network.astype("float64"))
    steps = problem.steps(count)
    try:
        claims = parse_claims(answers, steps, decimals)
    except InputError as e:
        raise e.in_file(file) from None
    checker = Checker(problem, steps, claims)
    # absurd claims (1e300) may overflow the follow-through: such values match nothing
    with np.errstate(all="ignore"):
        verdicts = tuple(checker.judge(c) for c in claims)
    return Report(verdicts, problem.source or problem.name, file)
