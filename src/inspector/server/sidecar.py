"""The files beside an application's socket: the sidecar ``<pid>.json`` that describes it
(written atomically, read defensively) and the stall file ``<pid>.stall``.

Imports no Qt: the CLI uses it and must start fast.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..metrics.text import encodable
from .processes import pid_from_name

#: Largest sidecar read: a real one is a few hundred bytes.
MAX_SIDECAR = 64 * 1024
#: Longest app name or version string kept from a sidecar.
_MAX_TEXT = 4096


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


def sidecar_for(sock: Path) -> Path:
    """The sidecar beside a socket: ``<pid>.json``."""
    return sock.with_suffix(".json")


def stall_for(sock: Path) -> Path:
    """The stall file beside a socket: ``<pid>.stall`` (see ``inspector.metrics.hangs``)."""
    return sock.with_suffix(".stall")


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
