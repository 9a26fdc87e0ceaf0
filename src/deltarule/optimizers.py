"""Optimizers: each update rule once — its defaults, state names, numpy step, formulas and PyTorch twin.

An optimizer turns the gradient g of a parameter P (a layer's W (units, fan_in) or b (units,))
into a step. The rules and defaults are PyTorch's (``torch.optim``), so runs agree to rounding:

    sgd      v ← μ v + g;  P ← P − η v            (nesterov: P ← P − η (g + μ v))
             v starts at 0, so the first step has v = g, as PyTorch's buffer (dampening 0)
    rmsprop  s ← ρ s + (1 − ρ) g²;  P ← P − η g / (√s + ε)
    adam     t ← t + 1;  m ← β1 m + (1 − β1) g;  s ← β2 s + (1 − β2) g²
             m̂ = m / (1 − β1ᵗ);  ŝ = s / (1 − β2ᵗ);  P ← P − η m̂ / (√ŝ + ε)
    adamw    W ← W − η λ W first (decoupled, weights only, never biases), then adam

``sgd`` with momentum 0 is plain gradient descent, P ← P − η g, exactly ``Network.update``.
L2 (``regularization: {l2: λ}``) is not an optimizer's business: it is added to g before the
step (:mod:`deltarule.regularization`).

Parameters are per layer ``(W, b)`` pairs, as :mod:`deltarule.params` and ``Network`` lay them
out; ``trainable`` gives per layer ``(train_weights, train_biases)``: a frozen parameter never
moves and its state stays zero. State is a dict of named arrays, one name per number
everywhere (solution, JSON, answers, checkpoint): ``vW{l}``, ``vb{l}`` (velocity), ``mW{l}``,
``mb{l}`` (first moment), ``sW{l}``, ``sb{l}`` (second moment), 1-based layers, and ``t`` (the
step count). Bias-corrected values (``mW{l}_hat``, ``sW{l}_hat``) are shown, never stored.
Steps are pure: new arrays come back, the inputs are not touched; ``update_into`` is each rule's
in-place twin for the buffered engine (same operations, same order, same bits, no allocation).
Adam's ``eps_placement: sklearn`` is scikit-learn's variant: η_t = η·√(1−β2ᵗ)/(1−β1ᵗ),
P ← P − η_t·m/(√s + ε). This module imports only numpy (and math).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Callable, ClassVar, Sequence

import numpy as np

from .errors import InputError
from .fields import named_settings

Array = np.ndarray
Pair = tuple[Array, Array]          # (W (units, fan_in), b (units,)) of one layer
State = dict[str, Any]              # {"vW1": array, ..., "t": int}


@dataclass(frozen=True)
class Mistake:
    """A wrong step a student may take, at one ``stage`` of :meth:`Optimizer.update` (the checker's
    diagnoses; ``note`` is a template with ``{p}``, the parameter: ``W1``, ``b2``):

    ``"advance"``: ``fn(g, old moments, t) -> new moments``; ``"correct"``: ``fn(new moments, t) ->
    hats``; ``"apply"``: ``fn(P, g, old moments, new moments, hats, lr, t, weight) -> P_new``.
    """

    note: str
    stage: str
    fn: Callable


@dataclass(frozen=True)
class Optimizer:
    """An update rule with its settings; the subclasses below are the registry's entries.

    ``moments`` are the state prefixes (``v``; ``s``; ``m`` and ``s``); ``hats`` those that are
    bias-corrected. ``step(params, grads, state, lr) -> (params, state)`` is the whole contract;
    ``step_values`` also returns what a worked solution shows (``_hat`` values).
    """

    name: ClassVar[str] = ""
    torch_name: ClassVar[str] = ""   # the class in torch.optim
    hats: ClassVar[tuple[str, ...]] = ()
    # numba's kernel (_scalar.py): scalar(p, g, old, new, q, h, lr, t, weight) -> update's P_new for entry q,
    # moments old[k, q] -> new[k, q], h the settings' values as floats; None: not on the compiled engine
    scalar: ClassVar[Any] = None

    @property
    def moments(self) -> tuple[str, ...]:
        """The per-parameter state prefixes, in the order they are updated."""
        return ()

    # -- state -------------------------------------------------------------------------------------
    def state_names(self, n_layers: int) -> list[str]:
        """``[{k}W{l}, {k}b{l} for every layer l and prefix k] + ["t"]``, layers 1-based."""
        return [f"{k}{p}{l}" for l in range(1, n_layers + 1) for p in "Wb" for k in self.moments] + ["t"]

    def hat_names(self, n_layers: int) -> list[str]:
        """The bias-corrected values a step shows: ``mW{l}_hat``, ``sW{l}_hat``, ... (adam, adamw)."""
        return [f"{k}{p}{l}_hat" for l in range(1, n_layers + 1) for p in "Wb" for k in self.hats]

    def init(self, params: Sequence[Pair]) -> State:
        """The state before the first step: zeros of each parameter's shape and dtype, t = 0."""
        state: State = {"t": 0}
        for l, (W, b) in enumerate(params, start=1):
            for k in self.moments:
                state[f"{k}W{l}"] = np.zeros_like(W)
                state[f"{k}b{l}"] = np.zeros_like(b)
        return state

    # -- the step ------------------------------------------------------------------------------------
    def step(self, params: Sequence[Pair], grads: Sequence[Pair], state: State, lr: float,
             trainable: Sequence[tuple[bool, bool]] | None = None) -> tuple[list[Pair], State]:
        """One update of every layer: ``params``/``grads`` are ``[(W_l, b_l)]`` / ``[(dW_l, db_l)]``.

        Returns new ``[(W_l_new, b_l_new)]`` and the new state (t + 1); inputs are left as they are.
        """
        new, state, _ = self.step_values(params, grads, state, lr, trainable)
        return new, state

    def step_values(self, params: Sequence[Pair], grads: Sequence[Pair], state: State, lr: float,
                    trainable: Sequence[tuple[bool, bool]] | None = None) -> tuple[list[Pair], State, dict]:
        """:meth:`step` plus ``{name: value}`` of what it shows: the bias-corrected ``*_hat``."""
        t = int(state.get("t", 0)) + 1
        trainable = trainable or [(True, True)] * len(params)
        out: State = {"t": t}
        shown: dict[str, Array] = {}
        new = []
        for l, ((W, b), (dW, db), flags) in enumerate(zip(params, grads, trainable), start=1):
            pair = []
            for p, value, g, train, weight in (("W", W, dW, flags[0], True), ("b", b, db, flags[1], False)):
                keys = [f"{k}{p}{l}" for k in self.moments]
                old = tuple(state.get(key, np.zeros_like(value)) for key in keys)
                if train:
                    value, moments, hats = self.update(value, g, old, lr, t, weight)
                    shown.update({f"{k}{p}{l}_hat": h for k, h in zip(self.hats, hats)})
                else:  # frozen: never moves, its state stays zero
                    value, moments = np.array(value), tuple(np.zeros_like(m) for m in old)
                out.update(zip(keys, moments))
                pair.append(value)
            new.append((pair[0], pair[1]))
        return new, out, shown

    def update(self, p: Array, g: Array, moments: tuple, lr: float, t: int,
               weight: bool) -> tuple[Array, tuple, tuple]:
        """One parameter P (any shape) with gradient g (same shape) at step t (1-based):
        ``(P_new, new moments in the order of `moments`, bias-corrected values in the order of `hats`)``.

        ``weight`` says P is a W (AdamW decays weights only). Three stages, in the order a student
        writes them: :meth:`advance` (the new moments), :meth:`correct` (their bias correction),
        :meth:`apply` (the step). The checker's follow-through calls the stages on a student's own
        numbers (a claimed ``vW1`` carries into ``W1_new``).
        """
        new = self.advance(g, moments, t)
        hats = self.correct(new, t)
        return self.apply(p, g, new, hats, lr, t, weight), new, hats

    def advance(self, g: Array, moments: tuple, t: int) -> tuple:
        """The new moments (in the order of `moments`) from the old ones and the gradient g."""
        return ()

    def correct(self, moments: tuple, t: int) -> tuple:
        """The bias-corrected values (in the order of `hats`) of the new moments at step t."""
        return ()

    def apply(self, p: Array, g: Array, moments: tuple, hats: tuple, lr: float, t: int, weight: bool) -> Array:
        """P_new from P, g, the new moments and their bias-corrected values."""
        raise NotImplementedError

    def mistakes(self) -> tuple[Mistake, ...]:
        """The wrong steps the checker tries (its diagnoses), in the order they are tried."""
        return ()

    def update_into(self, p: Array, g: Array, moments: tuple, lr: float, t: int, weight,
                    tmp: tuple[Array, Array]) -> None:
        """:meth:`update` in place, for the buffered engine: P and each moment array (P's shape)
        are overwritten with their new values by the same operations in the same order (the same
        bits), using the two scratch arrays ``tmp`` (P's shape); no array is allocated.

        ``weight`` is True for a W, False for a b, or a 0/1 array of P's shape that is 1 where P
        holds a trainable weight (one call for a whole flat parameter vector; AdamW decays those).
        A zero gradient with zero moments leaves P and the moments as they are (frozen parameters).
        """
        raise NotImplementedError

    # -- names, settings, formulas, PyTorch ------------------------------------------------------------
    @property
    def origin(self) -> str:
        """Whose rule this is, as a worked solution names it."""
        return f"PyTorch's torch.optim.{self.torch_name}"

    def settings(self) -> dict[str, Any]:
        """The settings as a problem/model file writes them: ``{name: ..., <field>: value}``."""
        return {"name": self.name, **asdict(self)}

    def torch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``torch.optim.<torch_name>`` for the same rule (lr apart)."""
        return asdict(self)

    def torch_param_groups(self, weights: list, biases: list, l2: float = 0.0) -> tuple[list[dict], float]:
        """PyTorch parameter groups for weights and biases, and the λ to add to the torch loss.

        L2 is PyTorch's ``weight_decay`` (g ← g + λW), given to the weights' group only: PyTorch
        decays biases too when they share a group. Returns ``(groups, 0.0)``.
        """
        return [{"params": weights, "weight_decay": l2}, {"params": biases, "weight_decay": 0.0}], 0.0

    def formulas(self, p: str = "W1") -> list[tuple[str, str]]:
        """The update of parameter ``p`` as ``(latex, text)`` lines, in the order they run."""
        raise NotImplementedError


@dataclass(frozen=True)
class SGD(Optimizer):
    """Gradient descent with momentum μ (0: plain descent) and Nesterov's variant (PyTorch's SGD).

    >>> import numpy as np
    >>> opt = SGD(momentum=0.9)
    >>> params, grads = [(np.array([[1.0]]), np.array([0.0]))], [(np.array([[0.5]]), np.array([1.0]))]
    >>> state = opt.init(params)
    >>> params, state = opt.step(params, grads, state, lr=0.1)   # v = g on the first step
    >>> params[0][0].tolist(), state["vW1"].tolist()
    ([[0.95]], [[0.5]])
    >>> params, state = opt.step(params, grads, state, lr=0.1)   # v = 0.9 * 0.5 + 0.5
    >>> params[0][0].round(6).tolist(), state["vW1"].round(6).tolist(), state["t"]
    ([[0.855]], [[0.95]], 2)
    """

    momentum: float = 0.0
    nesterov: bool = False

    name: ClassVar[str] = "sgd"
    torch_name: ClassVar[str] = "SGD"

    def __post_init__(self) -> None:
        if self.momentum < 0:
            raise InputError("must be >= 0", "momentum")
        if self.nesterov and self.momentum == 0:
            raise InputError("needs a momentum above 0", "nesterov")  # as PyTorch

    @property
    def moments(self) -> tuple[str, ...]:
        return ("v",) if self.momentum else ()

    def advance(self, g, moments, t):
        if not self.momentum:
            return ()
        return (self.momentum * moments[0] + g,)    # v starts at 0: the first v is g

    def apply(self, p, g, moments, hats, lr, t, weight):
        if not self.momentum:
            return p - lr * g
        v = moments[0]
        direction = g + self.momentum * v if self.nesterov else v
        return p - lr * direction

    def mistakes(self) -> tuple[Mistake, ...]:
        if not self.momentum:
            return ()
        mu = self.momentum
        out = (
            Mistake("momentum applied after the step: {p}_new = {p} - η·v{p} with the previous velocity",
                    "apply", lambda p, g, old, new, hats, lr, t, w: self.apply(p, g, old, hats, lr, t, w)),
            Mistake("the plain gradient step {p}_new = {p} - η·d{p}, the velocity updated after it",
                    "apply", lambda p, g, old, new, hats, lr, t, w: SGD().apply(p, g, (), (), lr, t, w)),
            Mistake("a dampened velocity v{p} = μ·v{p} + (1 - μ)·d{p} (PyTorch's SGD adds the whole d{p})",
                    "advance", lambda g, old, t: (mu * old[0] + (1.0 - mu) * g,)),
        )
        if self.nesterov:  # first: on step 1 (v = 0 before) the other two give the same number
            out = (Mistake("Nesterov's look-ahead left out ({p}_new = {p} - η·v{p} instead of "
                           "{p} - η·(d{p} + μ·v{p}))", "apply", lambda p, g, old, new, hats, lr, t, w:
                           replace(self, nesterov=False).apply(p, g, new, hats, lr, t, w)),) + out
        return out

    def update_into(self, p, g, moments, lr, t, weight, tmp):
        step = tmp[0]
        if not self.momentum:
            np.multiply(g, lr, out=step)
        else:
            v = moments[0]
            v *= self.momentum
            v += g
            if self.nesterov:  # g + μ v
                np.multiply(v, self.momentum, out=step)
                step += g
                step *= lr
            else:
                np.multiply(v, lr, out=step)
        p -= step

    @staticmethod
    def scalar(p, g, old, new, q, h, lr, t, weight):  # h = (momentum, nesterov)
        if h[0] == 0.0:
            return p - lr * g
        new[0, q] = h[0] * old[0, q] + g
        return p - lr * (g + h[0] * new[0, q] if h[1] != 0.0 else new[0, q])

    def torch_kwargs(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov, "dampening": 0.0}

    def formulas(self, p: str = "W1") -> list[tuple[str, str]]:
        sub = _sub(p)
        if not self.momentum:
            return [(rf"{sub}^{{new}} = {sub} - \eta\, d{sub}", f"{p}_new = {p} - η·d{p}")]
        lines = [(rf"v_{{{sub}}} = \mu\, v_{{{sub}}} + d{sub}", f"v{p} = μ·v{p} + d{p}")]
        if self.nesterov:
            return lines + [(rf"{sub}^{{new}} = {sub} - \eta\,(d{sub} + \mu\, v_{{{sub}}})",
                             f"{p}_new = {p} - η·(d{p} + μ·v{p})")]
        return lines + [(rf"{sub}^{{new}} = {sub} - \eta\, v_{{{sub}}}", f"{p}_new = {p} - η·v{p}")]


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """RMSprop (PyTorch's, no momentum, not centred): s ← ρs + (1−ρ)g², P ← P − ηg/(√s + ε)."""

    alpha: float = 0.99
    eps: float = 1e-8

    name: ClassVar[str] = "rmsprop"
    torch_name: ClassVar[str] = "RMSprop"

    def __post_init__(self) -> None:
        _check_unit("alpha", self.alpha)
        _check_eps(self.eps)

    @property
    def moments(self) -> tuple[str, ...]:
        return ("s",)

    def advance(self, g, moments, t):
        return (self.alpha * moments[0] + (1.0 - self.alpha) * g * g,)

    def apply(self, p, g, moments, hats, lr, t, weight):
        return p - lr * g / (np.sqrt(moments[0]) + self.eps)

    def mistakes(self) -> tuple[Mistake, ...]:
        rho, eps = self.alpha, self.eps
        return (
            Mistake("the square left out: s{p} = ρ·s{p} + (1 - ρ)·d{p} instead of (1 - ρ)·d{p}²", "advance",
                    lambda g, old, t: (rho * old[0] + (1.0 - rho) * g,)),
            Mistake("ρ and 1 - ρ swapped: s{p} = (1 - ρ)·s{p} + ρ·d{p}²", "advance",
                    lambda g, old, t: ((1.0 - rho) * old[0] + rho * g * g,)),
            Mistake("ε inside the square root: d{p} / √(s{p} + ε) instead of d{p} / (√s{p} + ε)", "apply",
                    lambda p, g, old, new, hats, lr, t, w: p - lr * g / np.sqrt(new[0] + eps)),
            Mistake("the square root left out: d{p} / (s{p} + ε) instead of d{p} / (√s{p} + ε)", "apply",
                    lambda p, g, old, new, hats, lr, t, w: p - lr * g / (new[0] + eps)),
            Mistake("the previous s{p} used in the step (the step taken before s{p} was updated)", "apply",
                    lambda p, g, old, new, hats, lr, t, w: self.apply(p, g, old, hats, lr, t, w)),
        )

    def update_into(self, p, g, moments, lr, t, weight, tmp):
        s, step, den = moments[0], tmp[0], tmp[1]
        s *= self.alpha
        np.multiply(g, 1.0 - self.alpha, out=step)
        step *= g
        s += step
        np.sqrt(s, out=den)
        den += self.eps
        np.multiply(g, lr, out=step)
        step /= den
        p -= step

    def formulas(self, p: str = "W1") -> list[tuple[str, str]]:
        sub = _sub(p)
        return [(rf"s_{{{sub}}} = \rho\, s_{{{sub}}} + (1 - \rho)\,(d{sub})^2", f"s{p} = ρ·s{p} + (1 - ρ)·d{p}²"),
                (rf"{sub}^{{new}} = {sub} - \eta\, \frac{{d{sub}}}{{\sqrt{{s_{{{sub}}}}} + \epsilon}}",
                 f"{p}_new = {p} - η·d{p} / (√s{p} + ε)")]


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam with bias correction (PyTorch's; no weight_decay here: use ``regularization``).

    m ← β1 m + (1−β1) g; s ← β2 s + (1−β2) g²; m̂ = m/(1−β1ᵗ); ŝ = s/(1−β2ᵗ); P ← P − η m̂/(√ŝ + ε).

    ``eps_placement="sklearn"`` is scikit-learn's Adam instead: ε against the uncorrected √s and
    the correction folded into the rate, η_t = η·√(1−β2ᵗ)/(1−β1ᵗ), P ← P − η_t·m/(√s + ε) (the
    same step but for where ε sits; PyTorch has no such option, so ``--backend torch`` refuses it).

    >>> import numpy as np
    >>> params, grads = [(np.array([[1.0]]), np.array([0.0]))], [(np.array([[0.5]]), np.array([-2.0]))]
    >>> params, state = Adam().step(params, grads, Adam().init(params), lr=0.1)
    >>> params[0][0].round(6).tolist(), params[0][1].round(6).tolist()   # first step: η·sign(g)
    ([[0.9]], [0.1])
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_placement: str = "pytorch"

    name: ClassVar[str] = "adam"
    torch_name: ClassVar[str] = "Adam"
    hats: ClassVar[tuple[str, ...]] = ("m", "s")

    def __post_init__(self) -> None:
        _check_unit("beta1", self.beta1)
        _check_unit("beta2", self.beta2)
        _check_eps(self.eps)
        if self.eps_placement not in EPS_PLACEMENTS:
            raise InputError(f"must be one of {', '.join(EPS_PLACEMENTS)}, got {self.eps_placement!r}",
                             "eps_placement")

    @property
    def sklearn(self) -> bool:
        """ε against the uncorrected √s, the correction in the rate (scikit-learn's Adam)."""
        return self.eps_placement == "sklearn"

    @property
    def origin(self) -> str:
        return super().origin + (" with scikit-learn's ε placement (against the uncorrected √s)" if self.sklearn else "")

    def rate_t(self, lr: float, t: int) -> float:
        """scikit-learn's η_t = η·√(1−β2ᵗ)/(1−β1ᵗ), as it computes it."""
        return lr * math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)

    def settings(self) -> dict[str, Any]:
        """As the base class, without ``eps_placement`` when it is the default (files stay as they were)."""
        out = super().settings()
        if out.get("eps_placement") == "pytorch":
            del out["eps_placement"]
        return out

    @property
    def moments(self) -> tuple[str, ...]:
        return ("m", "s")

    def advance(self, g, moments, t):
        m = self.beta1 * moments[0] + (1.0 - self.beta1) * g
        s = self.beta2 * moments[1] + (1.0 - self.beta2) * g * g
        return m, s

    def correct(self, moments, t):
        return moments[0] / (1.0 - self.beta1 ** t), moments[1] / (1.0 - self.beta2 ** t)

    def apply(self, p, g, moments, hats, lr, t, weight):
        if self.sklearn:
            return p - self.rate_t(lr, t) * moments[0] / (np.sqrt(moments[1]) + self.eps)
        return p - lr * hats[0] / (np.sqrt(hats[1]) + self.eps)

    def mistakes(self) -> tuple[Mistake, ...]:
        b1, b2, eps = self.beta1, self.beta2, self.eps
        return (
            Mistake("the bias correction left out: {p}_new = {p} - η·m{p} / (√s{p} + ε) with m{p}, s{p} "
                    "instead of m{p}_hat, s{p}_hat", "apply",
                    lambda p, g, old, new, hats, lr, t, w: self.apply(p, g, new, new, lr, t, w)),
            Mistake("the bias correction left out (m{p}_hat = m{p}, s{p}_hat = s{p}; they are divided by "
                    "1 - β1^t and 1 - β2^t)", "correct", lambda new, t: new),
            Mistake("divided by β^t instead of 1 - β^t in the bias correction", "correct",
                    lambda new, t: (new[0] / b1 ** t, new[1] / b2 ** t)),
            Mistake("β1 and 1 - β1 swapped: m{p} = (1 - β1)·m{p} + β1·d{p}", "advance",
                    lambda g, old, t: ((1.0 - b1) * old[0] + b1 * g, self.advance(g, old, t)[1])),
            Mistake("β2 and 1 - β2 swapped: s{p} = (1 - β2)·s{p} + β2·d{p}²", "advance",
                    lambda g, old, t: (self.advance(g, old, t)[0], (1.0 - b2) * old[1] + b2 * g * g)),
            Mistake("the square left out: s{p} = β2·s{p} + (1 - β2)·d{p} instead of (1 - β2)·d{p}²", "advance",
                    lambda g, old, t: (self.advance(g, old, t)[0], b2 * old[1] + (1.0 - b2) * g)),
            Mistake("ε inside the square root: √(s{p}_hat + ε) instead of √s{p}_hat + ε", "apply",
                    lambda p, g, old, new, hats, lr, t, w: p - lr * hats[0] / np.sqrt(hats[1] + eps)),
            Mistake("β and 1 - β swapped: m{p} = (1 - β1)·m{p} + β1·d{p}, s{p} = (1 - β2)·s{p} + β2·d{p}²",
                    "apply", lambda p, g, old, new, hats, lr, t, w: self._swapped(p, g, old, lr, t, w)),
        )

    def _swapped(self, p, g, old, lr, t, weight):
        """The step of a student who swapped β and 1 - β in both moments (a mistake, for the checker)."""
        m = (1.0 - self.beta1) * old[0] + self.beta1 * g
        s = (1.0 - self.beta2) * old[1] + self.beta2 * g * g
        return self.apply(p, g, (m, s), self.correct((m, s), t), lr, t, weight)

    def update_into(self, p, g, moments, lr, t, weight, tmp):
        m, s = moments
        step, den = tmp
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=step)
        m += step
        s *= self.beta2
        np.multiply(g, 1.0 - self.beta2, out=step)
        step *= g
        s += step
        if self.sklearn:  # η_t·m / (√s + ε)
            np.sqrt(s, out=den)
            den += self.eps
            np.multiply(m, self.rate_t(lr, t), out=step)
        else:  # η·m_hat / (√s_hat + ε)
            np.divide(s, 1.0 - self.beta2 ** t, out=den)   # s_hat
            np.sqrt(den, out=den)
            den += self.eps
            np.divide(m, 1.0 - self.beta1 ** t, out=step)  # m_hat
            step *= lr
        step /= den
        p -= step

    def torch_kwargs(self) -> dict[str, Any]:
        if self.sklearn:
            raise InputError("sklearn has no torch.optim twin (PyTorch puts ε against the corrected √ŝ)",
                             "eps_placement")
        return {"betas": (self.beta1, self.beta2), "eps": self.eps}

    def formulas(self, p: str = "W1") -> list[tuple[str, str]]:
        sub = _sub(p)
        moments = [
            (rf"m_{{{sub}}} = \beta_1 m_{{{sub}}} + (1 - \beta_1)\, d{sub}", f"m{p} = β1·m{p} + (1 - β1)·d{p}"),
            (rf"s_{{{sub}}} = \beta_2 s_{{{sub}}} + (1 - \beta_2)\,(d{sub})^2", f"s{p} = β2·s{p} + (1 - β2)·d{p}²"),
        ]
        if self.sklearn:  # the correction in the rate, ε against √s
            return moments + [(
                rf"{sub}^{{new}} = {sub} - \eta\, \frac{{\sqrt{{1 - \beta_2^t}}}}{{1 - \beta_1^t}}\, "
                rf"\frac{{m_{{{sub}}}}}{{\sqrt{{s_{{{sub}}}}} + \epsilon}}",
                f"{p}_new = {p} - η·√(1 - β2^t) / (1 - β1^t)·m{p} / (√s{p} + ε)")]
        return moments + [
            (rf"\hat m_{{{sub}}} = \frac{{m_{{{sub}}}}}{{1 - \beta_1^t}}", f"m{p}_hat = m{p} / (1 - β1^t)"),
            (rf"\hat s_{{{sub}}} = \frac{{s_{{{sub}}}}}{{1 - \beta_2^t}}", f"s{p}_hat = s{p} / (1 - β2^t)"),
            (rf"{sub}^{{new}} = {sub} - \eta\, \frac{{\hat m_{{{sub}}}}}{{\sqrt{{\hat s_{{{sub}}}}} + \epsilon}}",
             f"{p}_new = {p} - η·m{p}_hat / (√s{p}_hat + ε)"),
        ]


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay λ (PyTorch's AdamW): W ← W − ηλW first, weights only."""

    weight_decay: float = 0.01   # PyTorch's default λ

    name: ClassVar[str] = "adamw"
    torch_name: ClassVar[str] = "AdamW"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weight_decay < 0:
            raise InputError("must be >= 0", "weight_decay")

    def apply(self, p, g, moments, hats, lr, t, weight):
        return super().apply(self.decayed(p, lr, weight), g, moments, hats, lr, t, weight)

    def decayed(self, p: Array, lr: float, weight: bool) -> Array:
        """W − ηλW, the decoupled decay before Adam's step (a worked solution shows it); a bias as it is."""
        return p - lr * self.weight_decay * p if weight else p   # the decay never enters m or s

    def mistakes(self) -> tuple[Mistake, ...]:
        return (
            Mistake("the weight decay left out ({p} - η·λ·{p} comes first)", "apply",
                    lambda p, g, old, new, hats, lr, t, w: Adam.apply(self, p, g, new, hats, lr, t, w)),
            Mistake("the weight decay applied to a bias (AdamW decays weights only)", "apply",
                    lambda p, g, old, new, hats, lr, t, w: self.apply(p, g, new, hats, lr, t, True)),
        ) + super().mistakes()

    def update_into(self, p, g, moments, lr, t, weight, tmp):
        if weight is not False:
            decay = np.multiply(p, lr * self.weight_decay, out=tmp[0])
            if weight is not True:  # a mask: the weights only
                decay *= weight
            p -= decay
        super().update_into(p, g, moments, lr, t, weight, tmp)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "weight_decay": self.weight_decay}

    def torch_param_groups(self, weights: list, biases: list, l2: float = 0.0) -> tuple[list[dict], float]:
        """AdamW's ``weight_decay`` is the decoupled decay, on the weights' group only (biases: 0);
        an L2 λ then cannot be PyTorch's weight_decay and goes into the torch loss: ``(groups, λ)``."""
        return [{"params": weights, "weight_decay": self.weight_decay},
                {"params": biases, "weight_decay": 0.0}], l2

    def formulas(self, p: str = "W1") -> list[tuple[str, str]]:
        lines = super().formulas(p)
        if not p.startswith("W"):
            return lines
        sub = _sub(p)
        return [(rf"{sub} = {sub} - \eta \lambda\, {sub}", f"{p} = {p} - η·λ·{p}")] + lines


