"""Files written whole or not at all: write to a temporary file beside the target,
flush and fsync it, then rename it over the target (atomic on POSIX).

What the target is decides how:

* a regular file, or no file yet: the atomic rename above;
* a symlink to a regular file (or to nothing yet): the file it points to is written atomically,
  the link stays a link;
* a character device or a FIFO (``/dev/null``, a named pipe, a link to one), and an open
  descriptor (``/dev/stdout``, ``/proc/self/fd/1``, a link to one): written through, never
  replaced - renaming a file over ``/dev/full`` as root would turn the device into a regular file;
* anything else (a directory, a block device, a socket): refused, with the target's name.

Every error names the target (``out.json: No space left on device``), never the temporary file.
A temporary file is named ``.NAME.PID.RANDOM.tmp``; one left behind by a killed process (its PID
dead, or older than an hour) is removed by the next write to the same target.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import time
from typing import IO, Iterator

STALE_SECONDS = 3600  # a temporary file this old is a dead writer's, whatever its PID says


def _named(e: OSError, path: str) -> OSError:
    """The same error, naming the user's file (not the temporary one, not none at all)."""
    try:
        return type(e)(e.errno, e.strerror or str(e), path)
    except TypeError:  # a subclass with another signature
        return OSError(e.errno, e.strerror or str(e), path)


def _through_a_descriptor(path: str) -> bool:
    """True when ``path`` is, or links to, an open descriptor (``/dev/stdout``, ``/proc/self/fd/1``):
    that is written through whatever it is, as the shell's ``>`` or ``>>`` left it."""
    p = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on a chain of links
        if p.startswith(("/proc/", "/dev/fd/")) or p in ("/dev/stdout", "/dev/stderr"):
            return True
        if not os.path.islink(p):
            return False
        try:
            p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
        except OSError:
            return False
    return False


def _target(path: str) -> tuple[str, bool]:
    """(the file to write, whether to write through it rather than replace it)."""
    if _through_a_descriptor(path):
        return path, True
    try:
        st = os.stat(path)  # follows symlinks: what the name finally points to
    except FileNotFoundError:
        return os.path.realpath(path), False  # a new file, or a dangling link's target
    except OSError as e:
        raise _named(e, path) from None
    if stat.S_ISREG(st.st_mode):
        return os.path.realpath(path), False
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return path, True
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    raise OSError(errno.EINVAL, "not a regular file, a character device or a pipe", path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # another user's live process (or a number no process can have)
    return True


def remove_stale_temporaries(target: str, now: float | None = None) -> list[str]:
    """Remove ``.NAME.PID.*.tmp`` beside ``target`` whose writer is dead or that are over an hour old.

    Returns the names removed. Temporary files of other targets and of live writers are kept."""
    directory, base = os.path.split(target)
    prefix = f".{base}."
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(directory or "."))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")) or len(name) <= len(prefix) + 4:
            continue
        pid = name[len(prefix):-4].split(".", 1)[0]
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
            if old or (pid.isdigit() and "." in name[len(prefix):-4] and not _pid_alive(int(pid))):
                os.unlink(entry.path)
                removed.append(name)
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


def _create_temporary(target: str) -> tuple[int, str]:
    directory, base = os.path.split(target)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:  # 0o666 less the umask: the mode an ordinary new file gets
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", target)


def _open_args(mode: str, encoding: str | None) -> dict:
    return {"encoding": None, "newline": None} if "b" in mode else {"encoding": encoding, "newline": ""}


@contextlib.contextmanager
def _write_through(path: str, mode: str, encoding: str | None) -> Iterator[IO]:
    try:
        with open(path, mode, **_open_args(mode, encoding)) as fh:
            yield fh
    except OSError as e:
        if e.filename not in (path, None):
            raise
        raise _named(e, path) from None


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; on success it replaces ``path``, on error it is removed.

    A character device or FIFO at ``path`` is written through instead (see the module's doc).
    Every OSError raised here names ``path``."""
    path = os.fspath(path)
    target, through = _target(path)
    if through:
        with _write_through(path, mode, encoding) as fh:
            yield fh
        return
    remove_stale_temporaries(target)
    try:
        fd, tmp = _create_temporary(target)
    except OSError as e:  # name the file the user asked for, not the temporary one
        raise _named(e, path) from None
    try:
        with os.fdopen(fd, mode, **_open_args(mode, encoding)) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        # ours (the temporary file, the target) or one without a name (a write, a flush: ENOSPC)
        if isinstance(e, OSError) and e.filename in (tmp, target, path, None):
            raise _named(e, path) from None
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path) as fh:
        fh.write(text)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
