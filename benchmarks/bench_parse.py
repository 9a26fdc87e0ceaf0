"""How fast problem files are read and validated: the 1 MB problem file of issue 6.

    python benchmarks/bench_parse.py            # prints a table; exit 1 if a 1 MB file takes > 1 s
    python benchmarks/bench_parse.py --repeat 5

Files of about 1 MB of inline data (25,000 examples of 4 inputs and 1 target) in the styles
people write or generate, each parsed (``loader.parse_text``) and validated
(``problem.parse_problem``) in-process; best of ``--repeat`` runs. The YAML styles that the
loader reads on its fast path (flow lists on a line, and block items that are each a flow
list or a number) are held to 1 s; fully nested block style (``- - 0.1``, PyYAML's default
dump) goes through libyaml node by node and is reported, not held. The time of plain
``yaml.load`` with ``CSafeLoader`` on the same text is shown for comparison.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import yaml

from deltarule.loader import parse_text
from deltarule.problem import parse_problem

HEAD = ("layers:\n  - {units: 8, inputs: 4, activation: tanh}\n  - {units: 1, activation: sigmoid}\n"
        "loss: bce\nlearning_rate: 0.1\n")


def files(n: int = 25_000) -> dict[str, tuple[str, str, bool]]:
    """name -> (file name, text, held to 1 s)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(n, 4)).round(6), rng.uniform(size=(n, 1)).round(6)
    flow = HEAD + "data:\n  inputs: " + json.dumps(x.tolist()) + "\n  targets: " + json.dumps(y.tolist()) + "\n"
    block = (HEAD + "data:\n  inputs:\n" + "".join(f"    - [{', '.join(map(str, r))}]\n" for r in x)
             + "  targets:\n" + "".join(f"    - {r[0]}\n" for r in y))
    doc = yaml.safe_load(HEAD)
    doc["data"] = {"inputs": x.tolist(), "targets": y.tolist()}
    nested = yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), default_flow_style=False)
    return {"yaml, flow lists": ("big.yaml", flow, True),
            "yaml, block of flow rows": ("big.yaml", block, True),
            "json": ("big.json", json.dumps(doc), True),
            "yaml, nested block (- - 0.1)": ("big.yaml", nested, False)}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"PyYAML {yaml.__version__}, libyaml (CSafeLoader): {hasattr(yaml, 'CSafeLoader')}")
    print(f"{'file':32} {'MB':>6} {'deltarule s':>12} {'plain yaml.load s':>18}  held to 1 s")
    slow = []
    for name, (file, text, held) in files().items():
        seconds = best(lambda: parse_problem(parse_text(text, file, json_only=file.endswith(".json")), file),
                       args.repeat)
        plain = "" if file.endswith(".json") else \
            f"{best(lambda: yaml.load(text, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader)), 1):.3f}"
        mark = ("ok" if seconds <= 1 else "TOO SLOW") if held else "-"
        print(f"{name:32} {len(text) / 2**20:6.2f} {seconds:12.3f} {plain:>18}  {mark}")
        if held and seconds > 1:
            slow.append(name)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
