"""The benchmark workloads W1-W4 and one implementation of each per library.

Every implementation starts from the same initial weights on the same data (``setup``)
and returns the final parameters in deltarule's order (W1 row by row, b1, W2, b2) so
that the parent process can check that the libraries computed the same thing.
Run by ``run.py`` in a child process per (library, workload); see README.md.
"""
from __future__ import annotations

import math
import time

import numpy as np

# name: (sizes, activations, loss, learning rate, batch size, epochs, dtype)
WORKLOADS = {
    "W1": ((1, 1), ("sigmoid",), "sse", 0.9, 1, 20_000, "float64"),
    "W2": ((2, 2, 1), ("sigmoid", "sigmoid"), "half_sse", 0.5, 1, 20_000, "float64"),
    "W3-64": ((64, 32, 10), ("sigmoid", "softmax"), "cross_entropy", 0.5, 32, 50, "float64"),
    "W3-32": ((64, 32, 10), ("sigmoid", "softmax"), "cross_entropy", 0.5, 32, 50, "float32"),
    "W4": ((784, 256, 10), ("sigmoid", "softmax"), "cross_entropy", 0.1, 128, 1, "float32"),
    # issue 15 item 8: the same data and network with an optimizer (OPTIMIZERS)
    "W3-adam": ((64, 32, 10), ("sigmoid", "softmax"), "cross_entropy", 0.001, 32, 50, "float64"),
    "W1-momentum": ((1, 1), ("sigmoid",), "sse", 0.9, 1, 20_000, "float64"),
}
# workload: (deltarule.optimizers name, settings); the rest run plain gradient descent
OPTIMIZERS = {"W3-adam": ("adam", {}), "W1-momentum": ("sgd", {"momentum": 0.9})}
ADAM = dict(beta1=0.9, beta2=0.999, eps=1e-8)  # PyTorch's defaults, deltarule's too
DATA = {"W3-adam": "W3-64", "W1-momentum": "W1"}  # whose data and initial weights a workload takes
QUICK_EPOCHS = {"W1": 2_000, "W2": 2_000, "W3-64": 5, "W3-32": 5, "W4": 1, "W3-adam": 5, "W1-momentum": 2_000}
W4_SAMPLES, W4_QUICK_SAMPLES = 60_000, 6_000


def setup(name: str, quick: bool = False):
    """(x, y, labels, Ws, bs, spec) — data and initial weights, the same in every process."""
    sizes, acts, loss, lr, batch, epochs, dtype = WORKLOADS[name]
    if quick:
        epochs = QUICK_EPOCHS[name]
    dt = np.dtype(dtype)
    rng = np.random.default_rng(7)
    optimizer = OPTIMIZERS.get(name)
    name = DATA.get(name, name)
    if name == "W1":  # seed 000: one sigmoid neuron from w = -2, b = 1
        x = np.array([[3.5], [0.35], [3.2], [-2.0], [1.5], [-0.5]])
        y = np.array([[0.5], [0.5], [0.5], [0.5], [0.1], [0.3]])
        Ws, bs = [np.array([[-2.0]])], [np.array([1.0])]
    elif name == "W2":  # XOR
        x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        y = np.array([[0.0], [1.0], [1.0], [0.0]])
        Ws = [rng.normal(0, 1, (2, 2)), rng.normal(0, 1, (1, 2))]
        bs = [rng.normal(0, 0.5, 2), rng.normal(0, 0.5, 1)]
    else:
        if name.startswith("W3"):
            from sklearn.datasets import load_digits

            x, labels = load_digits(return_X_y=True)
            x = x / 16.0
        else:  # synthetic, MNIST-sized
            n = W4_QUICK_SAMPLES if quick else W4_SAMPLES
            x = rng.random((n, 784), dtype=np.float32)
            labels = rng.integers(0, 10, n)
        y = np.eye(10)[labels]
        Ws = [rng.normal(0, 1 / math.sqrt(f), (u, f)) for f, u in zip(sizes, sizes[1:])]
        bs = [np.zeros(u) for u in sizes[1:]]
    x, y = np.ascontiguousarray(x, dt), np.ascontiguousarray(y, dt)
    Ws, bs = [W.astype(dt) for W in Ws], [b.astype(dt) for b in bs]
    labels = np.argmax(y, axis=1)
    return x, y, labels, Ws, bs, dict(sizes=sizes, acts=acts, loss=loss, lr=lr, batch=batch, epochs=epochs,
                                      dtype=dtype, optimizer=optimizer)


def flat(Ws, bs) -> list[float]:
    return [float(v) for W, b in zip(Ws, bs) for v in (*np.ravel(W), *np.ravel(b))]


CPU = {}  # the last timed call's CPU seconds (this process, all threads)