def _sub(p: str) -> str:
    """``W1`` -> ``W_{1}`` for LaTeX."""
    return f"{p[0]}_{{{p[1:]}}}"


def _check_unit(field: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise InputError(f"must be in [0, 1), got {value}", field)


def _check_eps(value: float) -> None:
    if not value > 0:
        raise InputError(f"must be > 0, got {value}", "eps")


EPS_PLACEMENTS = ("pytorch", "sklearn")  # where Adam's ε sits: against √ŝ (PyTorch) or √s (scikit-learn)
OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, RMSprop, Adam, AdamW)}


def get(name: str, **settings: Any) -> Optimizer:
    """The optimizer called ``name`` with ``settings`` (PyTorch's defaults for the rest).

    Raises KeyError for an unknown name, TypeError for an unknown setting, ValueError for a bad value.
    """
    return OPTIMIZERS[name](**settings)


def from_settings(settings: dict[str, Any]) -> Optimizer:
    """The inverse of :meth:`Optimizer.settings`, for readers: ``{name: ..., <setting>: value}``.

    Raises :class:`~deltarule.errors.InputError` whose field is the setting at fault (``name``,
    ``beta1``, ...): a reader prefixes its own path (``optimizer.beta1``) and the file.
    """
    return named_settings(OPTIMIZERS, settings)


def get_class(name: str):
    """The class registered as ``name`` (KeyError when none is)."""
    return OPTIMIZERS[name]


def setting_names(name: str) -> list[str]:
    """The settings an optimizer takes, for a reader's error message: ``["momentum", "nesterov"]``."""
    return [f.name for f in fields(OPTIMIZERS[name])]
