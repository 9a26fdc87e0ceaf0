"""deltarule solve PROBLEM: the worked solution of the first N updates."""
from __future__ import annotations

import json

from . import nonnegative_int, positive_int, write_output

HELP = "worked solution of the first N updates of a problem (text, markdown, latex, html, json)"
EXAMPLE = ("  deltarule solve seed-002\n"
           "  deltarule solve seed-004-example-3-stochastic --steps 3 --format json -o steps.json")
FORMATS = ("text", "markdown", "latex", "html", "json")


def add_arguments(p) -> None:
    p.add_argument("problem", help="a problem file (YAML or JSON) or a built-in example name")
    p.add_argument("--steps", type=positive_int, default=1, help="how many updates (default 1)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--decimals", type=nonnegative_int, help="decimals shown (default: the problem's, else 3)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")


def solution_json(steps) -> str:
    return json.dumps({"steps": [s.to_json() for s in steps]}, indent=1)


def run(args) -> int:
    from ..problem import load_problem

    problem = load_problem(args.problem)
    steps = problem.steps(args.steps)
    if args.format == "json":
        write_output(solution_json(steps), args.output)
        return 0
    from ..explain import render

    decimals = args.decimals if args.decimals is not None else problem.decimals
    write_output(render(problem, steps, args.format, decimals, vars(args)), args.output)
    return 0