def _timed(fn):
    """(fn(), wall seconds); the CPU seconds go to CPU["seconds"]: on a shared, loaded machine
    the CPU time of a one-thread run is the steadier measure of its work."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    CPU["seconds"] = time.process_time() - c0
    return out, time.perf_counter() - t0


# -- deltarule ------------------------------------------------------------------------------
def run_deltarule(name, x, y, labels, Ws, bs, spec, journal="batch"):
    import deltarule as dr

    net = dr.Network(tuple(dr.Layer(W, b, f) for W, b, f in zip(Ws, bs, spec["acts"])), spec["loss"], "mean")
    method = "stochastic" if spec["batch"] == 1 else "minibatch"
    schedule = dr.Schedule(method, spec["batch"], spec["epochs"])
    kwargs = {} if journal == "epoch" else dict(journal_loss="batch", initial_row=False)
    if spec["optimizer"]:
        from deltarule import optimizers

        kwargs["optimizer"] = optimizers.get(spec["optimizer"][0], **spec["optimizer"][1])
    engine = _engine(net, len(x), schedule, kwargs)
    if engine == "scalar":  # compile (or load the cache) outside the timing; measured apart
        t0 = time.perf_counter()
        dr.train(net, x, y, spec["lr"], dr.Schedule(method, spec["batch"], 2000), **kwargs)
        warmup = time.perf_counter() - t0
    else:
        warmup = 0.0
    result, seconds = _timed(lambda: dr.train(net, x, y, spec["lr"], schedule, **kwargs))
    p = result.network
    return flat([l.W for l in p.layers], [l.b for l in p.layers]), seconds, {"engine": engine or "generic",
                                                                            "warmup_s": round(warmup, 3)}


def _engine(net, n, schedule, kwargs) -> str:
    """The engine ``train`` takes for this run (an optimizer may route it to the generic loop)."""
    from deltarule import fast

    journal = kwargs.get("journal_loss", "epoch")
    try:
        from deltarule.optimization import Optimization
        from deltarule.training.run import choose

        return choose(net, n, schedule, journal, None, None, Optimization(kwargs.get("optimizer")))
    except (ImportError, TypeError):  # an older or newer chooser: the plain-descent answer
        return fast.engine_for(net, n, schedule, journal) or "generic"


# -- plain numpy, hand-written: the floor ------------------------------------------------------
def run_numpy(name, x, y, labels, Ws, bs, spec):
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]
    lr, B, E = spec["lr"], spec["batch"], spec["epochs"]
    if spec["optimizer"]:
        from optim_loops import numpy_adam

        out, seconds = _timed(lambda: numpy_adam(x, y, Ws, bs, lr, B, E, **ADAM))
        return flat(*out), seconds, {}
    if B == 1:
        out, seconds = _timed(lambda: _numpy_per_example(x, y, Ws, bs, lr, E, spec["loss"]))
        return flat(*out), seconds, {}
    dt = x.dtype.type
    (W1, W2), (b1, b2) = Ws, bs

    def loop():
        n, total = len(x), 0.0
        for _ in range(E):
            total = 0.0
            for s in range(0, n, B):
                xb, yb = x[s:s + B], y[s:s + B]
                c = dt(lr / len(xb))
                a1 = 1 / (1 + np.exp(-(xb @ W1.T + b1)))
                z2 = a1 @ W2.T + b2
                z2 -= z2.max(axis=1, keepdims=True)
                p = np.exp(z2)
                sums = p.sum(axis=1, keepdims=True)
                total -= float(np.vdot(yb, z2 - np.log(sums)))  # the batch's loss, as PyTorch logs it
                p /= sums
                d2 = (p - yb) * c
                d1 = (d2 @ W2) * a1 * (1 - a1)
                np.subtract(W2, d2.T @ a1, out=W2)
                np.subtract(b2, d2.sum(axis=0), out=b2)
                np.subtract(W1, d1.T @ xb, out=W1)
                np.subtract(b1, d1.sum(axis=0), out=b1)
        return total

    _, seconds = _timed(loop)
    return flat([W1, W2], [b1, b2]), seconds, {}


def _numpy_per_example(x, y, Ws, bs, lr, E, loss):
    sig = lambda z: 1 / (1 + np.exp(-z))
    for _ in range(E):
        for i in range(len(x)):
            a0 = x[i]
            acts = [a0]
            for W, b in zip(Ws, bs):
                acts.append(sig(W @ acts[-1] + b))
            yhat = acts[-1]
            d = (2.0 if loss == "sse" else 1.0) * (yhat - y[i]) * yhat * (1 - yhat)
            for l in range(len(Ws) - 1, -1, -1):
                prev = acts[l]
                dprev = (Ws[l].T @ d) * prev * (1 - prev) if l else None
                Ws[l] -= lr * np.outer(d, prev)
                bs[l] -= lr * d
                d = dprev
    return Ws, bs


def run_python(name, x, y, labels, Ws, bs, spec):
    if spec["optimizer"]:
        from optim_loops import python_momentum

        out, seconds = _timed(lambda: python_momentum(x, y, Ws, bs, spec["lr"], spec["epochs"],
                                                      spec["optimizer"][1]["momentum"]))
        return out, seconds, {}
    return _python_plain(name, x, y, labels, Ws, bs, spec)


def _python_plain(name, x, y, labels, Ws, bs, spec):
    """Pure Python floats, per example (W1, W2), written inline as one would by hand: the
    sigmoid and the learning rate folded into the loop body, no function call per update
    (issue 13's "inline pure-Python floats" anchor). W1/W2's z stay far inside exp's range."""
    lr, E, k = spec["lr"], spec["epochs"], (2.0 if spec["loss"] == "sse" else 1.0)
    X, Y = x.tolist(), [row[0] for row in y.tolist()]
    exp = math.exp
    if name == "W1":
        w, b = float(Ws[0][0, 0]), float(bs[0][0])
        xs = [r[0] for r in X]
        klr = k * lr

        def loop():
            nonlocal w, b
            for _ in range(E):
                for xi, yi in zip(xs, Y):
                    a = 1.0 / (1.0 + exp(-(w * xi + b)))
                    d = klr * (a - yi) * a * (1.0 - a)
                    w -= d * xi
                    b -= d

        _, seconds = _timed(loop)
        return [w, b], seconds, {}
    (w11, w12), (w21, w22) = Ws[0].tolist()
    (c1, c2), (v1, v2), (c3,) = bs[0].tolist(), Ws[1][0].tolist(), bs[1].tolist()

    def loop2():
        nonlocal w11, w12, w21, w22, c1, c2, v1, v2, c3
        for _ in range(E):
            for (x1, x2), yi in zip(X, Y):
                h1 = 1.0 / (1.0 + exp(-(w11 * x1 + w12 * x2 + c1)))
                h2 = 1.0 / (1.0 + exp(-(w21 * x1 + w22 * x2 + c2)))
                o = 1.0 / (1.0 + exp(-(v1 * h1 + v2 * h2 + c3)))
                d = k * (o - yi) * o * (1.0 - o)
                d1, d2 = v1 * d * h1 * (1.0 - h1), v2 * d * h2 * (1.0 - h2)
                v1 -= lr * d * h1
                v2 -= lr * d * h2
                c3 -= lr * d
                w11 -= lr * d1 * x1
                w12 -= lr * d1 * x2
                c1 -= lr * d1
                w21 -= lr * d2 * x1
                w22 -= lr * d2 * x2
                c2 -= lr * d2

    _, seconds = _timed(loop2)
    return [w11, w12, w21, w22, c1, c2, v1, v2, c3], seconds, {}


# -- PyTorch eager ----------------------------------------------------------------------------
def run_torch(name, x, y, labels, Ws, bs, spec, threads=1):
    import torch

    torch.set_num_threads(threads)
    dt = getattr(torch, spec["dtype"])
    layers = []
    for W, b, f in zip(Ws, bs, spec["acts"]):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if f == "sigmoid":
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)  # softmax is inside cross_entropy
    if spec["optimizer"] and spec["optimizer"][0] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=spec["lr"], betas=(ADAM["beta1"], ADAM["beta2"]),
                               eps=ADAM["eps"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], **(spec["optimizer"] or ("", {}))[1])
    X, Y, T = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(labels)
    B, E, n = spec["batch"], spec["epochs"], len(x)
    ce = spec["loss"] == "cross_entropy"
    half = 0.5 if spec["loss"] == "half_sse" else 1.0

    def loop():
        total = 0.0
        for _ in range(E):
            total = 0.0
            for s in range(0, n, B):
                opt.zero_grad()
                out = model(X[s:s + B])
                if ce:
                    loss = torch.nn.functional.cross_entropy(out, T[s:s + B])
                else:
                    loss = half * ((out - Y[s:s + B]) ** 2).sum(dim=1).mean()
                loss.backward()
                opt.step()
                total += loss.item()
        return total

    _, seconds = _timed(loop)
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    return flat([m.weight.detach().numpy() for m in lins], [m.bias.detach().numpy() for m in lins]), seconds, {}


