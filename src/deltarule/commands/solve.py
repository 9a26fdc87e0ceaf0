"""deltarule solve PROBLEM: the worked solution of the first N updates."""
from __future__ import annotations

import json
import sys

from . import nonnegative_int, positive_int, write_output
from ..errors import ExitStatus, InputError

HELP = "worked solution of the first N updates of a problem (text, markdown, latex, html, json)"
EXAMPLE = ("  deltarule solve seed-002\n"
           "  deltarule solve seed-003 --style matrix --chain 'W1[1,1]' --format html -o seed-003.html\n"
           "  deltarule solve seed-004-example-3-stochastic --steps 3 --format json -o steps.json\n"
           "  deltarule solve seed-002 --format html --interactive -o page.html   # step through it in a browser")
FORMATS = ("text", "markdown", "latex", "html", "json")


def add_arguments(p) -> None:
    from . import add_allow_outside

    add_allow_outside(p)
    p.add_argument("problem", help="a problem file (YAML or JSON) or a built-in example name")
    p.add_argument("--steps", type=positive_int, default=1, help="how many updates (default 1)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--decimals", type=nonnegative_int, help="decimals shown (default: the problem's, else 3)")
    p.add_argument("--style", choices=("neuron", "matrix"), default="neuron",
                   help="per neuron, as seeds 002 and 004 (default), or in matrix form, as seeds 001 and 003")
    p.add_argument("--chain", metavar="PARAM",
                   help="also expand the chain rule in full for one parameter, e.g. W1[1,1] or b2[1]")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument("--interactive", action="store_true",
                   help="with --format html: a page that steps through the solution one line at a time")
    p.add_argument("--epochs", type=positive_int, metavar="E",
                   help="with --interactive: also train E epochs and add a slider over the journal")


def solution_json(steps) -> str:
    return json.dumps({"steps": [s.to_json() for s in steps]}, indent=1)


def _finite_steps(problem, count: int):
    """The updates, refused with one line (exit 2) where a number overflows float64:
    a worked solution full of inf and nan (and JSON that is not JSON) helps nobody."""
    import numpy as np

    from ..errors import InputError

    with np.errstate(all="ignore"):
        steps = problem.steps(count)
    for k, step in enumerate(steps, start=1):
        values = step.values()
        for name in sorted(values, key=lambda n: n.startswith("loss")):  # in pass order: z1 before loss
            if not np.isfinite(np.asarray(values[name], dtype=float)).all():
                raise InputError(f"{name} of update {k} is not finite (the numbers overflow float64: "
                                 f"scale the inputs, weights or learning rate down)", "", problem.source)
    return steps


def _check_interactive(args) -> None:
    if getattr(args, "interactive", False) and args.format != "html":
        raise InputError("needs --format html", "--interactive")
    if getattr(args, "epochs", None) is not None and not getattr(args, "interactive", False):
        raise InputError("only with --format html --interactive (the epoch slider)", "--epochs")


def run(args) -> int:
    from ..problem import load_problem

    _check_interactive(args)
    problem = load_problem(args.problem, allow_outside=args.allow_outside)
    steps = _finite_steps(problem, args.steps)
    if problem.scaler is not None:  # the numbers below are not the file's: say so, once
        print(f"deltarule solve: the inputs x are scaled ({problem.scaler.scale}: x = (x - offset) / divisor, "
              f"per column, as the problem's preprocess says); the solution shows the scaled values",
              file=sys.stderr)
    if args.format == "json":
        write_output(solution_json(steps), args.output)
        return ExitStatus.OK
    from ..solution import Solution  # the one that also trains the epoch slider's journal

    decimals = args.decimals if args.decimals is not None else problem.decimals
    try:
        solution = Solution(problem, steps, decimals, args.style, args.chain)
    except InputError as e:  # the library names its fields (chain, style); here they are options
        raise InputError(e.message, f"--{e.field}" if e.field in ("chain", "style") else e.field, e.file) from None
    if getattr(args, "interactive", False):
        from ..training import Diverged

        try:
            page = solution.interactive(args.epochs).page
        except Diverged as e:  # training for the epoch slider diverged: say so, as train does
            print(f"{problem.source or args.problem}: --epochs: {e}", file=sys.stderr)
            return ExitStatus.DIVERGED
        write_output(page, args.output)
        return ExitStatus.OK
    if args.format == "text" and (not args.output or args.output == "-"):
        from ..explain.text import print_rich

        print_rich(solution.document)  # styled on a terminal; plain in a pipe or with NO_COLOR
        return ExitStatus.OK
    write_output(solution.render(args.format), args.output)
    return ExitStatus.OK
