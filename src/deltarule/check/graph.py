"""The graph of named quantities: every number of the first K updates as a node ``(k, name)``
computed from its parents with the core's own formulas, and the follow-through values (and
their rounding bands) that a student's claimed numbers imply.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .. import losses as _loss
from ..network import chain_paths
from ..problem import Problem
from .answers import Claim, Node, paths_param, split, truth_of


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
        return truth_of(self.steps[node[0] - 1], node[1])

    def parents(self, node: Node) -> tuple:
        """The nodes that ``node``'s formula reads (``dW1`` <- ``delta1``, ``a0``)."""
        k, name = node
        kind, l = split(name)
        L = self.L
        if kind == "paths":
            return tuple(dict.fromkeys((k, f"{q}{m}") for path in self._routes(k, name) for q, m, _, _ in path.factors))
        table = {
            "W": ((k - 1, f"W{l}_new"),) if k > 1 else (),
            "b": ((k - 1, f"b{l}_new"),) if k > 1 else (),
            "z": ((k, f"a{l - 1}"), (k, f"W{l}"), (k, f"b{l}")),
            "a": ((k, f"z{l}"),) if l else (),
            "loss": ((k, f"a{L}"),),  # from yhat, as a student computes it
            "losses": ((k, f"a{L}"),),
            "fprime": ((k, f"z{l}"), (k, f"a{l}")),
            "dL_da": ((k, f"a{L}"),) if l == L else ((k, f"delta{l + 1}"), (k, f"W{l + 1}")),
            "delta": ((k, f"dL_da{l}"), (k, f"fprime{l}")) if self._through_fprime(l)
                     else ((k, f"dL_da{l}"), (k, f"z{l}"), (k, f"a{l}")),
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
        if kind in ("loss", "loss_after", "losses") or (kind == "dL_da" and l == self.L):
            return self._output(kind, k, get, loss or self.net.loss, reduction or self.net.reduction)
        if kind == "a" and l == 0:
            return np.asarray(self.steps[k - 1].trace.x)
        if kind == "paths":
            return self._paths(k, name, get)
        return getattr(self, f"_{kind}")(k, l, get)

    def _routes(self, k: int, name: str) -> tuple:
        """The core's chain paths for ``paths.dW{l}[i,j]`` (example 1's; every example has the same factors)."""
        return chain_paths(self.steps[k - 1].trace, paths_param(name), 0)

    def _paths(self, k: int, name: str, get: Callable) -> np.ndarray:
        """Each path's value, (n, paths): the product of its factors (delta or dL_da · f'(z) at the top,
        W · f'(z) per link, a_{l-1}[j]), each factor read from ``get`` (the student's numbers)."""
        routes = self._routes(k, name)
        out = np.ones((len(self.steps[k - 1].trace.x), len(routes)))
        for r, path in enumerate(routes):
            for q, m, idx, _ in path.factors:
                arr = np.asarray(get((k, f"{q}{m}")), float)
                out[:, r] *= arr[idx[0] - 1, idx[1] - 1] if q == "W" else arr[:, idx[0] - 1]
        return out

    def _W(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self.steps[0].trace.layers[l - 1].W if k == 1 else get((k - 1, f"W{l}_new"))

    def _b(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self.steps[0].trace.layers[l - 1].b if k == 1 else get((k - 1, f"b{l}_new"))

    def _z(self, k: int, l: int, get: Callable) -> np.ndarray:
        """z_l = a_{l-1} W_l^T + b_l, one row per example."""
        return get((k, f"a{l - 1}")) @ get((k, f"W{l}")).T + get((k, f"b{l}"))

    def _a(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self.net.layers[l - 1].activation.value(get((k, f"z{l}")))

    def _dL_da(self, k: int, l: int, get: Callable) -> np.ndarray:
        """dL/da_l = delta_{l+1} W_{l+1} (rows), i.e. W_{l+1}^T delta_{l+1} per example."""
        return get((k, f"delta{l + 1}")) @ get((k, f"W{l + 1}"))

    def _through_fprime(self, l: int) -> bool:
        """delta_l = dL_da_l * f'(z_l) entry by entry (an elementwise activation), so a claimed
        fprime{l} carries through to delta{l}; softmax's delta needs its whole Jacobian."""
        return self.net.layers[l - 1].activation.elementwise

    def _fprime(self, k: int, l: int, get: Callable) -> np.ndarray:
        """f'(z_l), entry by entry (for softmax the diagonal of its Jacobian), as the trace holds it."""
        return self.net.layers[l - 1].activation.derivative(get((k, f"z{l}")), get((k, f"a{l}")))

    def _delta(self, k: int, l: int, get: Callable) -> np.ndarray:
        """delta_l = dL/dz_l: dL_da_l * f'(z_l) for an elementwise f, else f's backward pass."""
        if self._through_fprime(l):
            return get((k, f"dL_da{l}")) * get((k, f"fprime{l}"))
        act = self.net.layers[l - 1].activation
        return act.backward(get((k, f"dL_da{l}")), get((k, f"z{l}")), get((k, f"a{l}")))

    def _dW(self, k: int, l: int, get: Callable) -> np.ndarray:
        """dW_l = sum_i delta_l[i] a_{l-1}[i]^T."""
        return get((k, f"delta{l}")).T @ get((k, f"a{l - 1}"))

    def _db(self, k: int, l: int, get: Callable) -> np.ndarray:
        return get((k, f"delta{l}")).sum(axis=0)

    def _W_new(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self._updated("W", k, l, get)

    def _b_new(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self._updated("b", k, l, get)

    def _updated(self, p: str, k: int, l: int, get: Callable) -> np.ndarray:
        """p_new = p - eta dp for a trained parameter, p itself for a frozen one."""
        lay = self.net.layers[l - 1]
        old, grad = get((k, f"{p}{l}")), get((k, f"d{p}{l}"))
        trained = lay.train_weights if p == "W" else lay.train_biases
        return old - self.problem.learning_rate * grad if trained else old

    def _output(self, kind: str, k: int, get: Callable, loss, reduction) -> np.ndarray:
        """The loss (from yhat, as a student computes it), dL/da_L, or the loss after the update."""
        if kind == "loss_after":
            return self._loss_after(k, get, loss, reduction)
        y = np.asarray(self.steps[k - 1].trace.y)
        a = get((k, f"a{self.L}"))
        if kind == "loss":
            return np.asarray(_loss.reduce(loss.value(a, y), reduction))
        if kind == "losses":  # each example's own loss: no reduction
            return np.asarray(loss.value(a, y))
        # dL/da depends on a alone; z enters only the delta that output_layer also returns
        z = get((k, f"z{self.L}"))
        return _loss.output_layer(loss, self.net.layers[-1].activation, z, a, y, reduction)[1]

    def _loss_after(self, k: int, get: Callable, loss, reduction) -> np.ndarray:
        from ..network import Network

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
        if kind == "paths":
            first = " · ".join(f"{q}{m}[{','.join(map(str, idx))}]" for q, m, idx, _ in self._routes(k, name)[0].factors)
            return f"each path's product of factors (the first: {first})"
        lr = self.problem.learning_rate
        return {
            "z": f"W{l} a{l - 1} + b{l}" + (" (a0 = x)" if l == 1 else ""),
            "a": f"{act}(z{l})",
            "loss": f"{net.loss.name} ({net.loss.text or net.loss.description}) of a{L} "
                    f"and y, {net.reduction} over the examples",
            "losses": f"{net.loss.name} of each example's a{L} and y",
            "fprime": f"{act}'(z{l})",
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
            half[c.mask] = c.tolerance
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
        params = lambda j: [(j, f"{p}{l}_new") for l in range(1, self.g.L + 1) for p in "Wb"]
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
            _, mask, half = self.claimed[n]
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
    if kind in ("losses", "loss"):
        return node[0], 1, 0, ("losses", "loss").index(kind)
    if kind in ("dL_da", "fprime", "delta", "dW", "db", "paths"):
        return node[0], 2, -l, ("dL_da", "fprime", "delta", "dW", "db", "paths").index(kind)
    return node[0], 3, l if l else 10**6, ("W_new", "b_new", "loss_after").index(kind)


