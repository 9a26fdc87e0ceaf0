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

    s, n = problem.schedule, len(problem.split()[0])  # the examples trained on
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

    @property
    def ran(self):
        """The schedule as far as it ran: its epochs cut to those completed (early stopping)."""
        from dataclasses import replace

        return replace(self.schedule, epochs=max(len(self.journal) - 1, 1))


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


def optimizer_text(problem) -> str:
    """The problem's update rule in words, for titles and captions: ``plain gradient descent``, or the
    optimizer with the settings that differ from its defaults, the rate schedule and L2."""
    from dataclasses import fields

    o = problem.optimization
    if o.plain:
        return "plain gradient descent"
    parts = []
    for what in (o.optimizer, o.lr_schedule):
        if what is not None:
            changed = [f"{f.name} {getattr(what, f.name):g}" for f in fields(what)
                       if getattr(what, f.name) != f.default]
            parts.append(what.name + (f" ({', '.join(changed)})" if changed else ""))
    if o.l2:
        parts.append(f"L2 λ = {o.l2:g}")
    return ", ".join(parts)


def data_text(problem) -> str:
    """Which examples the runs train on, and (with ``validation:``) which give the val loss."""
    x, _, x_val, _ = problem.split()
    if x_val is None:
        return f"{len(x)} examples"
    return f"{len(x)} training examples, val loss on the {len(x_val)} held out (validation {problem.validation[0]:g})"


def print_table(problem, runs: list[Run], lr: float) -> None:
    """Method, batch size, epochs, updates, final loss (and val loss), time: rich on a terminal, plain in a pipe."""
    validation = problem.validation is not None
    head = ("method", "batch size", "epochs", "updates", "final loss", *(("val loss",) if validation else ()),
            "time (s)")
    n = len(problem.split()[0])
    rows = []
    for r in runs:
        s, j = r.schedule, r.journal
        loss = "diverged" if r.diverged else f"{j.loss[-1]:.6g}"
        val = (f"{j.rows[-1, j.columns.index('val_loss')]:.6g}" if not r.diverged and 'val_loss' in j.columns
               else "-",) if validation else ()
        updates = str(r.diverged.update if r.diverged else r.result.updates)
        epochs = str(s.epochs) if r.ran.epochs == s.epochs or r.diverged else f"{r.ran.epochs} of {s.epochs}"
        rows.append((r.label, str(s.size(n)), epochs, updates, loss, *val, f"{r.seconds:.3g}"))
    caption = (f"{safe_text(problem.name)}: loss {problem.network.loss.name} ({problem.network.reduction}) over "
               f"{data_text(problem)}, learning rate {lr:g}, {optimizer_text(problem)}, same start for every method")
    _print_rows(caption, head, rows)


def _print_rows(caption: str, head: tuple, rows: list[tuple]) -> None:
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
    """Loss per epoch of every run (and, with ``validation:``, its val_loss dashed); beside it, for
    two parameters, the training loss surface and the paths the problem's optimizer takes."""
    from .. import landscape, plots

    names, paths = problem.network.parameter_names(), {}
    x, y = problem.split()[:2]  # the examples the runs train on
    rule = optimizer_text(problem)
    if len(names) == 2:
        paths = {r.label: landscape.descent_path(problem.network, x, y, problem.learning_rate, r.ran, names,
                                                 optimization=problem.optimization) for r in runs if not r.diverged}
    fig, axes = plots.new_figure((12.0, 4.8) if paths else plots.SIZE, ncols=2 if paths else 1)
    validation = problem.validation is not None
    plots.plot_runs({r.label: r.journal for r in runs}, axes[0], logy=logy,
                    beside="val_loss" if validation else None,
                    title=f"{'loss and val_loss (dashed)' if validation else 'loss'} per epoch "
                          f"({problem.network.loss.name}, {problem.network.reduction})")
    if paths:
        plots.plot_surface(landscape.surface(problem.network, x, y, names, paths, l2=problem.optimization.l2),
                           paths, axes[1],
                           title=f"descent paths on the {'training ' if validation else ''}loss surface\n{rule}")
    fig.suptitle(plots.wrap(f"{problem.name}\n{', '.join(r.label for r in runs)} from the same start; {rule}; "
                            f"{data_text(problem)}", 120 if paths else 70))  # the figure's width
    return fig