# -- scikit-learn ------------------------------------------------------------------------------
def run_sklearn(name, x, y, labels, Ws, bs, spec):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    adam = dict(solver="adam", beta_1=ADAM["beta1"], beta_2=ADAM["beta2"], epsilon=ADAM["eps"])
    solver = adam if spec["optimizer"] else dict(solver="sgd")  # its adam: eps beside the uncorrected sqrt(s)
    clf = MLPClassifier(hidden_layer_sizes=(Ws[0].shape[0],), activation="logistic", **solver,
                        learning_rate="constant", learning_rate_init=spec["lr"], momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, batch_size=spec["batch"], shuffle=False,
                        early_stopping=False, tol=0.0, n_iter_no_change=10**9, warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x[:len(x)], labels)  # builds its internals; the weights are replaced next
        for c, W in zip(clf.coefs_, Ws):
            c[...] = W.T  # scikit-learn stores W^T (fan_in x units)
        for c, b in zip(clf.intercepts_, bs):
            c[...] = b
        clf.max_iter = spec["epochs"]
        _, seconds = _timed(lambda: clf.fit(x, labels))
    return flat([c.T for c in clf.coefs_], clf.intercepts_), seconds, {"epochs_run": clf.n_iter_}


# -- micrograd (scalar autograd) -------------------------------------------------------------
def run_micrograd(name, x, y, labels, Ws, bs, spec):
    """micrograd has no sigmoid: it is added as micrograd adds ops (a Value with its _backward)."""
    from micrograd.engine import Value

    def sigmoid(v):
        z = v.data
        s = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        out = Value(s, (v,), "sigmoid")

        def _backward():
            v.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    W = [[[Value(float(w)) for w in row] for row in Wl] for Wl in Ws]
    b = [[Value(float(v)) for v in bl] for bl in bs]
    params = [p for Wl, bl in zip(W, b) for p in (*[w for row in Wl for w in row], *bl)]
    lr, E, k = spec["lr"], spec["epochs"], (1.0 if spec["loss"] == "sse" else 0.5)
    X, Y = x.tolist(), y.tolist()

    def loop():
        for _ in range(E):
            for xi, yi in zip(X, Y):
                a = [Value(v) for v in xi]
                for Wl, bl in zip(W, b):
                    a = [sigmoid(sum((w * ai for w, ai in zip(row, a)), bj)) for row, bj in zip(Wl, bl)]
                loss = sum((k * (ak - yk) ** 2 for ak, yk in zip(a, yi)), Value(0.0))
                for p in params:
                    p.grad = 0.0
                loss.backward()
                for p in params:
                    p.data -= lr * p.grad

    _, seconds = _timed(loop)
    return [p.data for p in params], seconds, {}


