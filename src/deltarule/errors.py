"""The one error users see: ``FILE: field.path: what is wrong`` (exit code 2)."""
from __future__ import annotations


class InputError(ValueError):
    """Bad input: a file, a field in it, and the problem, as one line."""

    def __init__(self, message: str, field: str = "", file: str = ""):
        self.file, self.field, self.message = file, field, message
        super().__init__(self.line())

    def line(self) -> str:
        parts = [p for p in (self.file, self.field) if p]
        return ": ".join([*parts, self.message]).replace("\n", " ")

    def in_file(self, file: str) -> "InputError":
        """The same error, attributed to ``file`` (when it does not name one yet)."""
        return self if self.file else InputError(self.message, self.field, file)
