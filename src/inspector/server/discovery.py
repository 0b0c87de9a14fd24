"""Where live applications' sockets are, and which of them are alive.

Layout (docs/architecture.md, "Socket layout and discovery"): ``<runtime>/resinspect/<pid>.sock``
with a sidecar ``<pid>.json`` beside it, where ``<runtime>`` is ``$XDG_RUNTIME_DIR``, else
``<tmp>/resinspect-<uid>``. The ``resinspect`` directory must be ours, 0700 and not a
symlink; anything else is refused, because whoever controls it can impersonate an
application to the CLI or read what the application serves.

Whether a process is alive is :mod:`~inspector.server.processes`'; the files beside a socket
are :mod:`~inspector.server.sidecar`'s (their names are re-exported here). This module imports
no Qt: the CLI uses it and must start fast.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from ..errors import (
    AccessDenied,
    AmbiguousApplication,
    NoApplication,
    SocketPathTooLong,
    UnsafeRuntimeDirectory,
)
from .processes import (
    PID_MAX,
    pid_alive,
    pid_from_name,
    proc_state,
    process_start_time,
    same_process,
    socket_accepts,
)
from .sidecar import MAX_SIDECAR, AppInfo, read_sidecar, sidecar_for, stall_for, write_sidecar

__all__ = [
    "MAX_SIDECAR", "PID_MAX", "SOCKET_DIR_NAME", "SUN_PATH_SIZE", "AppInfo",
    "check_runtime_dir", "check_socket_path", "ensure_runtime_dir", "find_app", "list_apps",
    "pid_alive", "pid_from_name", "proc_state", "process_start_time", "read_sidecar",
    "remove_stale", "runtime_base", "same_process", "sidecar_for", "socket_accepts",
    "socket_dir", "socket_path", "stall_for", "write_sidecar",
]

#: Name of the directory under ``<runtime>`` that holds sockets and sidecars.
SOCKET_DIR_NAME = "resinspect"

#: Bytes of ``sun_path`` (including the terminating NUL): 108 on Linux, 104 on macOS/BSD.
SUN_PATH_SIZE = 108 if sys.platform.startswith("linux") else 104


def runtime_base() -> Path:
    """``$XDG_RUNTIME_DIR``, else ``<tmp>/resinspect-<uid>``."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg)
    return Path(tempfile.gettempdir()) / f"resinspect-{os.geteuid()}"


def socket_dir(runtime: Path | None = None) -> Path:
    """The directory of sockets and sidecars: ``<runtime>/resinspect``."""
    return (runtime if runtime is not None else runtime_base()) / SOCKET_DIR_NAME


def socket_path(pid: int, runtime: Path | None = None) -> Path:
    """Where the application with ``pid`` listens."""
    return socket_dir(runtime) / f"{pid}.sock"


