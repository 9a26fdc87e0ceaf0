"""The compiled scalar training loop (numba) used by :mod:`deltarule.fast` for tiny networks.

Everything runs on one flat float64 parameter vector ``p`` in the journal's order
(W_1 row by row, b_1, W_2, b_2, ...), one int64 vector ``I`` describing the layers and one
float64 work vector ``F`` = [A | Z | D | G]: A and Z hold a_l and z_l of every layer one
after another (A starts with the input a_0), D the deltas, G the gradient of the current
batch. Few, flat arguments keep the calls cheap (each array argument costs reference
counting at every call). The arithmetic is the generic loop's, written out per example:
z = sum_k W_jk a_k + b_j, then the registry's own float kernels (``Activation.scalar``,
``Loss.scalar``, ``Fused.scalar``), the same checks for NaN and inf before every update.

No formula is written here. The kernels are the registry's plain-Python ``math`` functions,
compiled with numba when a network first trains here (``import deltarule`` never loads numba).
An activation's code is its position in :data:`ACTS` (elementwise ones first, then row-wise ones
such as softmax), a loss's in :data:`LOSSES`, a fused pair's in :data:`FUSED` (-1: none).

The compiled loop is specialised on what the network uses: :func:`run` looks up (or builds) the
loop for its (activation codes per layer, loss, fused pair), whose code dispatch is a chain over
just those kernels, and hands it ``I`` with the activations renumbered into that chain. Each such
loop is cached on disk under its own key, which holds a fingerprint of its kernels, so editing
the registry recompiles only what uses the edited kernel, and another network's loop never
displaces this one's. Journal mode: 0 epoch, 1 running, 2 batch.

An optimizer (issue 15) is one more kernel of the loop: its ``Optimizer.scalar`` (sgd with momentum
or Nesterov so far) steps every trained parameter after L2's λp is added to a weight's gradient
(``_opt_step``, descent.descent_step's rule), at each epoch's rate; the state (M moments of every
parameter, and t) comes in and goes out through S and status, as the loop's docstring says.
"""
from __future__ import annotations

import hashlib
import math
import types

import numpy as np
from numba import njit

from . import activations as _act
from . import losses as _loss

# -- the registry's kernels, in code order -----------------------------------------------------
ELEMENTWISE = tuple(a for a in _act.ACTIVATIONS.values() if a.scalar is not None and not a.scalar.row)
ROWWISE = tuple(a for a in _act.ACTIVATIONS.values() if a.scalar is not None and a.scalar.row)
ACTS = ELEMENTWISE + ROWWISE
N_ELEMENTWISE = len(ELEMENTWISE)
LOSSES = tuple(f for f in _loss.LOSSES.values() if f.scalar is not None)
FUSED = tuple((loss, name, fz) for loss in LOSSES for name, fz in loss.fused.items() if fz.scalar is not None)


def act_code(activation) -> int | None:
    """The code of a registered activation (the very object), None when it has no kernel."""
    return next((i for i, a in enumerate(ACTS) if a is activation), None)


def loss_code(loss) -> int | None:
    return next((i for i, f in enumerate(LOSSES) if f is loss), None)


def fused_code(loss, activation) -> int:
    """The fused pair's code, -1 when the loss is not fused with this output activation."""
    return next((i for i, (f, name, _) in enumerate(FUSED) if f is loss and name == activation.name), -1)


# -- compiling plain-Python kernels ------------------------------------------------------------------
_JITTED: dict = {}


def _jit(f):
    """``f`` compiled; the plain functions it calls by global name are compiled with it."""
    if f not in _JITTED:
        env = dict(f.__globals__)
        for name in f.__code__.co_names:
            if isinstance(env.get(name), types.FunctionType):
                env[name] = _jit(env[name])
        clone = types.FunctionType(f.__code__, env, f.__name__, f.__defaults__, f.__closure__)
        _JITTED[f] = njit(inline="always")(clone)
    return _JITTED[f]


def _code_key(code, env, h) -> None:
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _code_key(c, env, h)
        else:
            h.update(repr(c).encode())
    for name in code.co_names:  # constants read by name (LEAKY_SLOPE) and the functions called
        v = env.get(name)
        if isinstance(v, (int, float)):
            h.update(f"{name}={v!r}".encode())
        elif isinstance(v, types.FunctionType) and v.__code__ is not code:
            _code_key(v.__code__, v.__globals__, h)


