"""deltarule examples [NAME]: list the built-in examples, or print one."""
from __future__ import annotations

from ..errors import InputError
from ..errors import ExitStatus

HELP = "list the built-in examples (every worked example of the seed notes), or print one"
EXAMPLE = ("  deltarule examples\n  deltarule examples seed-002 > mine.yaml\n"
           "  deltarule examples digits --save course/   # the problem file and its data file")


def add_arguments(p) -> None:
    p.add_argument("name", nargs="?", help="an example to print as a problem file")
    p.add_argument("--save", metavar="DIR", help="write NAME.yaml and its data file (if any) into DIR")


def _save(examples, name: str, directory: str) -> list[str]:
    """Write the example and the data file it names (atomically), side by side."""
    import os
    from importlib import resources

    from ..io import write_bytes
    from ..loader import parse_text

    text = examples.text(name)
    data = parse_text(text, name).get("data")
    files = {f"{name}.yaml": text.encode("utf-8")}
    if isinstance(data, dict) and isinstance(data.get("file"), str):
        files[data["file"]] = (resources.files(examples.__name__) / data["file"]).read_bytes()
    written = []
    for file, content in files.items():
        path = os.path.join(directory, file)
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            write_bytes(path, content)
        except OSError as e:
            raise InputError(f"cannot write ({e.strerror})", "", path) from None
        written.append(path)
    return written


def run(args) -> int:
    from .. import examples

    if args.name and args.save:
        for path in _save(examples, args.name, args.save):
            print(path)
        return ExitStatus.OK
    if args.name:
        print(examples.text(args.name), end="")
        return ExitStatus.OK
    if args.save:
        raise InputError("--save needs an example NAME", "--save")
    names = examples.names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {examples.describe(name)}")
    return ExitStatus.OK
