"""W3 as a plain numpy script: what a user writes instead of `deltarule train` (commands.py).

    python benchmarks/digits_numpy.py digits.npz float32 1000

64-32-10 (sigmoid, softmax cross-entropy, mean over the batch), batches of 32 in order, eta 0.5,
Xavier-uniform weights, zero biases; prints the last epoch's summed batch loss (so the work is used).
"""
import sys

import numpy as np


def main(path: str, dtype: str, epochs: int) -> None:
    dt = np.dtype(dtype)
    with np.load(path) as data:
        x = np.ascontiguousarray(data["inputs"], dtype=dt)
        y = np.eye(10, dtype=dt)[data["targets"]]
    rng = np.random.default_rng(0)
    W1 = rng.uniform(-1, 1, (32, 64)).astype(dt) * dt.type(np.sqrt(6 / 96))
    W2 = rng.uniform(-1, 1, (10, 32)).astype(dt) * dt.type(np.sqrt(6 / 42))
    b1, b2 = np.zeros(32, dt), np.zeros(10, dt)
    lr, B, n = 0.5, 32, len(x)
    total = 0.0
    for _ in range(epochs):
        total = 0.0
        for s in range(0, n, B):
            xb, yb = x[s:s + B], y[s:s + B]
            c = dt.type(lr / len(xb))
            a1 = 1 / (1 + np.exp(-(xb @ W1.T + b1)))
            z2 = a1 @ W2.T + b2
            z2 -= z2.max(axis=1, keepdims=True)
            p = np.exp(z2)
            sums = p.sum(axis=1, keepdims=True)
            total -= float(np.vdot(yb, z2 - np.log(sums)))
            p /= sums
            d2 = (p - yb) * c
            d1 = (d2 @ W2) * a1 * (1 - a1)
            W2 -= d2.T @ a1
            b2 -= d2.sum(axis=0)
            W1 -= d1.T @ xb
            b1 -= d1.sum(axis=0)
    print(f"last epoch's loss {total / n:.6f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