# -- JAX, compiled scan (optional anchor) ------------------------------------------------------
def run_jax(name, x, y, labels, Ws, bs, spec):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    k = 1.0 if spec["loss"] == "sse" else 0.5
    E, n = spec["epochs"], len(x)

    def loss_fn(params, xi, yi):
        a = xi
        for W, b in params:
            a = jax.nn.sigmoid(W @ a + b)
        return k * jnp.sum((a - yi) ** 2)

    grad = jax.grad(loss_fn)

    def step(params, i):
        g = grad(params, X[i], Y[i])
        return [(W - spec["lr"] * gW, b - spec["lr"] * gb) for (W, b), (gW, gb) in zip(params, g)], None

    X, Y = jnp.asarray(x), jnp.asarray(y)
    order = jnp.tile(jnp.arange(n), E)
    run = jax.jit(lambda params: jax.lax.scan(step, params, order)[0])
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in zip(Ws, bs)]
    t0 = time.perf_counter()
    jax.block_until_ready(run(params))  # compile
    compile_s = time.perf_counter() - t0
    out, seconds = _timed(lambda: jax.block_until_ready(run(params)))
    return flat([np.asarray(W) for W, _ in out], [np.asarray(b) for _, b in out]), seconds, {
        "compile_s": round(compile_s - seconds, 3)}


IMPORTS = {"deltarule": "deltarule.fast", "torch": "torch", "sklearn": "sklearn.neural_network",
           "micrograd": "micrograd.engine", "jax": "jax"}
LIBRARIES = {
    "deltarule": run_deltarule, "numpy": run_numpy, "python": run_python, "torch": run_torch,
    "sklearn": run_sklearn, "micrograd": run_micrograd, "jax": run_jax,
    "deltarule-epoch": lambda *a: run_deltarule(*a, journal="epoch"),
}
# which libraries run which workloads (micrograd and pure Python only the tiny ones)
PLAN = {
    "W1": ["deltarule", "deltarule-epoch", "numpy", "python", "torch", "micrograd", "jax"],
    "W2": ["deltarule", "deltarule-epoch", "numpy", "python", "torch", "micrograd", "jax"],
    "W3-64": ["deltarule", "deltarule-epoch", "numpy", "torch", "sklearn"],
    "W3-32": ["deltarule", "deltarule-epoch", "numpy", "torch", "sklearn"],
    "W4": ["deltarule", "deltarule-epoch", "numpy", "torch", "sklearn"],
    "W3-adam": ["deltarule", "deltarule-epoch", "numpy", "torch", "sklearn"],
    "W1-momentum": ["deltarule", "deltarule-epoch", "python", "torch"],
}
