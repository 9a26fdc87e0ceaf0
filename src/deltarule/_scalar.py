"""The compiled scalar training loop (numba) used by :mod:`deltarule.fast` for tiny networks.

Everything runs on one flat float64 parameter vector ``p`` in the journal's order
(W_1 row by row, b_1, W_2, b_2, ...), one int64 vector ``I`` describing the layers and one
float64 work vector ``F`` = [A | Z | D | G]: A and Z hold a_l and z_l of every layer one
after another (A starts with the input a_0), D the deltas, G the gradient of the current
batch. Few, flat arguments keep the calls cheap (each array argument costs reference
counting at every call). The arithmetic is the generic loop's, written out per
example: z = sum_k W_jk a_k + b_j, the same stable sigmoid, the same fused output deltas
(yhat - y) and clipped probabilities, the same checks for NaN and inf before every update.
Codes: activations and losses as in ``fast.ACT_CODES`` / ``fast.LOSS_CODES``; journal mode
0 epoch, 1 running, 2 batch.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

EPS = float(np.finfo(np.float64).eps)


@njit(cache=True, inline="always")
def _f(code, z):
    if code == 1:  # sigmoid, split on the sign of z so that exp never overflows
        e = math.exp(-abs(z))
        return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    if code == 2:
        return math.tanh(z)
    if code == 3:
        return max(z, 0.0)
    if code == 4:
        return z if z >= 0 else 0.01 * z
    return z


@njit(cache=True, inline="always")
def _fprime(code, z, a):
    if code == 1:
        return a * (1.0 - a)
    if code == 2:
        return 1.0 - a * a
    if code == 3:
        return 1.0 if z > 0 else 0.0
    if code == 4:
        return 1.0 if z > 0 else 0.01
    return 1.0



@njit(cache=True)
def _example(p, I, F, X, Y, i, loss, grad, scale):
    """Forward pass of example i; its loss; with ``grad`` also its dW, db added to G.

    I = [L, sizes (L+1), W offsets (L), b offsets (L), unit offsets (L+2), activations (L)].
    """
    L = I[0]
    S, WO, BO, UO, AC = 1, 2 + L, 2 + 2 * L, 2 + 3 * L, 4 + 4 * L
    T = I[UO + L + 1]
    zo, do, go = T, 2 * T, 3 * T
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
        if act == 5:  # softmax, shifted by the max
            zmax = F[zo + io]
            for j in range(1, units):
                zmax = max(zmax, F[zo + io + j])
            tot = 0.0
            for j in range(units):
                F[io + j] = math.exp(F[zo + io + j] - zmax)
                tot += F[io + j]
            for j in range(units):
                F[io + j] /= tot
        else:
            for j in range(units):
                F[io + j] = _f(act, F[zo + io + j])
    io, K, act = I[UO + L], I[S + L], I[AC + L - 1]
    value = _loss(F, Y, i, io, zo, K, loss, act)
    if grad:
        _output_delta(F, Y, i, io, zo, do, K, loss, act, scale)
        _backward(p, I, F, L, S, WO, BO, UO, AC, zo, do, go)
    return value


@njit(cache=True, inline="always")
def _loss(F, Y, i, io, zo, K, loss, act):
    """The per-example loss of a_L = F[io:io+K] (z_L = F[zo+io:...]) against Y[i]."""
    s = 0.0
    if loss == 4 and act == 1:  # bce from the logits: softplus(z) - y z
        for k in range(K):
            z = F[zo + io + k]
            s += (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) - Y[i, k] * z
        return s
    if loss == 5:  # cross-entropy with softmax, from the logits: -sum y (z - lse)
        zmax = F[zo + io]
        for k in range(1, K):
            zmax = max(zmax, F[zo + io + k])
        tot = 0.0
        for k in range(K):
            tot += math.exp(F[zo + io + k] - zmax)
        lse = math.log(tot)
        for k in range(K):
            s += Y[i, k] * ((F[zo + io + k] - zmax) - lse)
        return -s
    if loss == 4:  # bce on clipped probabilities
        for k in range(K):
            q = min(max(F[io + k], EPS), 1.0 - EPS)
            s += Y[i, k] * math.log(q) + (1.0 - Y[i, k]) * math.log1p(-q)
        return -s
    for k in range(K):
        d = F[io + k] - Y[i, k]
        s += d * d
    if loss == 1:
        return 0.5 * s
    if loss == 2:
        return s / K
    if loss == 3:
        return 0.5 * (s / K)
    return s


@njit(cache=True, inline="always")
def _output_delta(F, Y, i, io, zo, do, K, loss, act, scale):
    """delta_L = dL/dz_L of the batch loss (scale = 1/n or 1) into D."""
    if (loss == 4 and act == 1) or (loss == 5 and act == 5):  # fused: yhat - y
        for k in range(K):
            F[do + io + k] = scale * (F[io + k] - Y[i, k])
        return
    for k in range(K):  # dL/da first, as the generic loop does
        a, t = F[io + k], Y[i, k]
        if loss == 0:
            g = 2.0 * (a - t)
        elif loss == 1:
            g = a - t
        elif loss == 2:
            g = (2.0 / K) * (a - t)
        elif loss == 3:
            g = (1.0 / K) * (a - t)
        else:
            q = min(max(a, EPS), 1.0 - EPS)
            g = (q - t) / (q * (1.0 - q))
        F[do + io + k] = scale * g
    if act == 5:  # softmax: J^T g = a * (g - <g, a>)
        ga = 0.0
        for k in range(K):
            ga += F[do + io + k] * F[io + k]
        for k in range(K):
            F[do + io + k] = F[io + k] * (F[do + io + k] - ga)
    else:
        for k in range(K):
            F[do + io + k] = F[do + io + k] * _fprime(act, F[zo + io + k], F[io + k])


@njit(cache=True, inline="always")
def _backward(p, I, F, L, S, WO, BO, UO, AC, zo, do, go):
    """The delta rule from the output delta: adds this example's dW, db to G."""
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
                F[do + ip + k] = s * _fprime(I[AC + l - 1], F[zo + ip + k], F[ip + k])


