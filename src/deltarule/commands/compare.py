"""deltarule compare PROBLEM: batch, mini-batch and stochastic descent from the same start."""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

from . import nonnegative_int, positive_float, positive_int
from ..errors import ExitStatus
from ..formatting import safe_text

HELP = "train with several methods from the same start: a table of loss, updates, time, and a plot"
EXAMPLE = ("  deltarule compare seed-000-neuron --methods batch,minibatch,stochastic --plot paths.png\n"
           "  deltarule compare moons --epochs 50 --batch-size 10 --plot moons-loss.svg --log")
METHODS = ("batch", "minibatch", "stochastic")


def method_list(text: str) -> list[str]:
    """``batch,minibatch`` -> ["batch", "minibatch"] (argparse type)."""
    import argparse

    names = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in names if m not in METHODS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown method {bad[0] if bad else text!r}; "
                                         f"expected a comma-separated list of {', '.join(METHODS)}")
    return list(dict.fromkeys(names))


def add_run_arguments(p, methods_default: str | None, problem_optional: bool = False) -> None:
    """Options shared by ``compare`` and ``plot``: which runs, and how long."""
    p.add_argument("problem", nargs="?" if problem_optional else None,
                   help="a problem file (YAML or JSON) or a built-in example name")
    p.add_argument("--methods", type=method_list, default=methods_default,
                   help=f"comma-separated methods ({','.join(METHODS)})"
                        + (f"; default {methods_default}" if methods_default else ""))
    p.add_argument("--batch-size", type=positive_int,
                   help="examples per mini-batch (default: the file's, else about the square root of n)")
    p.add_argument("--epochs", type=positive_int, help="passes over the data (default: the file's)")
    p.add_argument("--learning-rate", type=positive_float, help="step size eta (default: the file's)")
    p.add_argument("--shuffle", action="store_true", default=None, help="shuffle examples each epoch")
    p.add_argument("--seed", type=nonnegative_int, help="seed of the shuffle")


def add_arguments(p) -> None:
    from . import add_allow_outside

    add_allow_outside(p)
    add_run_arguments(p, ",".join(METHODS))
    p.add_argument("--plot", metavar="FILE.png", help="draw the loss per epoch of every method (png or svg); "
                   "for a two-parameter model also the loss surface with each descent path")
    p.add_argument("--log", action="store_true", help="loss on a logarithmic scale in the plot")


def schedule_for(problem, method: str, args):
    """The problem's schedule, switched to ``method``, with command-line overrides."""
    from ..training import Schedule

    s, n = problem.schedule, len(problem.x)
    size = None
    if method == "minibatch":
        size = args.batch_size or s.batch_size or max(1, round(math.sqrt(n)))
    return Schedule(method, size, args.epochs or s.epochs,
                    s.shuffle if args.shuffle is None else True, s.seed if args.seed is None else args.seed)


@dataclass(frozen=True)
class Run:
    """One method's training: its schedule, the result (or the divergence) and the time."""

    label: str
    schedule: Any
    result: Any
    diverged: Any
    seconds: float

    @property
    def journal(self):
        return self.diverged.journal if self.diverged else self.result.journal


def train_runs(problem, schedules: dict, learning_rates: dict | None = None) -> list[Run]:
    """Train each labelled schedule from the problem's start; Diverged is kept, not raised."""
    from ..training import Diverged

    runs = []
    for label, schedule in schedules.items():
        lr = (learning_rates or {}).get(label) or problem.learning_rate
        t0 = time.perf_counter()
        try:
            result, diverged = problem.train(schedule, lr), None
        except Diverged as e:
            result, diverged = None, e
        runs.append(Run(label, schedule, result, diverged, time.perf_counter() - t0))
    return runs


def print_table(problem, runs: list[Run], lr: float) -> None:
    """Method, batch size, epochs, updates, final loss, time: rich on a terminal, plain in a pipe."""
    head = ("method", "batch size", "epochs", "updates", "final loss", "time (s)")
    rows = []
    for r in runs:
        s = r.schedule
        loss = "diverged" if r.diverged else f"{r.result.journal.loss[-1]:.6g}"
        updates = str(r.diverged.update if r.diverged else r.result.updates)
        rows.append((r.label, str(s.size(len(problem.x))), str(s.epochs), updates, loss, f"{r.seconds:.3g}"))
    caption = (f"{safe_text(problem.name)}: loss {problem.network.loss.name} ({problem.network.reduction}) over "
               f"{len(problem.x)} examples, learning rate {lr:g}, same start for every method")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(caption))  # literal: a name's [brackets] are not rich markup
        for i, h in enumerate(head):
            table.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print(caption)
    for row in (head, *rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def run(args) -> int:
    from ..problem import load_problem

    problem = load_problem(args.problem, allow_outside=args.allow_outside).require("data", *(() if args.learning_rate else ("learning_rate",)))
    if args.learning_rate:
        from dataclasses import replace

        problem = replace(problem, learning_rate=args.learning_rate)
    if args.plot:
        from ..plots import check_output

        check_output(args.plot)  # refuse a bad file name before training
    runs = train_runs(problem, {m: schedule_for(problem, m, args) for m in args.methods})
    print_table(problem, runs, problem.learning_rate)
    for r in runs:
        if r.diverged:
            print(f"deltarule compare: {r.label}: {r.diverged}", file=sys.stderr)
    if args.plot:
        from ..plots import save_figure

        save_figure(compare_figure(problem, runs, args.log), args.plot)
    return ExitStatus.DIVERGED if any(r.diverged for r in runs) else ExitStatus.OK


def compare_figure(problem, runs: list[Run], logy: bool = False):
    """Loss per epoch of every run; beside it, for two parameters, the surface and paths."""
    from .. import landscape, plots

    names, paths = problem.network.parameter_names(), {}
    if len(names) == 2:
        paths = {r.label: landscape.descent_path(problem.network, problem.x, problem.y, problem.learning_rate,
                                             r.schedule, names) for r in runs if not r.diverged}
    fig, axes = plots.new_figure((12.0, 4.8) if paths else plots.SIZE, ncols=2 if paths else 1)
    plots.plot_runs({r.label: r.journal for r in runs}, axes[0], logy=logy,
                    title=f"loss per epoch ({problem.network.loss.name}, {problem.network.reduction})")
    if paths:
        plots.plot_surface(landscape.surface(problem.network, problem.x, problem.y, names, paths), paths, axes[1],
                           title="descent paths on the loss surface")
    fig.suptitle(plots.wrap(f"{problem.name}: {', '.join(r.label for r in runs)} from the same start", 120))
    return fig
