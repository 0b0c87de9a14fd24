"""Where live applications' sockets are, and which of them are alive.

Layout (docs/architecture.md, "Socket layout and discovery"): ``<runtime>/resinspect/<pid>.sock``
with a sidecar ``<pid>.json`` beside it, where ``<runtime>`` is ``$XDG_RUNTIME_DIR``, else
``<tmp>/resinspect-<uid>``. The ``resinspect`` directory must be ours, 0700 and not a
symlink; anything else is refused, because whoever controls it can impersonate an
application to the CLI or read what the application serves.

This module imports no Qt: the CLI uses it and must start fast.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import socket
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import (
    AccessDenied,
    AmbiguousApplication,
    NoApplication,
    SocketPathTooLong,
    UnsafeRuntimeDirectory,
)
from ..metrics.text import encodable

#: Name of the directory under ``<runtime>`` that holds sockets and sidecars.
SOCKET_DIR_NAME = "resinspect"

#: Bytes of ``sun_path`` (including the terminating NUL): 108 on Linux, 104 on macOS/BSD.
SUN_PATH_SIZE = 108 if sys.platform.startswith("linux") else 104


@dataclass(frozen=True, slots=True)
class AppInfo:
    """A live application as its sidecar describes it (no connection needed)."""

    pid: int
    app: str
    socket: Path
    started_at: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    protocol: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (``socket`` as a string)."""
        return {"pid": self.pid, "app": self.app, "socket": str(self.socket),
                "started_at": self.started_at, "versions": dict(self.versions),
                "protocol": self.protocol}


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


def sidecar_for(sock: Path) -> Path:
    """The sidecar beside a socket: ``<pid>.json``."""
    return sock.with_suffix(".json")


def stall_for(sock: Path) -> Path:
    """The stall file beside a socket: ``<pid>.stall`` (see ``inspector.metrics.hangs``)."""
    return sock.with_suffix(".stall")


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


