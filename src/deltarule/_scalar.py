"""The compiled scalar training loop (numba) used by :mod:`deltarule.fast` for tiny networks.

Everything runs on one flat float64 parameter vector ``p`` in the journal's order
(W_1 row by row, b_1, W_2, b_2, ...) and on per-unit buffers: A and Z hold a_l and z_l of
every layer one after another (A starts with the input a_0), D holds the deltas, G the
gradient of the current batch. The arithmetic is the generic loop's, written out per
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
def _forward(p, sizes, woff, boff, uoff, acts, A, Z):
    """z_l and a_l of every layer for the example whose input is in A[0:sizes[0]]."""
    for l in range(len(acts)):
        fan, units, ip, io = sizes[l], sizes[l + 1], uoff[l], uoff[l + 1]
        for j in range(units):
            s = 0.0
            w0 = woff[l] + j * fan
            for k in range(fan):
                s += A[ip + k] * p[w0 + k]
            Z[io + j] = s + p[boff[l] + j]
        if acts[l] == 5:  # softmax, shifted by the max
            zmax = Z[io]
            for j in range(1, units):
                zmax = max(zmax, Z[io + j])
            tot = 0.0
            for j in range(units):
                A[io + j] = math.exp(Z[io + j] - zmax)
                tot += A[io + j]
            for j in range(units):
                A[io + j] /= tot
        else:
            for j in range(units):
                A[io + j] = _f(acts[l], Z[io + j])


@njit(cache=True)
def _loss(loss, act, Z, A, y, io, K):
    """The per-example loss of the output a_L = A[io:io+K] against y."""
    s = 0.0
    if loss == 4 and act == 1:  # bce from the logits: softplus(z) - y z
        for k in range(K):
            z = Z[io + k]
            s += (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) - y[k] * z
        return s
    if loss == 5:  # cross-entropy with softmax, from the logits: -sum y (z - lse)
        zmax = Z[io]
        for k in range(1, K):
            zmax = max(zmax, Z[io + k])
        tot = 0.0
        for k in range(K):
            tot += math.exp(Z[io + k] - zmax)
        lse = math.log(tot)
        for k in range(K):
            s += y[k] * ((Z[io + k] - zmax) - lse)
        return -s
    if loss == 4:  # bce on clipped probabilities
        for k in range(K):
            q = min(max(A[io + k], EPS), 1.0 - EPS)
            s += y[k] * math.log(q) + (1.0 - y[k]) * math.log1p(-q)
        return -s
    for k in range(K):
        d = A[io + k] - y[k]
        s += d * d
    if loss == 1:
        return 0.5 * s
    if loss == 2:
        return s / K
    if loss == 3:
        return 0.5 * (s / K)
    return s


@njit(cache=True)
def _output_delta(loss, act, Z, A, D, y, io, K, scale):
    """delta_L = dL/dz_L of the batch loss (scale = 1/n or 1) into D[io:io+K]."""
    if (loss == 4 and act == 1) or (loss == 5 and act == 5):  # fused: yhat - y
        for k in range(K):
            D[io + k] = scale * (A[io + k] - y[k])
        return
    for k in range(K):  # dL/da first, as the generic loop does
        a, t = A[io + k], y[k]
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
        D[io + k] = scale * g
    if act == 5:  # softmax: J^T g = a * (g - <g, a>)
        ga = 0.0
        for k in range(K):
            ga += D[io + k] * A[io + k]
        for k in range(K):
            D[io + k] = A[io + k] * (D[io + k] - ga)
    else:
        for k in range(K):
            D[io + k] = D[io + k] * _fprime(act, Z[io + k], A[io + k])


@njit(cache=True)
def _backward(p, sizes, woff, boff, uoff, acts, A, Z, D, G):
    """The delta rule from D's output delta: adds this example's dW, db to G."""
    for l in range(len(acts) - 1, -1, -1):
        fan, units, ip, io = sizes[l], sizes[l + 1], uoff[l], uoff[l + 1]
        for j in range(units):
            d = D[io + j]
            G[boff[l] + j] += d
            w0 = woff[l] + j * fan
            for k in range(fan):
                G[w0 + k] += d * A[ip + k]
        if l > 0:
            for k in range(fan):
                s = 0.0
                for j in range(units):
                    s += D[io + j] * p[woff[l] + j * fan + k]
                D[ip + k] = s * _fprime(acts[l - 1], Z[ip + k], A[ip + k])


@njit(cache=True)
def _example_loss(p, sizes, woff, boff, uoff, acts, loss, A, Z, x, y):
    d, L = sizes[0], len(acts)
    for k in range(d):
        A[k] = x[k]
    _forward(p, sizes, woff, boff, uoff, acts, A, Z)
    return _loss(loss, acts[L - 1], Z, A, y, uoff[L], sizes[L])


@njit(cache=True)
def _data_loss(p, sizes, woff, boff, uoff, acts, loss, mean, A, Z, X, Y):
    """The loss over all examples, reduced."""
    s = 0.0
    for i in range(X.shape[0]):
        s += _example_loss(p, sizes, woff, boff, uoff, acts, loss, A, Z, X[i], Y[i])
    return s / X.shape[0] if mean else s


@njit(cache=True)
def _update(p, mask, G, lr):
    """W - eta dW for the trainable parameters; False (and nothing changed) if any is not finite."""
    for i in range(p.size):
        if not math.isfinite(p[i] - lr * G[i]) and mask[i]:
            return False
    for i in range(p.size):
        if mask[i]:
            p[i] = p[i] - lr * G[i]
    return True


@njit(cache=True)
def run(p, mask, sizes, woff, boff, acts, loss, mean, lr, X, Y, orders, size, e0, e1, mode, rows, status):
    """Epochs e0 .. e1-1 in place on p; journal rows into ``rows``; returns epochs completed.

    status = [failure (0 none, 1 loss, 2 update, 3 epoch loss), update k, value, updates done].
    """
    n, L = X.shape[0], len(acts)
    uoff = np.zeros(L + 2, np.int64)
    for l in range(L + 1):
        uoff[l + 1] = uoff[l] + sizes[l]
    A, Z, D = np.zeros(uoff[L + 1]), np.zeros(uoff[L + 1]), np.zeros(uoff[L + 1])
    G = np.zeros(p.size)
    io, K, act = uoff[L], sizes[L], acts[L - 1]
    for e in range(e1 - e0):
        total, k = 0.0, 0
        for s in range(0, n, size):
            k += 1
            m = min(size, n - s)
            scale = 1.0 / m if mean else 1.0
            G[:] = 0.0
            batch = 0.0
            for r in range(m):
                i = orders[e, s + r] if orders.shape[0] > 0 else s + r
                batch += _example_loss(p, sizes, woff, boff, uoff, acts, loss, A, Z, X[i], Y[i])
                _output_delta(loss, act, Z, A, D, Y[i], io, K, scale)
                _backward(p, sizes, woff, boff, uoff, acts, A, Z, D, G)
            if not math.isfinite(batch):
                status[0], status[1], status[2] = 1, k, batch / m if mean else batch
                return e
            if not _update(p, mask, G, lr):
                status[0], status[1] = 2, k
                return e
            status[3] += 1
            if mode == 2:
                total += batch
            elif mode == 1:
                for r in range(m):
                    i = orders[e, s + r] if orders.shape[0] > 0 else s + r
                    total += _example_loss(p, sizes, woff, boff, uoff, acts, loss, A, Z, X[i], Y[i])
        if mode == 0:
            epoch_loss = _data_loss(p, sizes, woff, boff, uoff, acts, loss, mean, A, Z, X, Y)
        else:
            epoch_loss = total / n if mean else total
        if not math.isfinite(epoch_loss):
            status[0], status[1], status[2] = 3, k, epoch_loss
            return e
        rows[e, 0] = e0 + e
        rows[e, 1] = epoch_loss
        rows[e, 2:] = p
    return e1 - e0
