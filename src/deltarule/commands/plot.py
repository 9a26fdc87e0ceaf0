"""deltarule plot PROBLEM --kind KIND -o FILE: one picture from one command."""
from __future__ import annotations

import re
import sys

from . import positive_int
from .compare import METHODS, add_run_arguments, optimizer_text, schedule_for, train_runs
from ..errors import ExitStatus

HELP = "draw a picture: the journal, the loss surface with descent paths, the network, a decision boundary"
EXAMPLE = ("  deltarule plot seed-000-neuron --kind surface -o surface.png\n"
           "  deltarule plot seed-000-neuron --kind journal --columns w,b,loss -o journal.png\n"
           "  deltarule plot seed-000-neuron --kind journal --learning-rates 0.1,0.9,3 --log -o rates.svg\n"
           "  deltarule plot seed-002 --kind surface --params 'W1[1,1]' 'b2[1]' -o slice.png\n"
           "  deltarule plot seed-002 --kind diagram -o network.svg\n"
           "  deltarule plot moons --kind boundary -o moons.png\n"
           "  deltarule plot --journal run.csv --log -o run.png            # a journal train --journal wrote")
KINDS = ("journal", "surface", "diagram", "boundary")


def name_list(text: str) -> list[str]:
    """``w,b,loss`` or ``W1[1,1],b2[1]``: commas inside brackets belong to the name."""
    return [m.strip() for m in re.findall(r"(?:[^,\[]|\[[^\]]*\])+", text) if m.strip()]


def rate_list(text: str) -> list[float]:
    import argparse

    from . import positive_float

    try:
        return [positive_float(t) for t in text.split(",") if t.strip()]
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"learning rates: {e}") from None


def add_arguments(p) -> None:
    from . import add_allow_outside

    add_allow_outside(p)
    p.add_argument("--kind", choices=KINDS, help="which picture (required with a PROBLEM)")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="the picture file (.png or .svg; the diagram: .svg)")
    p.add_argument("--journal", metavar="RUN.csv", help="plot this journal (train --journal) instead of training: "
                                                        "loss, val_loss, accuracy; --columns and --log apply")
    add_run_arguments(p, None, problem_optional=True)
    p.add_argument("--learning-rates", type=rate_list, metavar="R1,R2,...",
                   help="journal: one run per learning rate, overlaid")
    p.add_argument("--columns", type=name_list, metavar="NAMES",
                   help="journal: columns to draw, e.g. w,b,loss (seed 000's figure), or 'all'")
    p.add_argument("--log", action="store_true", help="journal: loss on a logarithmic scale")
    p.add_argument("--params", nargs=2, metavar="NAME",
                   help="surface: the two parameters, by journal name (default: the first two trainable)")
    p.add_argument("--hold", choices=("start", "end"), default="end",
                   help="surface: hold the other parameters at their start or trained (end) values "
                        "of the first method (default end)")
    p.add_argument("--resolution", type=positive_int, help="surface/boundary: grid points per side")
    p.add_argument("--step", type=positive_int, default=1,
                   help="diagram: draw the values of this update (default 1, the first)")
    p.add_argument("--example", type=positive_int, default=1,
                   help="diagram: show z and a of this example of the update's batch (default 1, the first)")


def run(args) -> int:
    from ..plots import check_output, save_figure
    from ..problem import load_problem

    check_output(args.output)  # refuse a bad file name before any work
    if args.journal:
        return _saved_journal(args)
    _need_problem_and_kind(args)
    problem = load_problem(args.problem, allow_outside=args.allow_outside)
    if args.kind != "diagram" or args.learning_rate:
        problem = problem.require("data", *(() if args.learning_rate else ("learning_rate",)))
    if args.learning_rate:
        from dataclasses import replace

        problem = replace(problem, learning_rate=args.learning_rate)
    if args.kind == "diagram":
        return _diagram(problem, args)
    fig, runs = {"journal": _journal, "surface": _surface, "boundary": _boundary}[args.kind](problem, args)
    save_figure(fig, args.output)
    for r in runs:
        if r.diverged:
            print(f"deltarule plot: {r.label}: {r.diverged}", file=sys.stderr)
    return ExitStatus.DIVERGED if any(r.diverged for r in runs) else ExitStatus.OK