def check_runtime_dir(path: Path) -> None:
    """Refuse ``path`` unless it is a real directory, ours, with no group/other access.

    Raises :class:`UnsafeRuntimeDirectory` naming the path and the problem.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise UnsafeRuntimeDirectory(f"runtime directory {path} does not exist") from None
    problem = _dir_problem(st)
    if problem:
        raise UnsafeRuntimeDirectory(f"refusing runtime directory {path}: {problem}")


def _dir_problem(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "it is a symlink"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    uid = os.geteuid()
    if st.st_uid != uid:
        return f"it is owned by uid {st.st_uid}, not by uid {uid}"
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return f"it is open to group/other (mode {mode:04o}, expected 0700)"
    return ""


def ensure_runtime_dir(runtime: Path | None = None) -> Path:
    """Create (0700) and check the socket directory; return it.

    The ``<tmp>/resinspect-<uid>`` fallback sits in a world-writable directory, so it is
    checked as strictly as the socket directory itself; ``$XDG_RUNTIME_DIR`` belongs to the
    session manager and is only created if missing.
    """
    base = runtime if runtime is not None else runtime_base()
    fallback = runtime is None and not os.environ.get("XDG_RUNTIME_DIR")
    _make_private_dir(base, parents=not fallback)
    if fallback:
        check_runtime_dir(base)
    path = base / SOCKET_DIR_NAME
    _make_private_dir(path, parents=False)
    check_runtime_dir(path)
    return path


def _make_private_dir(path: Path, *, parents: bool) -> None:
    if parents:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return  # an existing directory is checked, never "fixed", by the caller
    # mkdir's mode is filtered by the umask; make it exactly 0700 now that it is ours.
    os.chmod(path, 0o700)


def check_socket_path(path: Path) -> None:
    """Raise :class:`SocketPathTooLong` if ``path`` does not fit in ``sun_path``."""
    size = len(os.fsencode(path))
    if size >= SUN_PATH_SIZE:
        raise SocketPathTooLong(
            f"socket path {path} is {size} bytes; AF_UNIX allows at most {SUN_PATH_SIZE - 1} "
            "(set XDG_RUNTIME_DIR to a shorter directory)")


def list_apps(runtime: Path | None = None) -> list[AppInfo]:
    """Live applications, by pid: those whose socket accepts a connection.

    A dead process, a zombie and a reused pid are never listed (their sockets refuse);
    a file whose name is not ``<ascii pid>.sock`` is ignored. An unsafe socket directory
    raises :class:`UnsafeRuntimeDirectory` rather than listing sockets someone else may have
    planted there; one that cannot be read raises :class:`AccessDenied`.
    """
    directory = socket_dir(runtime)
    if runtime is None and not os.environ.get("XDG_RUNTIME_DIR"):
        _check_fallback_base()
    names = _list_socket_dir(directory)
    apps = []
    for entry in names:
        sock = directory / entry
        if _is_app_socket(sock) and socket_accepts(sock):
            apps.append(read_sidecar(sock))
    return sorted(apps, key=lambda a: a.pid)


def _check_fallback_base() -> None:
    """Check the ``<tmp>/resinspect-<uid>`` fallback base, when it exists.

    It sits in a world-writable directory: listing is as strict as the server is when it
    starts (someone else's, or open to all, is refused).
    """
    base = runtime_base()
    if os.path.lexists(base):
        check_runtime_dir(base)


def _list_socket_dir(directory: Path) -> list[str]:
    """The entries of the socket directory, checked first; none when it does not exist.

    One that cannot be read raises :class:`AccessDenied`; an unsafe one
    :class:`UnsafeRuntimeDirectory`.
    """
    try:
        os.lstat(directory)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise AccessDenied(f"cannot read {directory}: {err.strerror or err}") from None
    check_runtime_dir(directory)
    try:
        return os.listdir(directory)
    except OSError as err:
        raise AccessDenied(f"cannot read {directory}: {err.strerror or err}") from None


def _is_app_socket(sock: Path) -> bool:
    """Whether ``sock`` is named ``<ascii pid>.sock`` and is a socket (not yet whether it
    accepts)."""
    stem, dot, suffix = sock.name.rpartition(".")
    if not dot or suffix != "sock" or pid_from_name(stem) is None:
        return False
    try:
        return stat.S_ISSOCK(os.lstat(sock).st_mode)
    except OSError:
        return False  # closed between listdir and lstat


def remove_stale(runtime: Path | None = None) -> list[Path]:
    """Remove sockets, sidecars and stall files of dead processes; return what went.

    Stale means both: nobody accepts on the socket, and its pid is not the live process
    that wrote the sidecar (a dead one, a zombie, or a pid reused since). A socket that
    still accepts is never removed, whatever its pid looks like from here (an application
    in another PID namespace sharing the directory is alive though its pid is not ours to
    see); nor is a socket whose process is alive and may be between ``bind`` and ``listen``.
    """
    directory = socket_dir(runtime)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    pids: set[int] = set()
    for entry in names:
        stem, dot, suffix = entry.rpartition(".")
        if dot and suffix in ("sock", "json", "stall") and (pid := pid_from_name(stem)) is not None:
            pids.add(pid)
    for pid in sorted(pids):
        sock = directory / f"{pid}.sock"
        if os.path.lexists(sock) and socket_accepts(sock):
            continue
        if same_process(pid, read_sidecar(sock).started_at):
            continue
        for path in (sock, sidecar_for(sock), stall_for(sock)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def find_app(pid: int | None = None, socket: Path | str | None = None,
             runtime: Path | None = None) -> AppInfo:
    """The one application meant: by ``socket``, by ``pid``, or the only one running.

    Raises :class:`NoApplication` or :class:`AmbiguousApplication` with a one-line message
    that lists the candidates.
    """
    if socket is not None:
        sock = Path(socket)
        try:
            mode = os.stat(sock).st_mode
        except FileNotFoundError:
            raise NoApplication(f"no socket at {sock}") from None
        except OSError as err:
            raise AccessDenied(f"cannot use {sock}: {err.strerror or err}") from None
        if not stat.S_ISSOCK(mode):
            raise NoApplication(f"{sock} is not a socket")
        info = read_sidecar(sock)
        return info if pid is None or info.pid in (0, pid) else _no_pid(pid, [info])
    apps = list_apps(runtime)
    if pid is not None:
        for info in apps:
            if info.pid == pid:
                return info
        return _no_pid(pid, apps)
    if not apps:
        raise NoApplication(
            f"no resinspect application is running (looked in {socket_dir(runtime)})")
    if len(apps) > 1:
        raise AmbiguousApplication(
            f"{len(apps)} applications are running, choose one with --pid: {_candidates(apps)}")
    return apps[0]


def _no_pid(pid: int, apps: list[AppInfo]) -> AppInfo:
    running = f"running: {_candidates(apps)}" if apps else "none is running"
    raise NoApplication(f"no resinspect application with pid {pid} ({running})")


def _candidates(apps: list[AppInfo]) -> str:
    return ", ".join(f"{a.pid} ({a.app or '?'})" for a in apps)
