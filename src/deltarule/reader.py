"""The one way deltarule reads a user's file: regular files only, bounded while reading.

* :func:`open_regular` opens without following into a device or blocking on a FIFO
  (``O_NONBLOCK``), then checks ``S_ISREG`` on the opened descriptor (no race between a
  check and the open): ``/dev/zero``, a FIFO, a socket or a directory is refused at once.
* :func:`read_bytes` reads at most ``limit`` bytes and refuses the file at ``limit + 1``:
  the size is counted while reading, never trusted from ``st_size`` (``/proc`` files say 0).
* :func:`bounded` wraps an open file so that reading past ``limit`` bytes refuses it (for
  streams read piece by piece, like a CSV table).

Every failure is an :class:`~deltarule.errors.InputError` ``FILE: problem`` (no such file,
permission denied, a directory, not a regular file, too big); nothing of the file's content is
ever put in a message. Used for problem, answers, model, checkpoint and data files alike.
"""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from .errors import InputError

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_KINDS = ((stat.S_ISDIR, "is a directory, not a file"), (stat.S_ISFIFO, "is a FIFO (a pipe), not a regular file"),
          (stat.S_ISCHR, "is a device, not a regular file"), (stat.S_ISBLK, "is a device, not a regular file"),
          (stat.S_ISSOCK, "is a socket, not a regular file"))


def file_name(path: Any, what: str = "a file") -> str:
    """``path`` as text for messages; InputError when it is not a path at all (a number, None)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        kind = "nothing" if path is None or path == "" else f"a {type(path).__name__}"
        raise InputError(f"expected the name of {what}, got {kind}")
    return str(path)


def size_text(nbytes: int) -> str:
    """A size as the messages say it: ``64 MiB``, ``1 GiB``, ``4.5 GiB``."""
    if nbytes < 2**20:
        return f"{nbytes:,} bytes"
    return f"{nbytes / 2**30:.3g} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.3g} MiB"


def open_regular(path: str | Path, what: str = "a file") -> BinaryIO:
    """A binary file object for ``path``, which must be a regular file (after symlinks).

    InputError (naming the file) for a missing file, a directory, a FIFO, a device, a socket,
    no permission, or a name that is no path (a number: ``expected the name of a file``).
    """
    file = file_name(path, what)
    try:
        fd = os.open(file, _FLAGS)
    except FileNotFoundError:
        raise InputError("no such file", "", file) from None
    except PermissionError:
        raise InputError("permission denied", "", file) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", "", file) from None
    except (OSError, ValueError) as e:  # ELOOP, ENAMETOOLONG, an embedded NUL ...
        raise InputError(f"cannot read ({getattr(e, 'strerror', None) or e})", "", file) from None
    try:
        mode = os.fstat(fd).st_mode
        for test, message in _KINDS:
            if test(mode):
                raise InputError(message, "", file)
        if not stat.S_ISREG(mode):
            raise InputError("is not a regular file", "", file)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class _Bounded(io.RawIOBase):
    """Reads through ``raw`` and refuses the file once more than ``limit`` bytes came through."""

    def __init__(self, raw: BinaryIO, limit: int, file: str, what: str, hint: str):
        super().__init__()
        self.raw, self.limit, self.file, self.what, self.hint, self.count = raw, limit, file, what, hint, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        if self.count > self.limit:
            raise too_big(self.file, None, self.limit, self.what, self.hint)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def too_big(file: str, size: int | None, limit: int, what: str, hint: str = "") -> InputError:
    """``FILE: file is 70 MiB; problem files are limited to 64 MiB`` (``over 64 MiB`` while reading)."""
    said = size_text(size) if size is not None else f"over {size_text(limit)}"
    return InputError(f"file is {said}; {what} are limited to {size_text(limit)}{hint}", "", file)


def _check_declared(fh: BinaryIO, file: str, limit: int, what: str, hint: str) -> None:
    """An early refusal from the size a regular file declares (the reading is bounded anyway)."""
    size = os.fstat(fh.fileno()).st_size
    if size > limit:
        fh.close()
        raise too_big(file, size, limit, what, hint)


def limit_stream(fh: BinaryIO, limit: int, file: str, what: str = "files", hint: str = "") -> BinaryIO:
    """``fh`` buffered, refusing the file (``too_big``) once reading passes ``limit`` bytes."""
    return io.BufferedReader(_Bounded(fh, limit, file, what, hint))


def bounded(path: str | Path, limit: int, what: str = "files", hint: str = "") -> BinaryIO:
    """``open_regular(path)``, buffered, refusing the file when reading passes ``limit`` bytes."""
    fh = open_regular(path)
    _check_declared(fh, file_name(path), limit, what, hint)
    return io.BufferedReader(_Bounded(fh, limit, file_name(path), what, hint))


def read_bytes(path: str | Path, limit: int, what: str = "files", hint: str = "") -> bytes:
    """The whole of the regular file ``path``, at most ``limit`` bytes (InputError beyond).

    ``what`` and ``hint`` word the refusal: ``FILE: file is 70 MiB; {what} are limited to 64 MiB{hint}``.
    """
    file = file_name(path)
    with open_regular(path) as fh:
        _check_declared(fh, file, limit, what, hint)
        chunks, count = [], 0
        try:
            while count <= limit:  # in pieces: no buffer of ``limit`` bytes for a small file
                chunk = fh.read(min(2**20, limit + 1 - count))
                if not chunk:
                    break
                chunks.append(chunk)
                count += len(chunk)
        except OSError as e:
            raise InputError(f"cannot read ({e.strerror or e})", "", file) from None
    if count > limit:
        raise too_big(file, None, limit, what, hint)
    return b"".join(chunks)