def _need_problem_and_kind(args) -> None:
    from ..errors import InputError

    if not args.problem:
        raise InputError("give a problem file or example name (or --journal RUN.csv)", "problem")
    if not args.kind:
        raise InputError(f"missing --kind ({', '.join(KINDS)})", "--kind")


def read_journal(path: str):
    """A journal CSV (``train --journal``) as a :class:`~deltarule.results.Journal`: the bounded CSV
    reader, a header with ``epoch`` and ``loss`` first, every value a finite number."""
    import numpy as np

    from ..data import read_csv
    from ..errors import InputError
    from ..results import Journal

    names: list[str] = []
    table = read_csv(path, (), None, size_field="", names_out=names)[0]
    if names[:2] != ["epoch", "loss"]:
        raise InputError(f"not a journal: the columns start {', '.join(names[:2])[:80]}, not epoch, loss", "", path)
    if len(table) == 0:
        raise InputError("no epochs (the journal has a header only)", "", path)
    rows = np.array(table)
    rows.flags.writeable = False
    return Journal(tuple(names), rows)


def _saved_journal(args) -> int:
    """``plot --journal RUN.csv``: the figure train --plot draws, from a journal already written."""
    from pathlib import Path

    from ..errors import InputError
    from ..plots import journal_figure, save_figure

    if args.kind not in (None, "journal") or args.problem:
        raise InputError("--journal plots a journal file: give no PROBLEM, and --kind journal or none", "--journal")
    journal = read_journal(args.journal)
    columns = args.columns[0] if args.columns and len(args.columns) == 1 and args.columns[0] in (
        "loss", "all", "parameters") else args.columns
    try:
        fig = journal_figure(journal, columns, logy=args.log, title=Path(args.journal).name)
    except KeyError as e:
        raise InputError(str(e.args[0]), "--columns") from None
    save_figure(fig, args.output)
    return ExitStatus.OK


def _methods(problem, args) -> list[str]:
    return args.methods or [problem.schedule.method]


def _journal(problem, args):
    from ..errors import InputError
    from ..plots import journal_figure

    methods = _methods(problem, args)
    if args.learning_rates:
        if len(methods) > 1:
            raise InputError("give several methods or several learning rates, not both", "--learning-rates")
        labels = {f"η = {r:g}": r for r in args.learning_rates}
        runs = train_runs(problem, {k: schedule_for(problem, methods[0], args) for k in labels}, labels)
    else:
        runs = train_runs(problem, {m: schedule_for(problem, m, args) for m in methods})
    journals = {r.label: r.journal for r in runs}
    columns = args.columns[0] if args.columns and len(args.columns) == 1 and args.columns[0] in (
        "loss", "all", "parameters") else args.columns
    try:
        if len(runs) == 1:
            fig = journal_figure(runs[0].journal, columns, logy=args.log,
                                 title=f"{problem.name}\n{_describe(problem, runs[0])}")
        else:
            what = (f"{_describe(problem, runs[0]).split(', learning')[0]}, several learning rates"
                    if args.learning_rates else f"learning rate {problem.learning_rate:g}")
            fig = journal_figure(journals, columns, logy=args.log,
                                 title=f"{problem.name}\n{what}, {optimizer_text(problem)}")
    except KeyError as e:
        raise InputError(str(e.args[0]), "--columns") from None
    return fig, runs


def _describe(problem, run) -> str:
    s = run.schedule
    size = f", batch size {s.size(len(problem.split()[0]))}" if s.method == "minibatch" else ""
    return f"{s.method}{size}, learning rate {problem.learning_rate:g}, {optimizer_text(problem)}"


