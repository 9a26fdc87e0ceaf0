"""The command line, thin over the API: ``main(argv) -> exit code``.

Each command lives in ``deltarule.commands.<name>`` with ``HELP`` (one line),
``EXAMPLE`` (shown in ``--help``), ``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes: 0 success; 1 a check or gradcheck found something wrong; 2 bad input (one
line on stderr, ``FILE: field: problem``, never a traceback); 3 training diverged;
130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .errors import ExitStatus, InputError

COMMANDS = ("solve", "train", "check", "gradcheck", "compare", "plot", "predict", "evaluate", "examples", "exercises", "serve")


class UsageError(Exception):
    """A bad command line; reported as one line, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr and exit 2 (no usage dump)."""

    def error(self, message: str) -> None:  # one line, no usage dump
        """Raise :class:`UsageError` with ``message`` and where to find help."""
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _modules(names: Sequence[str] = COMMANDS):
    for name in names:
        try:
            yield name, importlib.import_module(f"deltarule.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"deltarule.commands.{name}":
                raise


def build_parser(only: str | None = None) -> Parser:
    """The ``deltarule`` parser: one subcommand per module in ``COMMANDS``, its EXAMPLE in --help;
    ``only``: that command's alone (a command line naming it parses the same, without importing
    every other command's modules: start-up is part of every command's time)."""
    from . import __version__

    parser = Parser(prog="deltarule", description="Backpropagation you can see, check and trust.",
                    epilog="Run 'deltarule COMMAND --help' for a command's options and an example.")
    parser.add_argument("--version", action="version", version=f"deltarule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, mod in _modules(COMMANDS if only is None else (only,)):
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP,
                           epilog="example:\n" + mod.EXAMPLE,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(run=mod.run)
    return parser


def _named(argv: Sequence[str]) -> str | None:
    """The command a line names first (its parser is then built alone), else None."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(_named(argv))
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return ExitStatus.INPUT if argv else ExitStatus.OK
        return int(args.run(args))
    except SystemExit as e:  # --help and --version
        return int(e.code or 0)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return ExitStatus.INPUT
    except InputError as e:
        print(e.line(), file=sys.stderr)
        return ExitStatus.INPUT
    except BrokenPipeError:
        return ExitStatus.OK
    except OSError as e:  # a file that cannot be read or written: one line, not a traceback
        name = e.filename2 or e.filename  # InputError.line escapes control characters in the name
        print(InputError(str(e.strerror or e), "", str(name) if name else "deltarule").line(), file=sys.stderr)
        return ExitStatus.INPUT
    except KeyboardInterrupt:
        print("deltarule: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
