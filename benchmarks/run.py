"""deltarule against PyTorch, scikit-learn, micrograd, plain numpy, pure Python and JAX.

    python benchmarks/run.py            # the full suite (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer epochs, a smoke test
    python benchmarks/run.py --only W1,W2 --threads 2

Every (library, workload) runs in its own child process (``--child``) from the same data
and initial weights (``workloads.setup``); the parent prints the machine, thread and BLAS
information, a table of throughput with ratios, the largest difference of the final
parameters from deltarule's, for W4 the achieved GFLOP/s against the matrix-product bound
measured at the same shapes in the same run, and the children's peak memory.
Libraries that are not installed are skipped with a note (JAX is optional).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MICROGRAD_EPOCHS = 1_000  # micrograd is scaled down: a few thousand updates, reported per update
TORCH_TINY_EPOCHS = 5_000  # so is PyTorch on W1/W2 (30,000 and 20,000 updates): its rate is steady
REPEAT_CPU_S, MAX_REPEATS = 1.0, 5  # a run under a CPU second is repeated (at most 5 runs), best kept


def child(lib: str, name: str, quick: bool, threads: int, clock: str) -> dict:
    """Runs in the child process: one library on one workload; prints one JSON line."""
    from threadpoolctl import threadpool_info, threadpool_limits


    import workloads as wl

    threadpool_limits(threads)
    if lib == "matmul":
        return matmul_bound(name, quick, threads)
    import importlib

    if wl.IMPORTS.get(lib.split("-")[0]):  # the library's own import counts to the baseline, not to the run
        importlib.import_module(wl.IMPORTS[lib.split("-")[0]])
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the data exists
    x, y, labels, Ws, bs, spec = wl.setup(name, quick)
    if lib == "micrograd":
        spec["epochs"] = min(spec["epochs"], MICROGRAD_EPOCHS)
    if lib == "torch" and spec["batch"] == 1:
        spec["epochs"] = min(spec["epochs"], TORCH_TINY_EPOCHS)
    fn = wl.LIBRARIES[lib]
    kwargs = {"threads": threads} if lib == "torch" else {}
    cpu, wall, infos = [], [], []
    while True:  # short runs are repeated from the same start (each run is pure) and the best kept
        params, seconds, info = fn(name, x, y, labels, Ws, bs, spec, **kwargs)
        infos.append(info)  # the first run's notes: its compile or cache load is the one that counts
        cpu.append(wl.CPU["seconds"])
        wall.append(seconds)
        if sum(cpu) >= REPEAT_CPU_S or len(cpu) >= MAX_REPEATS:
            break
    info = dict(infos[0], repeats=len(cpu))
    seconds, wl.CPU["seconds"] = min(wall), min(cpu)
    n = len(x)
    updates = spec["epochs"] * -(-n // spec["batch"])
    out = dict(lib=lib, workload=name, wall_s=seconds, cpu_s=wl.CPU["seconds"],
               seconds=wl.CPU["seconds"] if clock == "cpu" else seconds, epochs=spec["epochs"], updates=updates,
               samples=spec["epochs"] * n, params=[float(v) for v in params],
               maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               base_rss_mb=base_rss / 1024,
               data_mb=(x.nbytes + y.nbytes + sum(W.nbytes + b.nbytes for W, b in zip(Ws, bs))) / 2**20,
               blas=[(i.get("internal_api"), i.get("num_threads"), i.get("architecture")) for i in threadpool_info()],
               **info)
    if lib in ("micrograd", "torch") and spec["batch"] == 1:  # scaled down: the parameter check
        # is against pure Python floats run for the same epochs
        out["reference"] = [float(v) for v in wl.run_python(name, x, y, labels, Ws, bs, spec)[0]]
    if lib == "sklearn" and spec["optimizer"]:  # its adam is deltarule's with eps_placement sklearn
        out["sklearn_eps"] = sklearn_eps_reference(x, y, labels, Ws, bs, spec)
    return out


def sklearn_eps_reference(x, y, labels, Ws, bs, spec) -> list[float] | None:
    """deltarule's Adam with scikit-learn's ε placement on the same run (None where this
    deltarule has no such option): scikit-learn's parameters should equal these to rounding."""
    import workloads as wl

    name, settings = spec["optimizer"]
    try:
        params, _, _ = wl.run_deltarule("", x, y, labels, Ws, bs,
                                        dict(spec, optimizer=(name, dict(settings, eps_placement="sklearn"))))
    except Exception as exc:  # noqa: BLE001 -- an older deltarule: the option is unknown
        print(f"no eps_placement reference: {exc}", file=sys.stderr)
        return None
    return [float(v) for v in params]