def _surface(problem, args):
    from .. import landscape, plots

    net = problem.network
    methods = args.methods or list(METHODS)
    names = _surface_pair(net, args)
    runs = train_runs(problem, {m: schedule_for(problem, m, args) for m in methods})
    x, y = problem.split()[:2]  # the examples training takes its steps on, by the problem's own rule
    paths = {r.label: landscape.descent_path(net, x, y, problem.learning_rate, r.ran, names,
                                             optimization=problem.optimization) for r in runs if not r.diverged}
    if not paths:
        return plots.journal_figure({r.label: r.journal for r in runs}), runs
    held, note = _surface_held(net, runs, args)
    fig, (ax,) = plots.new_figure((7.0, 5.6))
    surface = landscape.surface(held, x, y, names, paths, resolution=args.resolution or 81,
                                l2=problem.optimization.l2)  # the loss the optimizer descends
    what = "training loss" if problem.validation is not None else "loss"
    epochs = runs[0].schedule.epochs
    stopped = " (early stopping)" if any(r.ran.epochs < epochs for r in runs if not r.diverged) else ""
    plots.plot_surface(surface, paths, ax,
                       title=f"{problem.name}\n{what} surface over {names[0]} and {names[1]}\n"
                             f"{'up to ' if stopped else ''}{epochs} epochs{stopped}, learning rate "
                             f"{problem.learning_rate:g}\n{optimizer_text(problem)}{note}")
    return fig, runs


def _surface_pair(net, args) -> list[str]:
    """The two parameters the surface is laid over (--params, else the default pair), checked."""
    from ..errors import InputError
    from .. import landscape

    try:
        names = args.params or landscape.default_pair(net)
        for n in names:
            landscape.parameter_index(net, n)
    except (KeyError, ValueError) as e:
        raise InputError(str(e.args[0]), "--params") from None
    if names[0] == names[1]:
        raise InputError("choose two different parameters", "--params")
    return names


def _surface_held(net, runs, args) -> tuple:
    """The network whose other parameters stay fixed on the surface (--hold), and the title's note saying so."""
    if len(net.parameter_names()) <= 2:
        return net, ""
    first = next(r for r in runs if not r.diverged)
    held = first.result.network if args.hold == "end" else net
    return held, f"\nother parameters held at their {'trained (' + first.label + ')' if args.hold == 'end' else 'starting'} values"


def _boundary(problem, args):
    from ..errors import InputError
    from .. import landscape, plots

    if problem.network.sizes[0] != 2:
        raise InputError(f"a decision boundary needs two inputs; this network takes {problem.network.sizes[0]}",
                         "layers[1]", problem.source)
    method = _methods(problem, args)[0]
    runs = train_runs(problem, {method: schedule_for(problem, method, args)})
    r = runs[0]
    net = r.diverged.network if r.diverged else r.result.network
    fig, (ax,) = plots.new_figure((7.0, 5.6))
    grid = landscape.boundary(net, problem.x, resolution=args.resolution or 200)
    plots.plot_boundary(grid, problem.x, problem.y, ax,
                        title=f"{problem.name}\ndecision boundary after {r.ran.epochs} epochs\n"
                              f"{_describe(problem, r)}")
    return fig, runs


def _diagram(problem, args) -> int:
    """The network as SVG (diagram.network_svg, shared with the HTML worked solution)."""
    from ..diagram import network_svg
    from ..errors import InputError
    from ..io import write_text

    if not args.output.lower().endswith(".svg"):
        raise InputError("the network diagram is drawn as SVG only: name a .svg file (train, surface, "
                         "boundary and journal pictures are PNG or SVG)", "", args.output)
    obj, what, n = problem.network, "weights and biases", None
    if problem.x is not None and problem.learning_rate is not None:
        method = _methods(problem, args)[0]
        obj = problem.steps(args.step, schedule_for(problem, method, args))[-1]
        n = len(obj.examples)
        what = f"update {args.step} ({method}), example {obj.examples[min(args.example, n) - 1] + 1}"
    elif problem.x is not None:  # no learning rate: the forward and backward pass over all the data
        obj, n, what = problem.network.trace(problem.x, problem.y), len(problem.x), f"example {args.example}"
    if n is None and args.example > 1:
        raise InputError("the problem has no data: there is no example to draw", "--example")
    if n is not None and args.example > n:
        raise InputError(f"there {'is' if n == 1 else 'are'} only {n} example{'s' if n != 1 else ''} "
                         f"to draw{' in the batch of this update' if problem.learning_rate else ''}", "--example")
    try:
        svg = network_svg(obj, problem.decimals, example=args.example - 1, title=f"{problem.name}: {what}")
        write_text(args.output, svg + "\n")
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", "", args.output) from None
    return ExitStatus.OK
