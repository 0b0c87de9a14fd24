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
import os
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AmbiguousApplication, NoApplication, SocketPathTooLong, UnsafeRuntimeDirectory

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


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists (ours or, EPERM, someone else's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError as exc:  # pragma: no cover - EINVAL etc.
        return exc.errno == errno.EPERM
    return True


def _pid_of(sock: Path) -> int | None:
    stem = sock.stem
    return int(stem) if stem.isdigit() else None


def write_sidecar(info: AppInfo) -> Path:
    """Write ``info`` beside its socket atomically (temporary file, mode 0600, rename)."""
    target = sidecar_for(info.socket)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    data = json.dumps(info.to_dict(), sort_keys=True).encode()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    return target


def read_sidecar(sock: Path) -> AppInfo:
    """What the sidecar beside ``sock`` says; a missing or broken sidecar gives an
    ``AppInfo`` with the pid from the file name and an empty app name."""
    pid = _pid_of(sock) or 0
    try:
        raw = json.loads(sidecar_for(sock).read_bytes())
    except (OSError, ValueError):
        return AppInfo(pid=pid, app="", socket=sock)
    if not isinstance(raw, dict):
        return AppInfo(pid=pid, app="", socket=sock)
    versions = raw.get("versions")
    return AppInfo(
        pid=pid,
        app=str(raw.get("app", "")),
        socket=sock,
        started_at=_number(raw.get("started_at")),
        versions={str(k): str(v) for k, v in versions.items()}
        if isinstance(versions, dict) else {},
        protocol=int(raw["protocol"]) if isinstance(raw.get("protocol"), int) else 0,
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def list_apps(runtime: Path | None = None) -> list[AppInfo]:
    """Live applications, by pid; a dead process is never listed.

    An unsafe socket directory raises :class:`UnsafeRuntimeDirectory` rather than listing
    sockets someone else may have planted there.
    """
    directory = socket_dir(runtime)
    if not os.path.lexists(directory):
        return []
    check_runtime_dir(directory)
    apps = []
    for sock in directory.glob("*.sock"):
        pid = _pid_of(sock)
        if pid is None or not pid_alive(pid):
            continue
        try:
            if not stat.S_ISSOCK(os.lstat(sock).st_mode):
                continue
        except FileNotFoundError:
            continue  # closed between glob and lstat
        apps.append(read_sidecar(sock))
    return sorted(apps, key=lambda a: a.pid)


def remove_stale(runtime: Path | None = None) -> list[Path]:
    """Remove sockets, sidecars and stall files of dead processes (never a live one); return
    what went."""
    directory = socket_dir(runtime)
    if not directory.is_dir():
        return []
    removed = []
    pids: set[int] = set()
    for entry in directory.iterdir():
        if entry.suffix in (".sock", ".json", ".stall") and (pid := _pid_of(entry)) is not None:
            pids.add(pid)
    for pid in sorted(pids):
        if pid_alive(pid):
            continue
        for suffix in (".sock", ".json", ".stall"):
            path = directory / f"{pid}{suffix}"
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