def fingerprint(funcs) -> str:
    """A digest of the kernels' code, constants and closure values: the compiled loop's cache key."""
    h = hashlib.sha256()
    for f in funcs:
        _code_key(f.__code__, f.__globals__, h)
        for cell in f.__closure__ or ():
            h.update(repr(cell.cell_contents).encode())
    return h.hexdigest()


# -- dispatch on a code: a chain of compiled functions ---------------------------------------------
_inline = njit(inline="always")  # inlined where called, as a hand-written if-chain would be


def _chain1(fs):
    """g(code, x) = fs[code](x)."""
    if not fs:  # inlined too: no loop calls a function of its own (see _TEMPLATES)
        return _inline(lambda code, x: 0.0)
    head, rest = fs[0], _chain1(fs[1:])
    return _inline(lambda code, x: head(x) if code == 0 else rest(code - 1, x))


def _chain2(fs, none=0.0):
    """g(code, x, y) = fs[code](x, y)."""
    if not fs:
        return _inline(lambda code, x, y: none)
    head, rest = fs[0], _chain2(fs[1:], none)
    return _inline(lambda code, x, y: head(x, y) if code == 0 else rest(code - 1, x, y))


def _chain3(fs):
    """g(code, x, y, w) = fs[code](x, y, w) (kernels that write into w and return None)."""
    if not fs:
        @_inline
        def nothing(code, x, y, w):
            return None
        return nothing
    head, rest = fs[0], _chain3(fs[1:])

    @_inline
    def g(code, x, y, w):
        if code == 0:
            head(x, y, w)
        else:
            rest(code - 1, x, y, w)
    return g


# -- the loop's templates: plain functions, compiled per kernel set by _specialise --------------
# Their kernels are globals of each compiled copy (see _specialise); these placeholders only name them.
_F = _FPRIME = _ROW_F = _ROW_VJP = _LOSS = _GRAD = _FUSED = _OPT = None
_N_EW = 0  # how many of the copy's activation codes are elementwise (the row-wise ones follow)


def _example(p, I, F, X, Y, i, loss, fused, grad, scale):
    """Forward pass of example i; its loss; with ``grad`` also its dW, db added to G.

    I = [L, sizes (L+1), W offsets (L), b offsets (L), unit offsets (L+2), activations (L)].
    """
    L = I[0]
    S, WO, BO, UO, AC = 1, 2 + L, 2 + 2 * L, 2 + 3 * L, 4 + 4 * L
    T = I[UO + L + 1]
    zo, do = T, 2 * T
    for k in range(I[S]):
        F[k] = X[i, k]
    for l in range(L):  # z_l = W_l a_{l-1} + b_l, a_l = f(z_l)
        fan, units, ip, io, act = I[S + l], I[S + l + 1], I[UO + l], I[UO + l + 1], I[AC + l]
        for j in range(units):
            s = 0.0
            w0 = I[WO + l] + j * fan
            for k in range(fan):
                s += F[ip + k] * p[w0 + k]
            F[zo + io + j] = s + p[I[BO + l] + j]
        if act >= _N_EW:
            _ROW_F(act - _N_EW, F[zo + io:zo + io + units], F[io:io + units])
        else:
            for j in range(units):
                F[io + j] = _F(act, F[zo + io + j])
    io, K, act = I[UO + L], I[S + L], I[AC + L - 1]
    if fused >= 0:  # from the logits
        value = _FUSED(fused, F[zo + io:zo + io + K], Y[i])
    else:
        value = _LOSS(loss, F[io:io + K], Y[i])
    if grad:
        _output_delta(F, Y, i, io, zo, do, K, loss, fused, act, scale)
        _backward(p, I, F, L, S, WO, BO, UO, AC, zo, do, 3 * T)
    return value


