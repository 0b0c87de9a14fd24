"""Whether a process is alive and is the one that wrote a sidecar, and whether a socket
accepts: what discovery needs to tell live applications from stale files.

Imports no Qt: the CLI uses it and must start fast.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

#: Largest pid a file name may carry (Linux's highest ``pid_max``); a longer number is not ours.
PID_MAX = 4_194_304


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
    return proc_state(pid) not in ("Z", "X", "")


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


def proc_state(pid: int) -> str:
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
