"""deltarule check [PROBLEM] ANSWERS: a hand-worked solution judged as a fair marker judges it."""
from __future__ import annotations

import json
import sys

from ..errors import ExitStatus

HELP = "judge hand-worked numbers (an answers file) against the true values, with follow-through"
EXAMPLE = ("  deltarule check seed-003 my-answers.yaml\n"
           "  deltarule check my-answers.yaml                  # problem: given inside the file\n"
           "  deltarule check mine.yaml my-answers.yaml --format json\n"
           "  deltarule check my-answers.yaml --format html > report.html\n"
           "  deltarule check --template seed-002 > my-answers.yaml   # a blank answers file\n"
           "\nanswers file (YAML or JSON):\n"
           "  problem: mine.yaml        # in this file's folder, or a built-in example name\n"
           "  decimals: 3               # how you rounded: right within half a unit (+-0.0005)\n"
           "  answers:\n"
           "    z1: [0.378, 0.393]\n"
           "    dW1[1,2]: 0.001         # one entry, 1-based\n"
           "    step2.W1_new: [[0.15, 0.2], [0.25, 0.3]]\n"
           "    loss: {value: 0.0316, decimals: 4}\n"
           "names: z{l} a{l} fprime{l} dL_da{l} delta{l} dW{l} db{l} W{l}_new b{l}_new loss losses loss_after\n"
           "A number is right when it matches the true value, or follows from your own earlier\n"
           "numbers (the band widened by their rounding).\n"
           "exit status: 0 all right; 1 something wrong; 2 bad input")
FORMATS = ("text", "json", "markdown", "html")


def add_arguments(p) -> None:
    p.add_argument("files", nargs="*", metavar="[PROBLEM] ANSWERS",
                   help="a problem file or built-in example name (optional when the answers file "
                        "names one; this one wins), then the answers file")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--template", metavar="PROBLEM",
                   help="print a blank answers file for PROBLEM (every number of one update, nulls to fill)")
    p.add_argument("--allow-outside", action="store_true",
                   help="let the answers file's problem: name a file outside the answers file's folder "
                        "(refused by default: a submitted file must not make the marker read other files)")


def template(ref: str) -> str:
    """A blank answers file (YAML) for the problem ``ref``: every name of one update as nulls."""
    from pathlib import Path

    from ..check.answers import blank
    from ..problem import load_problem

    problem = load_problem(ref)
    flow = lambda v: "[" + ", ".join(flow(x) for x in v) + "]" if isinstance(v, list) else "null"  # noqa: E731
    lines = ["# A blank answers file: put your numbers in place of the nulls",
             "# (leave null what you did not compute). Check it with: deltarule check THIS-FILE",
             f"problem: {json.dumps(Path(ref).name if Path(ref).exists() else ref)}",
             f"decimals: {problem.decimals}", "answers:"]
    lines += [f"  {name}: {flow(v)}" for name, v in blank(problem.steps(1)[0]).items()]
    return "\n".join(lines) + "\n"


def run(args) -> int:
    from ..check import OutsideError, check
    from ..cli import UsageError
    from ..errors import InputError
    from ..explain import check_report

    if args.template is not None:
        if args.files:
            raise UsageError("deltarule check: --template PROBLEM takes no other files")
        print(template(args.template), end="")
        return ExitStatus.OK
    if not 1 <= len(args.files) <= 2:
        raise UsageError("deltarule check: expected [PROBLEM] ANSWERS, got "
                         f"{len(args.files)} files (see 'deltarule check --help')")
    problem, answers = (None, args.files[0]) if len(args.files) == 1 else args.files
    try:
        report = check(problem, answers, allow_outside=args.allow_outside)
    except OutsideError as e:
        raise InputError(f"{e.message} (or pass --allow-outside)", e.field, e.file) from None
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=1))
    elif args.format != "text":
        print(check_report.RENDERERS[args.format](report))
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print(check_report.rich(report))
    else:
        print(check_report.text(report))
    return ExitStatus.OK if report.ok else ExitStatus.WRONG