def _output_delta(F, Y, i, io, zo, do, K, loss, fused, act, scale):
    """delta_L = dL/dz_L of the batch loss (scale = 1/n or 1) into D."""
    if fused >= 0:  # the fused pairs: yhat - y
        for k in range(K):
            F[do + io + k] = scale * (F[io + k] - Y[i, k])
        return
    _GRAD(loss, F[io:io + K], Y[i], F[do + io:do + io + K])  # dL/da first, as the generic loop does
    for k in range(K):
        F[do + io + k] = scale * F[do + io + k]
    if act >= _N_EW:
        _ROW_VJP(act - _N_EW, F[do + io:do + io + K], F[zo + io:zo + io + K], F[io:io + K])
    else:
        for k in range(K):
            F[do + io + k] = F[do + io + k] * _FPRIME(act, F[zo + io + k], F[io + k])


def _backward(p, I, F, L, S, WO, BO, UO, AC, zo, do, go):
    """The delta rule from the output delta: adds this example's dW, db to G (hidden layers are
    elementwise: fast._supported sends the others to the generic loop)."""
    for l in range(L - 1, -1, -1):
        fan, units, ip, io = I[S + l], I[S + l + 1], I[UO + l], I[UO + l + 1]
        for j in range(units):
            d = F[do + io + j]
            F[go + I[BO + l] + j] += d
            w0 = I[WO + l] + j * fan
            for k in range(fan):
                F[go + w0 + k] += d * F[ip + k]
        if l > 0:
            for k in range(fan):
                s = 0.0
                for j in range(units):
                    s += F[do + io + j] * p[I[WO + l] + j * fan + k]
                F[do + ip + k] = s * _FPRIME(I[AC + l - 1], F[zo + ip + k], F[ip + k])


def _penalty(p, mask, P, lam, m, mean):
    """L2's (λ/2)·Σ W² over every weight (mask bit 2), times m with ``mean`` (a running sum's share)."""
    if lam == 0.0:
        return 0.0
    s = 0.0
    for q in range(P):
        if mask[q] & 2:
            s += p[q] * p[q]
    pen = 0.5 * lam * s
    return pen * m if mean else pen


def _opt_step(p, mask, F, go, no, P, old, new, M, h, lam, lr, status):
    """The optimizer's step (its registry kernel, ``Optimizer.scalar``) on every trained parameter:
    g = dL/dp (+ λp on a weight); new values into F[no:], new moments into ``new``; p and ``old``
    change only when every new value is finite (returns False otherwise). status[4] is t."""
    t = status[4] + 1.0
    for q in range(P):
        if mask[q] & 1:
            g = F[go + q]
            if mask[q] & 2 and lam != 0.0:
                g = g + lam * p[q]
            v = _OPT(p[q], g, old, new, q, h, lr, t, mask[q] >> 1)
            if not math.isfinite(v):
                return False
            F[no + q] = v
    for q in range(P):
        if mask[q] & 1:
            p[q] = F[no + q]
            for j in range(M):
                old[j, q] = new[j, q]
    status[4] = t
    return True


def _no_optimizer(p, g, old, new, q, h, lr, t, weight):
    return p - lr * g  # the kernel of a loop for plain descent (never called: it runs without H)


# a plain-descent loop never takes its optimizer branch: these stand in for _opt_step and _penalty
# there, so that its compile stays what it was (seed 000's first run: 9.4 s CPU with them, 7 s without)
def _no_step(p, mask, F, go, no, P, old, new, M, h, lam, lr, status):
    return True


def _no_penalty(p, mask, P, lam, m, mean):
    return 0.0


