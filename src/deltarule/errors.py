"""The one error users see: ``FILE: field.path: what is wrong`` (exit code 2)."""
from __future__ import annotations

import re
from enum import IntEnum

from .formatting import safe_text

# bidirectional overrides and isolates (and the marks): they can make a line read backwards
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


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
        r"""``FILE: field.path: message`` on one line (what the command line prints, exit 2).

        Names, keys and values in it may come from a file: control characters (ESC, CR, LF, the
        other C0 and C1 codes), bidirectional overrides and lone surrogates are shown as escapes
        (``\x1b``), so the line stays one line, prints in any encoding and cannot drive a terminal.

        >>> InputError("unknown field", "\x1b]2;owned\x07", "p.yaml").line()
        'p.yaml: \\x1b]2;owned\\x07: unknown field'
        """
        parts = [p for p in (self.file, self.field) if p]
        text = safe_text(": ".join([*parts, self.message]))
        return _BIDI.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)

    def in_file(self, file: str) -> "InputError":
        """The same error, attributed to ``file`` (when it does not name one yet)."""
        return self if self.file else InputError(self.message, self.field, file)
