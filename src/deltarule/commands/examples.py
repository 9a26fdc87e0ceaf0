"""deltarule examples [NAME]: list the built-in examples, or print one."""
from __future__ import annotations

HELP = "list the built-in examples (every worked example of the seed notes), or print one"
EXAMPLE = "  deltarule examples\n  deltarule examples seed-002 > mine.yaml"


def add_arguments(p) -> None:
    p.add_argument("name", nargs="?", help="an example to print as a problem file")


def run(args) -> int:
    from .. import examples

    if args.name:
        print(examples.text(args.name), end="")
        return 0
    names = examples.names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {examples.describe(name)}")
    return 0