def matmul_bound(name: str, quick: bool, threads: int) -> dict:
    """W4's five matrix products of one step, timed alone (numpy, float32): the bound."""
    import numpy as np


    rng = np.random.default_rng(0)
    B, d, h, k = 128, 784, 256, 10
    f = np.float32
    x, W1, W2 = (rng.random(s, dtype=f) for s in ((B, d), (h, d), (k, h)))
    a1, d2, d1 = (rng.random(s, dtype=f) for s in ((B, h), (B, k), (B, h)))
    z1, z2, g2, da, g1 = (np.empty(s, f) for s in ((B, h), (B, k), (k, h), (B, h), (h, d)))

    def five():
        np.matmul(x, W1.T, out=z1)
        np.matmul(a1, W2.T, out=z2)
        np.matmul(d2.T, a1, out=g2)
        np.matmul(d2, W2, out=da)
        np.matmul(d1.T, x, out=g1)

    for _ in range(20):
        five()
    best = float("inf")
    for _ in range(7):
        t0 = time.process_time()  # CPU time, as the workloads (one thread)
        for _ in range(50):
            five()
        best = min(best, (time.process_time() - t0) / 50)
    flops = 2 * B * (d * h + h * k + k * h + k * h + h * d)
    return dict(lib="matmul", workload=name, step_s=best, samples_per_s=B / best, gflops=flops / best / 1e9,
                flops_per_sample=flops / B)


def spawn(lib: str, name: str, args, threads: int | None = None, clock: str | None = None) -> dict | None:
    threads, clock = threads or args.threads, clock or args.clock
    cmd = [sys.executable, os.path.abspath(__file__), "--child", lib, name, "--threads", str(threads),
           "--clock", clock] + (["--quick"] if args.quick else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:
        return dict(lib=lib, workload=name, error=f"timed out after {args.timeout} s")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return dict(lib=lib, workload=name, error=last[:120])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def available(lib: str) -> bool:
    import importlib.util

    module = {"torch": "torch", "sklearn": "sklearn", "micrograd": "micrograd", "jax": "jax"}.get(lib)
    return module is None or importlib.util.find_spec(module) is not None


def machine(args) -> list[str]:
    import numpy as np
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                     f"{i.get('num_threads')} threads max)" for i in threadpool_info())
    hints = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    return [f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}",
            f"threads per library: {args.threads}; throughput from {args.clock} time; BLAS: {blas}"
            + (f"; env {hints}" if hints else ""),
            f"load average at start: {os.getloadavg()[0]:.2f}"]


UNITS = {"W1": "updates/s", "W2": "updates/s", "W3-64": "samples/s", "W3-32": "samples/s", "W4": "samples/s",
         "W3-adam": "samples/s", "W1-momentum": "updates/s"}


def rate(r: dict) -> float:
    return (r["updates"] if UNITS[r["workload"]] == "updates/s" else r["samples"]) / r["seconds"]


def ref_epochs(ref: dict | None) -> int | None:
    return ref["epochs"] if ref else None


def table(name: str, results: list[dict], bound: dict | None) -> list[str]:
    ok = [r for r in results if "error" not in r]
    ref = next((r for r in ok if r["lib"] == "deltarule"), None)
    memory: list[str] = []
    lines = [f"\n{name} ({UNITS[name]})",
             f"| library | {UNITS[name]} | deltarule is × faster | max abs param diff vs deltarule | "
             f"peak RSS MB (data+params MB) | notes |",
             "|---|---:|---:|---:|---:|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['lib']} | — | — | — | — | {r['error']} |")
            continue
        speed = rate(r)
        ratio = f"{rate(ref) / speed:.2f}" if ref else "—"
        if "reference" in r:
            diff = max(abs(a - b) for a, b in zip(r["params"], r["reference"]))
            diff_s = f"{diff:.1e} (vs Python floats, same epochs)"
        elif ref is not None:
            diff_s = f"{max(abs(a - b) for a, b in zip(r['params'], ref['params'])):.1e}"
        else:
            diff_s = "—"
        if r.get("sklearn_eps"):
            diff = max(abs(a - b) for a, b in zip(r["params"], r["sklearn_eps"]))
            diff_s += f"; {diff:.1e} vs deltarule with eps_placement sklearn"
        notes = []
        if r["lib"] in ("micrograd", "torch") and "reference" in r and r["epochs"] != ref_epochs(ref):
            notes.append(f"{r['epochs']} epochs")
        if "engine" in r:
            notes.append(f"engine {r['engine']}, compile/cache {r['warmup_s']} s")
        if "compile_s" in r:
            notes.append(f"compile {r['compile_s']} s")
        if bound and name == "W4":
            gflops = bound["flops_per_sample"] * speed / 1e9
            notes.append(f"{gflops:.1f} GFLOP/s = {100 * speed / bound['samples_per_s']:.0f}% of the matmul bound")
        if r.get("repeats", 1) > 1:
            notes.append(f"best of {r['repeats']}")
        notes.append(f"process {r['process_s']:.1f} s")
        lines.append(f"| {r['lib']} | {speed:,.0f} | {ratio} | {diff_s} | {r['maxrss_mb']:.0f} "
                     f"({r['data_mb']:.1f}) | {'; '.join(notes)} |")
        if name == "W4":
            grown = r["maxrss_mb"] - r["base_rss_mb"]
            memory.append(f"{r['lib']}: peak {r['maxrss_mb']:.0f} MB, {r['base_rss_mb']:.0f} MB before the data "
                          f"(interpreter and library), so {grown:.0f} MB for data + parameters of "
                          f"{r['data_mb']:.0f} MB = {grown / r['data_mb']:.2f}x")
    lines += memory
    if bound and name == "W4":
        lines.append(f"matmul bound (the five products of a step alone, numpy float32, batch 128): "
                     f"{bound['samples_per_s']:,.0f} samples/s, {bound['gflops']:.1f} GFLOP/s")
    return lines


