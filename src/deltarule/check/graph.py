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
from ..regularization import add_l2, penalty
from .answers import Claim, Node, is_state, paths_param, split, truth_of


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
        if kind == "paths":
            return tuple(dict.fromkeys((k, f"{q}{m}") for path in self._routes(k, name) for q, m, _, _ in path.factors))
        if kind == "t":
            return ()
        if is_state(kind) or (kind in ("W_new", "b_new") and self.optimizer(k) is not None):
            return self._optimizer_parents(k, kind, l)
        return self._pass_parents(k, kind, l)

    def _pass_parents(self, k: int, kind: str, l: int) -> tuple:
        """The parents of the forward and backward pass's numbers, plain descent's new parameters,
        the losses (under L2 the loss also reads the weights, dW_l also W_l)."""
        L = self.L
        weights = tuple((k, f"W{i}") for i in range(1, L + 1)) if self.l2(k) else ()
        table = {
            "W": ((k - 1, f"W{l}_new"),) if k > 1 else (),
            "b": ((k - 1, f"b{l}_new"),) if k > 1 else (),
            "z": ((k, f"a{l - 1}"), (k, f"W{l}"), (k, f"b{l}")),
            "a": ((k, f"z{l}"),) if l else (),
            "loss": ((k, f"a{L}"),) + weights,  # from yhat (and W under L2), as a student computes it
            "losses": ((k, f"a{L}"),),
            "fprime": ((k, f"z{l}"), (k, f"a{l}")),
            "dL_da": ((k, f"a{L}"),) if l == L else ((k, f"delta{l + 1}"), (k, f"W{l + 1}")),
            "delta": ((k, f"dL_da{l}"), (k, f"fprime{l}")) if self._through_fprime(l)
                     else ((k, f"dL_da{l}"), (k, f"z{l}"), (k, f"a{l}")),
            "dW": ((k, f"delta{l}"), (k, f"a{l - 1}")) + (((k, f"W{l}"),) if self.l2(k) else ()),
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
        if kind == "t":
            return self.truth(node)
        if is_state(kind):
            return self._state(k, kind, l, get)
        return getattr(self, f"_{kind}")(k, l, get)

    # -- the optimizer's nodes (steps of a problem with optimizer:, a schedule or L2) ----------------------
    def optimizer(self, k: int):
        """The optimizer that took update k (None for plain gradient descent)."""
        return self.steps[k - 1].optimizer

    def l2(self, k: int) -> float:
        """L2's λ of update k (0 without regularization)."""
        return self.steps[k - 1].l2

    def rate(self, k: int) -> float:
        """The learning rate update k used (the schedule's η_e of its epoch)."""
        return self.steps[k - 1].learning_rate

    def trained(self, p: str, l: int) -> bool:
        """Whether layer l's ``p`` (W or b) is trained (a frozen one keeps its value and a zero state)."""
        lay = self.net.layers[l - 1]
        return lay.train_weights if p == "W" else lay.train_biases

    def _optimizer_parents(self, k: int, kind: str, l: int) -> tuple:
        """State m{p}{l} <- d{p}{l} and the previous update's state of {p}{l}; m{p}{l}_hat <- the
        new state; {p}{l}_new <- {p}{l}, d{p}{l}, the new state and its _hat values."""
        opt, p = self.optimizer(k), kind[1] if is_state(kind) else kind[0]
        new = tuple((k, f"{m}{p}{l}") for m in opt.moments)
        if kind.endswith("_hat"):
            return new
        if is_state(kind):
            old = tuple((k - 1, f"{m}{p}{l}") for m in opt.moments) if k > 1 else ()
            return ((k, f"d{p}{l}"),) + old
        return ((k, f"{p}{l}"), (k, f"d{p}{l}")) + new + tuple((k, f"{m}{p}{l}_hat") for m in opt.hats)

    def carried(self, k: int) -> list[Node]:
        """What update k hands to update k + 1: W_new, b_new and the optimizer's state."""
        opt = self.optimizer(k)
        pairs = [(p, l) for l in range(1, self.L + 1) for p in "Wb"]
        return [(k, f"{p}{l}_new") for p, l in pairs] + \
               [(k, f"{m}{p}{l}") for p, l in pairs for m in (opt.moments if opt is not None else ())]

    def old_state(self, k: int, p: str, l: int, get: Callable) -> tuple:
        """The state of {p}{l} before update k: the previous update's (the student's where claimed),
        or the problem's initial state (zeros) before the first."""
        opt = self.optimizer(k)
        if k > 1:
            return tuple(np.asarray(get((k - 1, f"{m}{p}{l}")), float) for m in opt.moments)
        return tuple(np.asarray(self.steps[0].state_before[f"{m}{p}{l}"], float) for m in opt.moments)

    def stages(self, k: int, p: str, l: int, get: Callable) -> dict:
        """The optimizer's stages' inputs and outputs for {p}{l} at update k, read from ``get``:
        ``g``, ``old``, ``new`` (moments), ``hats``, ``t`` (each through the node of its name)."""
        opt = self.optimizer(k)
        return {"g": np.asarray(get((k, f"d{p}{l}")), float), "old": self.old_state(k, p, l, get),
                "new": tuple(np.asarray(get((k, f"{m}{p}{l}")), float) for m in opt.moments),
                "hats": tuple(np.asarray(get((k, f"{m}{p}{l}_hat")), float) for m in opt.hats),
                "t": int(self.steps[k - 1].state["t"])}

    def _state(self, k: int, kind: str, l: int, get: Callable) -> np.ndarray:
        """An optimizer's moment (Optimizer.advance) or its bias correction (Optimizer.correct), zero
        for a frozen parameter."""
        opt, m, p = self.optimizer(k), kind[0], kind[1]
        t = int(self.steps[k - 1].state["t"])
        if kind.endswith("_hat"):
            new = tuple(np.asarray(get((k, f"{q}{p}{l}")), float) for q in opt.moments)
            return opt.correct(new, t)[opt.hats.index(m)]
        if not self.trained(p, l):
            return np.zeros(self.truth((k, f"{p}{l}")).shape)
        g = np.asarray(get((k, f"d{p}{l}")), float)
        return opt.advance(g, self.old_state(k, p, l, get), t)[opt.moments.index(m)]

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
        """dW_l = sum_i delta_l[i] a_{l-1}[i]^T (+ λ W_l under L2)."""
        dW = get((k, f"delta{l}")).T @ get((k, f"a{l - 1}"))
        return add_l2([dW], [get((k, f"W{l}"))], self.l2(k))[0] if self.l2(k) else dW

    def _db(self, k: int, l: int, get: Callable) -> np.ndarray:
        return get((k, f"delta{l}")).sum(axis=0)

    def _W_new(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self._updated("W", k, l, get)

    def _b_new(self, k: int, l: int, get: Callable) -> np.ndarray:
        return self._updated("b", k, l, get)

    def _updated(self, p: str, k: int, l: int, get: Callable, rate: float | None = None) -> np.ndarray:
        """p_new = p - eta dp for a trained parameter (the optimizer's step, Optimizer.apply, on the
        new state and its _hat values), p itself for a frozen one; ``rate`` replaces the update's η."""
        old = get((k, f"{p}{l}"))
        if not self.trained(p, l):
            return old
        rate = self.rate(k) if rate is None else rate
        opt = self.optimizer(k)
        if opt is None:
            return old - rate * get((k, f"d{p}{l}"))
        st = self.stages(k, p, l, get)
        return opt.apply(np.asarray(old, float), st["g"], st["new"], st["hats"], rate, st["t"], p == "W")

    def _output(self, kind: str, k: int, get: Callable, loss, reduction) -> np.ndarray:
        """The loss (from yhat, as a student computes it), dL/da_L, or the loss after the update."""
        if kind == "loss_after":
            return self._loss_after(k, get, loss, reduction)
        y = np.asarray(self.steps[k - 1].trace.y)
        a = get((k, f"a{self.L}"))
        if kind == "loss":
            return np.asarray(_loss.reduce(loss.value(a, y), reduction) + self.penalty(k, "W", get))
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
        return np.asarray(Network(layers, loss, reduction).evaluate(tr.x, tr.y) + self.penalty(k, "W_new", get))

    def penalty(self, k: int, which: str, get: Callable) -> float:
        """(λ/2)·Σ_l ‖W_l‖² of update k's weights (``which``: ``W`` before, ``W_new`` after); 0 without L2."""
        if not self.l2(k):
            return 0.0
        Ws = [np.asarray(get((k, f"W{i}" if which == "W" else f"W{i}_new")), float) for i in range(1, self.L + 1)]
        return penalty(Ws, self.l2(k))

    def formula(self, node: Node) -> str:
        """How the node is computed, in words the notes use."""
        k, name = node
        kind, l = split(name)
        L, net = self.L, self.net
        act = net.layers[l - 1].activation.name if l else ""
        if kind == "paths":
            first = " · ".join(f"{q}{m}[{','.join(map(str, idx))}]" for q, m, idx, _ in self._routes(k, name)[0].factors)
            return f"each path's product of factors (the first: {first})"
        lr = self.rate(k)
        if kind == "t" or is_state(kind) or (kind in ("W_new", "b_new") and self.optimizer(k) is not None):
            return self._optimizer_formula(k, kind, l)
        l2 = f" + {self.l2(k):g} W{l}" if self.l2(k) else ""
        penalty_text = f" + ({self.l2(k):g}/2)·Σ‖W‖² (weights only)" if self.l2(k) else ""
        return {
            "z": f"W{l} a{l - 1} + b{l}" + (" (a0 = x)" if l == 1 else ""),
            "a": f"{act}(z{l})",
            "loss": f"{net.loss.name} ({net.loss.text or net.loss.description}) of a{L} "
                    f"and y, {net.reduction} over the examples{penalty_text}",
            "losses": f"{net.loss.name} of each example's a{L} and y",
            "fprime": f"{act}'(z{l})",
            "dL_da": (f"dL/da{L} of {net.loss.name}" if l == L else f"W{l + 1}^T delta{l + 1}"),
            "delta": f"dL_da{l} * {act}'(z{l})",
            "dW": f"delta{l} a{l - 1}^T{l2}" + (" (a0 = x)" if l == 1 else ""),
            "db": f"delta{l}" + (" summed over the batch" if len(self.steps[k - 1].examples) > 1 else ""),
            "W_new": f"W{l} - {lr:g} dW{l}",
            "b_new": f"b{l} - {lr:g} db{l}",
            "loss_after": "the loss with the updated W and b" + penalty_text,
        }[kind]

    def _optimizer_formula(self, k: int, kind: str, l: int) -> str:
        """The optimizer's own line for the node (Optimizer.formulas), with its settings and η."""
        opt = self.optimizer(k)
        if kind == "t":
            return "the number of updates so far, this one included"
        p = f"{kind[1]}{l}" if is_state(kind) else f"{kind[0]}{l}"
        name = f"{kind[0]}{p}" + ("_hat" if kind.endswith("_hat") else "") if is_state(kind) else f"{p}_new"
        lines = [text for _, text in opt.formulas(p)]
        mine = [t for t in lines if t.startswith(f"{name} =")]
        if not is_state(kind):  # the step: AdamW's decay line comes before it
            mine = [t for t in lines if not any(t.startswith(f"{m}{p}") for m in opt.moments)]
        settings = ", ".join(f"{key} = {value:g}" for key, value in opt.settings().items()
                             if isinstance(value, float))
        return f"{'; '.join(mine)} ({opt.name}: {settings}, η = {self.rate(k):g}, t = {self.steps[k - 1].state['t']})"


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
        """W_new, b_new (and an optimizer's state) of the updates before k, from the last fully claimed one on."""
        params = self.g.carried
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
    if kind == "t":
        return node[0], 3, 0, 0
    return node[0], 3, l if l else 10**6, UPDATE_ORDER.index(kind)


# an update's numbers after the backward pass, per layer, in the order a student works them out
UPDATE_ORDER = ("vW", "mW", "sW", "mW_hat", "sW_hat", "W_new", "vb", "mb", "sb", "mb_hat", "sb_hat", "b_new",
                "loss_after")


