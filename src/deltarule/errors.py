"""The one error users see: ``FILE: field.path: what is wrong`` (exit code 2)."""
from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """The command line's exit codes, one enum for every command.

    0 success; 1 a check or gradcheck found something wrong; 2 bad input (one line on
    stderr, never a traceback); 3 training diverged; 130 interrupted (Ctrl-C).
    """

    OK = 0
    WRONG = 1
    INPUT = 2
    DIVERGED = 3
    INTERRUPTED = 130


class InputError(ValueError):
    """Bad input: a file, a field in it, and the problem, as one line.

    >>> from deltarule import InputError
    >>> InputError("expected a number, got the text 'x'", "learning_rate", "p.yaml").line()
    "p.yaml: learning_rate: expected a number, got the text 'x'"
    """

    def __init__(self, message: str, field: str = "", file: str = ""):
        self.file, self.field, self.message = file, field, message
        super().__init__(self.line())

    def line(self) -> str:
        """``FILE: field.path: message`` on one line (what the command line prints, exit 2)."""
        parts = [p for p in (self.file, self.field) if p]
        return ": ".join([*parts, self.message]).replace("\n", " ")

    def in_file(self, file: str) -> "InputError":
        """The same error, attributed to ``file`` (when it does not name one yet)."""
        return self if self.file else InputError(self.message, self.field, file)
