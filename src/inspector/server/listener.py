"""Claiming the socket path and making the listening socket, private from its first moment.

The socket lives in a private 0700 directory and is 0600 from the moment it exists: its inode
is made 0600 before ``bind`` (Linux creates the file with that mode), never by changing the
umask, which is process-wide (files other threads created meanwhile got the wrong mode); it is
chmod-ed again before ``listen`` where that is not so. There is no TCP and no
abstract-namespace socket (docs/architecture.md, "Security model").
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import threading
from pathlib import Path

from ..errors import ServerAlreadyRunning

#: Two servers starting at once in one process must not both decide the path is free.
START_LOCK = threading.Lock()


def claim(path: Path) -> None:
    """Make ``path`` free: a live server there wins (``ServerAlreadyRunning``); a dead one's
    socket is removed."""
    if not os.path.lexists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOTSOCK, errno.ENOENT):
            raise ServerAlreadyRunning(
                f"cannot tell whether a server listens at {path}: {exc.strerror}") from None
    else:
        raise ServerAlreadyRunning(f"a resinspect server already listens at {path}")
    finally:
        probe.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def bind_private(path: Path, backlog: int) -> tuple[socket.socket, int]:
    """A non-blocking socket listening at ``path`` (mode 0600), and the inode of its file."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # No umask change around bind(): the umask is process-wide, and files other
        # threads created in that window got 0600 (111 of 670 in a race test). On Linux
        # bind() gives the file the mode of the socket's own inode (less the umask), so
        # fchmod first makes it 0600 from its first moment; elsewhere the 0700 directory
        # keeps everyone else out until the chmod below, and nobody can connect before
        # listen().
        with contextlib.suppress(OSError):
            os.fchmod(sock.fileno(), 0o600)
        sock.bind(os.fspath(path))
        st = os.lstat(path)
        if not stat.S_ISSOCK(st.st_mode):  # pragma: no cover - replaced under us
            raise ServerAlreadyRunning(f"{path} changed while the server was binding it")
        os.chmod(path, 0o600)
        sock.listen(min(max(backlog, 16), socket.SOMAXCONN))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock, st.st_ino


def remove_if_ours(path: Path, inode: int) -> None:
    """Remove the socket at ``path`` if it is still the one we made (``inode``): a server
    started since owns it now."""
    try:
        ours = os.lstat(path).st_ino == inode
    except FileNotFoundError:
        return
    if ours:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
