"""The hand-written anchors of the optimizer workloads (issue 15 item 8), as a user writes them.

``numpy_adam``: W3-adam (64-32-10, sigmoid/softmax cross-entropy, mean over each batch) with
Adam as PyTorch and deltarule define it:

    t <- t + 1;  m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2
    P <- P - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)

``python_momentum``: W1-momentum (one sigmoid neuron, sse, per example) with PyTorch's SGD
momentum in pure Python floats, written inline: v <- mu v + g (v starts at 0), P <- P - lr v.
"""
from __future__ import annotations

import math

import numpy as np


def numpy_adam(x, y, Ws, bs, lr, B, E, beta1, beta2, eps):
    """E epochs of batches of B (in order), Adam; Ws/bs updated in place and returned."""
    (W1, W2), (b1, b2) = Ws, bs
    params = [W1, b1, W2, b2]
    m = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]
    t, n = 0, len(x)
    for _ in range(E):
        for start in range(0, n, B):
            xb, yb = x[start:start + B], y[start:start + B]
            a1 = 1 / (1 + np.exp(-(xb @ W1.T + b1)))
            z2 = a1 @ W2.T + b2
            z2 -= z2.max(axis=1, keepdims=True)
            p = np.exp(z2)
            p /= p.sum(axis=1, keepdims=True)
            d2 = (p - yb) / len(xb)
            d1 = (d2 @ W2) * a1 * (1 - a1)
            grads = [d1.T @ xb, d1.sum(axis=0), d2.T @ a1, d2.sum(axis=0)]
            t += 1
            c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
            for i, (P, g) in enumerate(zip(params, grads)):
                m[i] = beta1 * m[i] + (1 - beta1) * g
                s[i] = beta2 * s[i] + (1 - beta2) * g * g
                P -= lr * (m[i] / c1) / (np.sqrt(s[i] / c2) + eps)
    return Ws, bs


def python_momentum(x, y, Ws, bs, lr, E, mu):
    """W1 with momentum mu: [w, b] after E epochs of per-example updates (sse: dL/da = 2(a - y))."""
    xs, ys = [float(v) for v in x[:, 0]], [float(v) for v in y[:, 0]]
    w, b = float(Ws[0][0, 0]), float(bs[0][0])
    vw = vb = 0.0
    exp = math.exp
    for _ in range(E):
        for xi, yi in zip(xs, ys):
            a = 1.0 / (1.0 + exp(-(w * xi + b)))
            d = 2.0 * (a - yi) * a * (1.0 - a)
            vw = mu * vw + d * xi
            vb = mu * vb + d
            w -= lr * vw
            b -= lr * vb
    return [w, b]