#: Largest pid a file name may carry (Linux's highest ``pid_max``); a longer number is not ours.
PID_MAX = 4_194_304
#: Largest sidecar read: a real one is a few hundred bytes.
MAX_SIDECAR = 64 * 1024
#: Longest app name or version string kept from a sidecar.
_MAX_TEXT = 4096


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists and is not a zombie (ours or someone else's)."""
    if pid <= 0 or pid > PID_MAX:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError as exc:  # pragma: no cover - EINVAL etc.
        if exc.errno != errno.EPERM:
            return False
    return _proc_state(pid) not in ("Z", "X", "")


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None (no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read(4096)
    except FileNotFoundError:
        return []  # gone (or reaped between kill() and here)
    except OSError:
        return None
    # The command name is in parentheses and may itself hold ") ": split after the last.
    return raw[raw.rfind(b")") + 2:].decode("ascii", "replace").split()


def _proc_state(pid: int) -> str:
    """The process's state letter (``Z`` a zombie); ``?`` where /proc cannot tell."""
    fields = _proc_stat(pid)
    if fields is None:
        return "?"
    return fields[0] if fields else ""


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started, seconds since the epoch (Linux); None when unknown."""
    fields = _proc_stat(pid)
    if not fields or len(fields) < 20:
        return None
    try:
        ticks = int(fields[19])
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, StopIteration, IndexError):
        return None


def same_process(pid: int, started_at: float) -> bool:
    """Whether ``pid`` is alive and is the process that started a server at ``started_at``.

    A pid is reused: a process that started after the server did is another one. Where the
    start time cannot be read (no /proc), a live pid counts.
    """
    if not pid_alive(pid):
        return False
    began = process_start_time(pid)
    if began is None or started_at <= 0:
        return True
    # The server starts after its process; a second of slack covers clock granularity.
    return began <= started_at + 1.0


def socket_accepts(sock: Path) -> bool:
    """Whether a server listens at ``sock``: a non-blocking connect succeeds, or finds the
    queue of a listener full (busy, but alive). Never waits."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(os.fspath(sock))
    except (BlockingIOError, InterruptedError):
        return True  # EAGAIN: a listener whose backlog is full
    except OSError:
        return False  # ECONNREFUSED (nobody listens), ENOENT, ENOTSOCK, EACCES...
    finally:
        probe.close()
    return True


def pid_from_name(name: str) -> int | None:
    """The pid in a ``<pid>.sock``/``<pid>.json`` stem: ASCII decimal, no leading zero, in
    range; anything else (``²``, Arabic-Indic digits, 20 digits) is not a pid."""
    if not (0 < len(name) <= 7 and name.isascii() and name.isdigit() and name[0] != "0"):
        return None
    pid = int(name)
    return pid if pid <= PID_MAX else None


def _pid_of(sock: Path) -> int | None:
    return pid_from_name(sock.stem)


def write_sidecar(info: AppInfo) -> Path:
    """Write ``info`` beside its socket atomically (temporary file, mode 0600, rename)."""
    target = sidecar_for(info.socket)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    data = json.dumps(info.to_dict(), sort_keys=True, allow_nan=False).encode()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW,
                 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    return target


def _read_small_regular_file(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else None.

    Opened non-blocking and without following a symlink, and checked with ``fstat`` on the
    open descriptor: a FIFO planted as a sidecar hung ``ls`` forever, ``/dev/zero`` or a
    200 MB file ran it out of memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
                     | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return None if size > limit else b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_sidecar(sock: Path) -> AppInfo:
    """What the sidecar beside ``sock`` says; a missing, oversized, non-regular or broken
    sidecar gives an ``AppInfo`` with the pid from the file name and an empty app name.

    Every field is checked: text is made UTF-8-safe and bounded, ``started_at`` must be a
    finite number (``Infinity`` crashed ``ls`` and made ``ls --json`` print invalid JSON).
    """
    pid = _pid_of(sock) or 0
    blank = AppInfo(pid=pid, app="", socket=sock)
    data = _read_small_regular_file(sidecar_for(sock), MAX_SIDECAR)
    if data is None:
        return blank
    try:
        raw = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # deep nesting: RecursionError, not ValueError
        return blank
    if not isinstance(raw, dict):
        return blank
    versions = raw.get("versions")
    protocol = raw.get("protocol")
    return AppInfo(
        pid=pid,
        app=_text(raw.get("app", "")),
        socket=sock,
        started_at=_number(raw.get("started_at")),
        versions={_text(k): _text(v) for k, v in list(versions.items())[:32]}
        if isinstance(versions, dict) else {},
        protocol=protocol if isinstance(protocol, int) and not isinstance(protocol, bool)
        and 0 <= protocol < 1 << 16 else 0,
    )


def _text(value: object) -> str:
    return encodable(value[:_MAX_TEXT]) if isinstance(value, str) else ""


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        number = float(value)
    except OverflowError:  # an int with 400 digits
        return 0.0
    return number if math.isfinite(number) and number >= 0 else 0.0


def list_apps(runtime: Path | None = None) -> list[AppInfo]:
    """Live applications, by pid: those whose socket accepts a connection.

    A dead process, a zombie and a reused pid are never listed (their sockets refuse);
    a file whose name is not ``<ascii pid>.sock`` is ignored. An unsafe socket directory
    raises :class:`UnsafeRuntimeDirectory` rather than listing sockets someone else may have
    planted there; one that cannot be read raises :class:`AccessDenied`.
    """
    directory = socket_dir(runtime)
    if runtime is None and not os.environ.get("XDG_RUNTIME_DIR"):
        # The <tmp>/resinspect-<uid> fallback sits in a world-writable directory: as strict
        # as the server is when it starts (someone else's, or open to all, is refused).
        base = runtime_base()
        if os.path.lexists(base):
            check_runtime_dir(base)
    try:
        os.lstat(directory)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise AccessDenied(f"cannot read {directory}: {err.strerror or err}") from None
    check_runtime_dir(directory)
    try:
        names = os.listdir(directory)
    except OSError as err:
        raise AccessDenied(f"cannot read {directory}: {err.strerror or err}") from None
    apps = []
    for entry in names:
        stem, dot, suffix = entry.rpartition(".")
        if not dot or suffix != "sock" or pid_from_name(stem) is None:
            continue
        sock = directory / entry
        try:
            if not stat.S_ISSOCK(os.lstat(sock).st_mode):
                continue
        except OSError:
            continue  # closed between listdir and lstat
        if socket_accepts(sock):
            apps.append(read_sidecar(sock))
    return sorted(apps, key=lambda a: a.pid)


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
