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
           "  deltarule check week5/ inbox/*.yaml --gradebook grades.csv --feedback feedback/   # a class\n"
           "\nanswers file (YAML or JSON):\n"
           "  problem: mine.yaml        # in this file's folder, or a built-in example name\n"
           "  decimals: 3               # how you rounded: right within half a unit (+-0.0005)\n"
           "  answers:\n"
           "    z1: [0.378, 0.393]\n"
           "    dW1[1,2]: 0.001         # one entry, 1-based\n"
           "    step2.W1_new: [[0.15, 0.2], [0.25, 0.3]]\n"
           "    loss: {value: 0.0316, decimals: 4}\n"
           "names: z{l} a{l} fprime{l} dL_da{l} delta{l} dW{l} db{l} W{l}_new b{l}_new loss losses loss_after\n"
           "  with an optimizer: vW{l} vb{l} (sgd momentum), sW{l} sb{l} (rmsprop), mW{l} sW{l} mb{l} sb{l}\n"
           "  mW{l}_hat sW{l}_hat ... (adam, adamw), t: its state after the update\n"
           "A number is right when it matches the true value, or follows from your own earlier\n"
           "numbers (the band widened by their rounding).\n"
           "exit status: 0 all right; 1 something wrong; 2 bad input")
FORMATS = ("text", "json", "markdown", "html")


def add_arguments(p) -> None:
    p.add_argument("files", nargs="*", metavar="[PROBLEM|DIR] ANSWERS",
                   help="a problem file or built-in example name (optional when the answers file "
                        "names one; this one wins), then the answers file; for a class, PROBLEM or a "
                        "folder written by 'deltarule exercises', then the submissions")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--template", metavar="PROBLEM",
                   help="print a blank answers file for PROBLEM (every number of one update, nulls to fill)")
    p.add_argument("--chain", metavar="PARAM",
                   help="with --template: also a blank paths.dW1[1,1] (each chain-rule path's value), e.g. W1[1,1]")
    p.add_argument("--gradebook", metavar="FILE.csv",
                   help="mark a class: PROBLEM or an exercises folder, then the submissions; one CSV row each")
    p.add_argument("--feedback", metavar="DIR", help="with a class: one HTML and Markdown page per submission")
    p.add_argument("--follow-through-credit", type=float, default=1.0, metavar="X",
                   help="the mark (0 to 1) of a number right by follow-through (default 1)")
    p.add_argument("--allow-outside", action="store_true",
                   help="let the answers file's problem: name a file outside the answers file's folder "
                        "(refused by default: a submitted file must not make the marker read other files)")


def template(ref: str, chain: str | None = None) -> str:
    """A blank answers file (YAML) for the problem ``ref``: every name of one update as nulls."""
    from pathlib import Path

    from ..check.answers import blank, blank_paths
    from ..problem import load_problem

    problem = load_problem(ref)
    flow = lambda v: "[" + ", ".join(flow(x) for x in v) + "]" if isinstance(v, list) else "null"  # noqa: E731
    lines = ["# A blank answers file: put your numbers in place of the nulls",
             "# (leave null what you did not compute). Check it with: deltarule check THIS-FILE",
             f"problem: {json.dumps(Path(ref).name if Path(ref).exists() else ref)}",
             f"decimals: {problem.decimals}", "answers:"]
    step = problem.steps(1)[0]
    lines += [f"  {name}: {flow(v)}" for name, v in blank(step).items()]
    if chain is not None:  # each path's value, in the order solve --chain prints them
        name, v = blank_paths(step, chain)
        lines.append(f"  {name}: {flow(v)}")
    return "\n".join(lines) + "\n"


def mark_class(args) -> int:
    """``check PROBLEM|DIR SUBMISSION... [--gradebook F] [--feedback D]``: 0 every submission all
    right, 1 anything wrong or unreadable (one stderr line each), 2 nothing could be marked."""
    from ..check.marking import mark, target
    from ..cli import UsageError
    from ..errors import InputError
    from ..explain import check_report
    from ..io import write_text

    if len(args.files) < 2:
        raise UsageError("deltarule check: a class needs PROBLEM or an exercises folder, then the submissions")
    if not 0.0 <= args.follow_through_credit <= 1.0:
        raise UsageError("deltarule check: --follow-through-credit must be between 0 and 1")
    tgt = target(args.files[0])
    marks = [mark(tgt, f, args.follow_through_credit) for f in args.files[1:]]
    for m in marks:
        print(m.error, file=sys.stderr) if not m.readable else print(
            f"{m.student}  {m.exercise}  {check_report._number(m.total)} of {check_report._number(m.out_of)}")
    if not any(m.readable for m in marks):
        raise InputError("no submission could be marked", "", args.files[1]) if len(marks) == 1 else \
            InputError(f"none of the {len(marks)} submissions could be marked", "")
    if args.gradebook:
        write_text(args.gradebook, check_report.gradebook(marks, tgt.asked))
    if args.feedback:
        _feedback(args.feedback, marks)
    return ExitStatus.OK if all(m.all_right for m in marks) else ExitStatus.WRONG


def _feedback(folder: str, marks: list) -> None:
    """One page per readable submission (HTML and Markdown), named after the student."""
    import re
    from pathlib import Path

    from .. import solve
    from ..explain import check_report
    from ..io import write_text

    Path(folder).mkdir(parents=True, exist_ok=True)
    for m in (m for m in marks if m.readable):
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", f"{m.student}-{m.exercise}" if m.exercise else m.student).strip(".")
        sol = solve(m.problem)
        write_text(Path(folder) / f"{stem or 'submission'}.html", check_report.feedback_html(m, sol._repr_html_()))
        write_text(Path(folder) / f"{stem or 'submission'}.md", check_report.feedback_markdown(m, sol.to_markdown()))


def run(args) -> int:
    from ..check import OutsideError, check
    from ..cli import UsageError
    from ..errors import InputError
    from ..explain import check_report

    if args.chain is not None and args.template is None:
        raise UsageError("deltarule check: --chain goes with --template PROBLEM")
    if args.template is not None:
        if args.files:
            raise UsageError("deltarule check: --template PROBLEM takes no other files")
        print(template(args.template, args.chain), end="")
        return ExitStatus.OK
    if args.gradebook or args.feedback or len(args.files) > 2:
        return mark_class(args)
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
