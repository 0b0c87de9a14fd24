"""The one writer of output files: ``snapshot -o``, ``record -o`` and the dock's export.

What is at the path decides how it is written, and nothing there is ever destroyed:

* nothing, or a regular file (also through a symlink): the data goes to a temporary file
  beside it that is then renamed over it, so a reader sees the old file or the new one,
  never half (a recording, written line by line, truncates the file in place instead);
* a character device or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe someone reads):
  written through, exactly as a shell's ``>`` would - renaming over it would replace the
  device node with a regular file (as root, ``-o /dev/full`` replaced the machine's
  ``/dev/full``). A FIFO nobody reads is refused at once instead of waiting forever;
* a directory, a socket, a block device or a dangling symlink: refused.

Every failure is ``BadInput`` with one line naming the path and the reason. The path is
checked (:func:`check_output`) before anything is opened, so a caller can validate all its
inputs first and create or truncate the file only once there is something to write.
Qt-free: the CLI, the recorder and the dock all import it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput


@dataclass(frozen=True)
class OutputTarget:
    """Where output for a path goes: ``real`` (symlinks resolved) and how it is written."""

    path: Path
    real: Path
    through: bool  # a device or FIFO: written through, never replaced


def check_output(path: str | os.PathLike[str]) -> OutputTarget:
    """Validate ``path`` as an output without opening or creating anything.

    Raises ``BadInput`` for a directory, a socket, a block device, a dangling symlink or a
    missing parent directory.
    """
    path = Path(path)
    try:
        st = os.stat(path)  # follows symlinks: what a write would reach
    except FileNotFoundError:
        if os.path.islink(path):
            raise BadInput(f"cannot write {path}: it is a symlink to nothing") from None
        real = Path(os.path.realpath(path))
        parent = real.parent
        if not parent.is_dir():
            raise BadInput(f"cannot write {path}: no directory {parent}") from None
        return OutputTarget(path, real, through=False)
    except OSError as err:
        raise BadInput(f"cannot write {path}: {err.strerror or err}") from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return OutputTarget(path, Path(os.path.realpath(path)), through=False)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return OutputTarget(path, path, through=True)
    kind = ("a directory" if stat.S_ISDIR(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a block device" if stat.S_ISBLK(mode) else "not a regular file")
    raise BadInput(f"cannot write {path}: it is {kind}")


def write_file(path: str | os.PathLike[str], data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` as described above (atomic for a regular file).

    ``private`` makes a new file readable by its owner only (0600), else it gets the
    umask's usual permissions, as ``>`` would give.
    """
    target = check_output(path)
    if target.through:
        fd = _open_through(target)
        try:
            _write_all(fd, data, target.path)
        finally:
            os.close(fd)
        return
    real = target.real
    tmp = real.with_name(f".{real.name}.{os.getpid()}.tmp")
    try:
        # O_EXCL: an existing file (or symlink) at the temporary name is never written
        # through. O_NOFOLLOW too, for the same reason.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600 if private else 0o666)
    except OSError as err:
        raise BadInput(f"cannot write {path}: {err.strerror or err}") from None
    try:
        try:
            _write_all(fd, data, target.path)
        finally:
            os.close(fd)
        try:
            os.replace(tmp, real)
        except OSError as err:
            raise BadInput(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def open_stream(target: OutputTarget) -> int:
    """A write-only descriptor for output written piece by piece (a recording).

    A regular file is created or truncated in place (each piece is then on disk as soon as it
    is written, which a killed recorder relies on); a device or FIFO is written through.
    The target is checked again here: what is at the path may have changed since.
    """
    again = check_output(target.path)
    if again.through:
        return _open_through(again)
    try:
        return os.open(again.real, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    except OSError as err:
        raise BadInput(f"cannot write {target.path}: {err.strerror or err}") from None


def _open_through(target: OutputTarget) -> int:
    # O_NONBLOCK: opening a FIFO that nobody reads fails at once (ENXIO) rather than wait
    # forever; the descriptor is made blocking again for the writes themselves.
    try:
        fd = os.open(target.path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        if err.errno == errno.ENXIO:
            raise BadInput(f"cannot write {target.path}: it is a FIFO that no process "
                           "reads") from None
        raise BadInput(f"cannot write {target.path}: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            raise BadInput(f"cannot write {target.path}: it changed while being opened")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_all(fd: int, data: bytes, path: Path) -> None:
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as err:
        raise BadInput(f"cannot write {path}: {err.strerror or err}") from None