def two_threads(args) -> list[dict]:
    """W4's 2-thread target: deltarule (batch journal) and PyTorch, each on 2 threads, wall clock."""
    out = []
    for lib in ("deltarule", "torch"):
        if available(lib):
            r = spawn(lib, "W4", args, threads=2, clock="wall")
            out.append(dict(r, lib=f"{lib}@2"))
    return out


def collect_rates(results: list[dict], commands: dict | None) -> dict:
    """(row, workload) -> throughput, for targets.py: the children, the bound and the commands."""
    rates = {}
    for r in results:
        if "error" in r:
            continue
        rates[(r["lib"], r["workload"])] = r["samples_per_s"] if r["lib"] == "matmul" else rate(r)
    if commands:
        for journal, c in commands["w1"]["runs"].items():
            if not c["rc"]:
                rates[(f"command-{journal}", "W1")] = c["updates"] / c["cpu_s"]
        for dtype, d in commands["w3"].items():
            name = "W3-64" if dtype == "float64" else "W3-32"
            for key in ("epoch", "batch", "numpy"):
                if not d[key]["rc"]:
                    rates[(f"command-{key}", name)] = d["samples"] / d[key]["cpu_s"]
    return rates


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer epochs and samples (a smoke test)")
    ap.add_argument("--only", help="comma-separated workloads (W1,W2,W3-64,W3-32,W4,W3-adam,W1-momentum)")
    ap.add_argument("--libs", help="comma-separated libraries")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/torch threads per child (default 1)")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="throughput from the child's CPU time (default: steady on a shared machine, "
                         "meant for --threads 1) or from wall time")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", metavar="FILE", help="also write every result as JSON")
    ap.add_argument("--no-commands", action="store_true",
                    help="leave out the whole commands (deltarule train from the shell, import time)")
    ap.add_argument("--markdown", action="store_true",
                    help="end with the top-level README's speed table (and the targets) from this run")
    ap.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.quick, args.threads, args.clock)))
        return 0
    import commands as cmds
    import targets
    import workloads as wl

    about = machine(args)
    print("\n".join(about))
    names = args.only.split(",") if args.only else list(wl.PLAN)
    everything = []
    for name in names:
        libs = [lib for lib in wl.PLAN[name] if not args.libs or lib in args.libs.split(",")]
        results = []
        for lib in libs:
            if not available(lib):
                results.append(dict(lib=lib, workload=name, error="not installed (optional)"))
                continue
            results.append(spawn(lib, name, args))
        bound = spawn("matmul", name, args) if name == "W4" else None
        everything += results + ([bound] if bound else [])
        print("\n".join(table(name, results, bound)), flush=True)
    if "W4" in names and (not args.libs or "torch" in args.libs.split(",")):
        pair = two_threads(args)
        everything += pair
        print("\nW4 on 2 threads, wall clock: " + ", ".join(
            f"{r['lib']} {rate(r):,.0f} samples/s ({r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU)"
            if "error" not in r else f"{r['lib']} {r['error']}" for r in pair))
    commands = None if args.no_commands else cmds.measure(args.quick)
    if commands:
        print("\n".join(cmds.lines(commands)))
    rates = collect_rates(everything, commands)
    imports = commands and commands["imports"]
    if args.markdown:  # the table, then the targets: ready to paste into the README
        print("\n<!-- README speed table, from this run -->")
        print("\n".join(targets.readme_table(rates, about, imports, args.quick)))
    else:
        print("\n".join(targets.target_lines(rates, imports, args.quick)))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(results=everything, commands=commands), fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