def _make_run(stamp: str):
    """The loop's template, a closure over its kernels' key: numba keys its disk cache on the
    closure's values, so a changed kernel never loads a stale compiled loop."""

    def run(p, mask, I, loss, fused, mean, rates, X, Y, orders, size, e0, e1, mode, rows, status, S, H):
        """Epochs e0 .. e1-1 in place on p (rates[e]: epoch e0 + e's η); journal rows into ``rows``;
        returns epochs completed. mask[q]: 0 frozen, bit 1 trained, bit 2 a weight (L2, AdamW).

        status = [failure (0 none, 1 loss, 2 update, 3 epoch loss), update k, value, updates done, t].
        S = [optimizer state (M, P) | its next values (M, P) | per epoch (e1 - e0) rows of M * P]
        and H = [λ, the optimizer's settings...]; without an optimizer S is empty.
        """
        key = stamp  # noqa: F841  (the cache key)
        n, L, P = X.shape[0], I[0], p.size
        T = I[2 + 3 * L + L + 1]
        go, no = 3 * T, 3 * T + P
        F = np.zeros(3 * T + 2 * P)
        shuffled = orders.shape[0] > 0
        M = S.size // (P * (2 + e1 - e0))  # moments per parameter
        old, new = S[:M * P].reshape((M, P)), S[M * P:2 * M * P].reshape((M, P))
        opt = H.size > 0
        lam = H[0] if opt else 0.0
        h = H[1:]
        for e in range(e1 - e0):
            total, k, lr = 0.0, 0, rates[e]
            for s in range(0, n, size):
                k += 1
                m = min(size, n - s)
                scale = 1.0 / m if mean else 1.0
                for q in range(P):
                    F[go + q] = 0.0
                batch = 0.0
                for r in range(m):
                    i = orders[e, s + r] if shuffled else s + r
                    batch += _example(p, I, F, X, Y, i, loss, fused, True, scale)
                if not math.isfinite(batch):
                    status[0], status[1], status[2] = 1, k, batch / m if mean else batch
                    return e
                if opt:  # the optimizer's step (descent.descent_step's rule): new values into F, then S
                    if mode == 2:
                        total += _penalty(p, mask, P, lam, m, mean)
                    if not _opt_step(p, mask, F, go, no, P, old, new, M, h, lam, lr, status):
                        status[0], status[1] = 2, k
                        return e
                else:
                    for q in range(P):  # W - eta dW: all finite, or nothing changes
                        if mask[q] & 1 and not math.isfinite(p[q] - lr * F[go + q]):
                            status[0], status[1] = 2, k
                            return e
                    for q in range(P):
                        if mask[q] & 1:
                            p[q] = p[q] - lr * F[go + q]
                status[3] += 1
                if mode == 2:
                    total += batch
                elif mode == 1:
                    for r in range(m):
                        i = orders[e, s + r] if shuffled else s + r
                        total += _example(p, I, F, X, Y, i, loss, fused, False, 1.0)
                    if lam != 0.0:
                        total += _penalty(p, mask, P, lam, m, mean)
            if mode == 0:
                total = 0.0
                for i in range(n):
                    total += _example(p, I, F, X, Y, i, loss, fused, False, 1.0)
            epoch_loss = total / n if mean else total
            if mode == 0 and lam != 0.0:
                epoch_loss += _penalty(p, mask, P, lam, 1, False)
            if not math.isfinite(epoch_loss):
                status[0], status[1], status[2] = 3, k, epoch_loss
                return e
            rows[e, 0] = e0 + e
            rows[e, 1] = epoch_loss
            for q in range(P):
                rows[e, 2 + q] = p[q]
            for q in range(M * P):  # the state after this epoch (checkpoints)
                S[2 * M * P + e * M * P + q] = S[q]
        return e1 - e0

    return run


# -- one compiled loop per kernel set ------------------------------------------------------------
def _clone(f, env: dict):
    """Template ``f`` compiled with globals ``env``; the templates it calls by name compiled with it."""
    for name in f.__code__.co_names:
        if name in _TEMPLATES and env[name] is _TEMPLATES[name][0]:
            env[name] = _clone(env[name], env)
    return njit(**_TEMPLATES[f.__name__][1])(types.FunctionType(f.__code__, env, f.__name__))


def _chains(ew: list, row: list, losses: list, fz: list, opt) -> dict:
    """The templates' kernel globals: dispatch chains over just these entries' kernels."""
    return dict(
        _N_EW=len(ew),
        _F=_chain1([_jit(a.scalar.value) for a in ew]),                # a = f(z)
        _FPRIME=_chain2([_jit(a.scalar.derivative) for a in ew]),      # f'(z, a)
        _ROW_F=_chain2([_jit(a.scalar.value) for a in row], None),     # row(z, a): a = f(z)
        _ROW_VJP=_chain3([_jit(a.scalar.derivative) for a in row]),    # row(d, z, a): d = J^T d
        _LOSS=_chain2([_jit(f.scalar.value) for f in losses]),         # loss(a, y)
        _GRAD=_chain3([_jit(f.scalar.grad) for f in losses]),          # grad(a, y, out)
        _FUSED=_chain2([_jit(z.scalar) for z in fz]),                  # loss from logits (z, y)
        _OPT=_jit(opt),                                                 # Optimizer.scalar
    )


