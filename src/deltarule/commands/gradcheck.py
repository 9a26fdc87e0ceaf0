"""deltarule gradcheck PROBLEM: analytic (delta rule) vs central-difference gradients."""
from __future__ import annotations

import json
import sys

from ..errors import ExitStatus
from ..gradcheck import ATOL, RTOL, STEP
from . import positive_int

HELP = "compare the delta rule's gradients with central finite differences, parameter by parameter"
EXAMPLE = ("  deltarule gradcheck seed-002\n"
           "  deltarule gradcheck mine.yaml --format json\n"
           "  deltarule gradcheck digits.yaml --examples 100\n"
           f"\ntolerance: a parameter agrees when |analytic - numeric| <= {ATOL:g} + {RTOL:g} * "
           f"max(|analytic|, |numeric|);\nnumeric = (L(p + h) - L(p - h)) / 2h with h = {STEP:g}, "
           "in float64, on the problem's whole data\n(or its first N: --examples N) (the batch loss, reduced as the problem says). "
           "relu/leaky_relu: a z within h of 0 can disagree.\n"
           "exit status: 0 all agree; 1 some disagree; 2 bad input")


def add_arguments(p) -> None:
    from . import add_allow_outside

    add_allow_outside(p)
    p.add_argument("problem", help="a problem file (YAML or JSON) or a built-in example name")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--examples", type=positive_int, metavar="N",
                   help="use only the first N examples (default all; each parameter costs two passes)")


def run(args) -> int:
    from ..explain import gradcheck_report
    from ..gradcheck import check_problem
    from ..problem import load_problem

    result = check_problem(load_problem(args.problem, allow_outside=args.allow_outside), args.examples)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=1))
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print(gradcheck_report.rich(result))
    else:
        print(gradcheck_report.text(result))
    return ExitStatus.OK if result.ok else ExitStatus.WRONG