@njit(cache=True)
def run(p, mask, I, loss, mean, lr, X, Y, orders, size, e0, e1, mode, rows, status):
    """Epochs e0 .. e1-1 in place on p; journal rows into ``rows``; returns epochs completed.

    status = [failure (0 none, 1 loss, 2 update, 3 epoch loss), update k, value, updates done].
    """
    n, L, P = X.shape[0], I[0], p.size
    T = I[2 + 3 * L + L + 1]
    go = 3 * T
    F = np.zeros(3 * T + P)
    shuffled = orders.shape[0] > 0
    for e in range(e1 - e0):
        total, k = 0.0, 0
        for s in range(0, n, size):
            k += 1
            m = min(size, n - s)
            scale = 1.0 / m if mean else 1.0
            for q in range(P):
                F[go + q] = 0.0
            batch = 0.0
            for r in range(m):
                i = orders[e, s + r] if shuffled else s + r
                batch += _example(p, I, F, X, Y, i, loss, True, scale)
            if not math.isfinite(batch):
                status[0], status[1], status[2] = 1, k, batch / m if mean else batch
                return e
            for q in range(P):  # W - eta dW: all finite, or nothing changes
                if mask[q] and not math.isfinite(p[q] - lr * F[go + q]):
                    status[0], status[1] = 2, k
                    return e
            for q in range(P):
                if mask[q]:
                    p[q] = p[q] - lr * F[go + q]
            status[3] += 1
            if mode == 2:
                total += batch
            elif mode == 1:
                for r in range(m):
                    i = orders[e, s + r] if shuffled else s + r
                    total += _example(p, I, F, X, Y, i, loss, False, 1.0)
        if mode == 0:
            total = 0.0
            for i in range(n):
                total += _example(p, I, F, X, Y, i, loss, False, 1.0)
        epoch_loss = total / n if mean else total
        if not math.isfinite(epoch_loss):
            status[0], status[1], status[2] = 3, k, epoch_loss
            return e
        rows[e, 0] = e0 + e
        rows[e, 1] = epoch_loss
        for q in range(P):
            rows[e, 2 + q] = p[q]
    return e1 - e0