def _stamp(ew: list, row: list, losses: list, fz: list, opt) -> str:
    """The loop's disk-cache key: which entries fill which chain, and their kernels' fingerprint."""
    kernels = [k for a in ew + row for k in (a.scalar.value, a.scalar.derivative)]
    kernels += [k for f in losses for k in (f.scalar.value, f.scalar.grad)] + [z.scalar for z in fz] + [opt]
    names = ([a.name for a in ew], [a.name for a in row], [f.name for f in losses], len(fz), opt.__qualname__)
    return repr(names) + fingerprint(kernels)


def _specialise(acts: tuple, loss: int, fused: int, opt=_no_optimizer):
    """(compiled loop, its activation codes per layer, loss code, fused code) for these registry codes.

    The loop's dispatch chains hold the kernels of these activations (elementwise ones in
    registry order, then row-wise ones), this loss (none when fused) and this fused pair only.
    """
    used = sorted(set(acts))  # elementwise codes sort before row-wise ones
    ew = [ACTS[c] for c in used if c < N_ELEMENTWISE]
    row = [ACTS[c] for c in used if c >= N_ELEMENTWISE]
    losses = [LOSSES[loss]] if fused < 0 else []  # a fused pair's loss and delta come from the logits
    fz = [FUSED[fused][2]] if fused >= 0 else []
    env = {**globals(), **_chains(ew, row, losses, fz, opt)}
    plain = opt is _no_optimizer
    for name, stub in (("_example", None), ("_opt_step", _no_step), ("_penalty", _no_penalty)):
        env[name] = _inline(stub) if plain and stub else _clone(_TEMPLATES[name][0], env)
    template = _make_run(_stamp(ew, row, losses, fz, opt))
    loop = njit(cache=True)(types.FunctionType(template.__code__, env, template.__name__, None, template.__closure__))
    local = {c: i for i, c in enumerate(used)}
    return loop, np.array([local[c] for c in acts], np.int64), 0, 0 if fused >= 0 else -1


# name -> (template, njit options of its compiled copies). Every copy is inlined into its loop: a copy
# the loop *called* was named by its template and numba's per-process counter, so loops cached by two
# processes could carry two copies of one name, and a process that loaded both ran the second loop
# with the first one's kernels (tests/test_scalar_cache.py). Inlined, _example also costs less:
# W1 72 -> 58 ns an update with the batch journal, 126 -> 84 with the epoch journal (its loss pass)
_TEMPLATES = {"_example": (_example, {"inline": "always"}), "_output_delta": (_output_delta, {"inline": "always"}),
              "_backward": (_backward, {"inline": "always"}), "_opt_step": (_opt_step, {"inline": "always"}),
              "_penalty": (_penalty, {"inline": "always"})}
_LOOPS: dict = {}  # (activation codes per layer, loss code, fused code) -> _specialise's answer


def run(p, mask, I, loss, fused, mean, rates, X, Y, orders, size, e0, e1, mode, rows, status, S, H, opt=None):
    """The compiled loop for this network's kernels and optimizer (``opt``: an ``Optimizer.scalar``
    kernel; None: plain descent), built or loaded from the disk cache on first use: epochs e0 .. e1-1
    in place on p at rates[e], journal rows into ``rows``; returns epochs completed.

    I = [L, sizes (L+1), W offsets (L), b offsets (L), unit offsets (L+2), activations (L)] with
    registry codes; mask[q] = trained (1) | weight (2); status = [failure (0 none, 1 loss, 2 update,
    3 epoch loss), update k, value, updates done, t]; S, H: see the loop's docstring.
    """
    L = int(I[0])
    key = (tuple(I[4 + 4 * L:].tolist()), loss, fused, opt or _no_optimizer)
    if key not in _LOOPS:
        _LOOPS[key] = _specialise(*key)
    loop, acts, local_loss, local_fused = _LOOPS[key]
    J = np.concatenate([I[:4 + 4 * L], acts])
    return loop(p, mask, J, local_loss, local_fused, mean, rates, X, Y, orders, size, e0, e1, mode, rows, status,
                S, H)
