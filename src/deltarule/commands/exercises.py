"""deltarule exercises TEMPLATE: one round-safe exercise per student, with sheets, keys and a quiz."""
from __future__ import annotations

import sys

from ..errors import ExitStatus
from . import positive_int

HELP = "an exercise per student from a template: sheets, keys, blank answers files, a Moodle quiz"
EXAMPLE = ("  deltarule exercises seed-002 --roster students.csv --seed 2026 -o week5/\n"
           "  deltarule exercises my-template.yaml --count 30 --seed 1 -o week5/\n"
           "  # a template is a problem file where any number may be a draw:\n"
           "  #   weights: [[{draw: uniform, low: -1, high: 1, decimals: 1}, 0.2], ...]\n"
           "  #   learning_rate: {draw: choice, from: [0.1, 0.5]}\n"
           "  #   asked: [z1, a1, delta2, dW1, W2_new, loss]   marks: {dW1: 2}")


def add_arguments(p) -> None:
    p.add_argument("template", help="a template (a problem file whose numbers may be draws) or a built-in example")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--count", type=positive_int, metavar="N", help="N numbered exercises (001, 002, ...)")
    who.add_argument("--roster", metavar="FILE.csv",
                     help="one exercise per row of a CSV file with a 'student' column")
    p.add_argument("--seed", type=int, required=True,
                   help="the set's seed: the same student and seed always give the same exercise")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder to write the set into")


def _progress(done: int, total: int) -> None:
    print(f"\rround-safe exercises drawn: {done}/{total}", end="", file=sys.stderr, flush=True)


def run(args) -> int:
    from statistics import median

    from ..classroom import load_template, make_set, read_roster, write_set

    template = load_template(args.template)
    students = read_roster(args.roster) if args.roster else None
    exercises = make_set(template, args.seed, count=args.count, students=students,
                         progress=_progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    write_set(exercises, template, args.seed, args.output)
    draws = [ex.draws for ex in exercises]
    total = sum(draws)
    print(f"{len(exercises)} exercise{'s' if len(exercises) != 1 else ''} written to {args.output} "
          f"(sheets, keys, blank answers, index.html, quiz.xml, manifest.csv); every asked value "
          f"round-safe at {template.base.decimals} decimals; candidates drawn per exercise: median "
          f"{median(draws):g}, most {max(draws)} (about 1 in {max(1, round(total / len(exercises)))} qualifies)",
          file=sys.stdout)
    return ExitStatus.OK
