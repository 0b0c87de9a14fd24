"""The socket server: answers the CLI from its own thread, whatever the GUI thread is doing.

``InspectorServer`` puts the parts together: it claims the socket path and binds it
(:mod:`~inspector.server.listener`), writes the sidecar, and runs a
:class:`~inspector.server.transport.Transport` (the selectors loop, which knows no method)
with a :class:`~inspector.server.dispatch.Dispatcher` over the method table of
:mod:`~inspector.server.handlers`. Requests whose handler must not run on the loop go to
the helper thread of :mod:`~inspector.server.offloop`; queues and flow control are
:mod:`~inspector.server.connections`'.

Security (docs/architecture.md, "Security model"): the socket lives in a private 0700
directory and is 0600 from the moment it exists (see :mod:`~inspector.server.listener`). The
peer's uid is checked with ``SO_PEERCRED`` before a single byte is read or sent.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import platform
import socket
import threading
import time
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

from ..metrics.text import encodable
from . import discovery
from .admission import EVICTABLE_AFTER, EVICTABLE_SILENT_AFTER
from .connections import SERVER_BUSY, Limits
from .dispatch import Dispatcher
from .handlers import MAX_OFFSET, MAX_PAGE, MIN_INTERVAL, Identity, Methods
from .listener import START_LOCK, bind_private, claim, remove_if_ours
from .protocol import PROTOCOL_VERSION
from .ratelimit import LOG_BURST, LOG_WINDOW
from .source import MetricsSource, NamedSource, StallWatchingSource
from .transport import LINES_PER_TURN, Transport

log = logging.getLogger("inspector.server")

__all__ = ["EVICTABLE_AFTER", "EVICTABLE_SILENT_AFTER", "LINES_PER_TURN", "LOG_BURST",
           "LOG_WINDOW", "MAX_OFFSET", "MAX_PAGE", "MIN_INTERVAL", "SERVER_BUSY",
           "InspectorServer"]

_MIB = 1 << 20


class _Limit:
    """An attribute of the server that is a field of its :class:`Limits`: a running server
    reads it at each use, so setting it retunes the server."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, server: InspectorServer | None, owner: type | None = None) -> Any:
        return self if server is None else getattr(server.limits, self._name)

    def __set__(self, server: InspectorServer, value: float) -> None:
        setattr(server.limits, self._name, value)


class InspectorServer:
    """Serves a metrics source over ``<runtime>/resinspect/<pid>.sock`` (docs/architecture.md,
    "Socket layout and discovery").

    ``runtime_dir`` is ``<runtime>`` (default ``$XDG_RUNTIME_DIR``, else
    ``<tmp>/resinspect-<uid>``); the socket and its sidecar go in its ``resinspect``
    subdirectory. ``max_queue`` bounds a client's unsent bytes and ``stall_timeout`` how long
    it may accept none of them; past either it is dropped. ``max_total_queue`` bounds the
    unsent bytes of all clients together (past it, the client holding most is dropped), and
    ``idle_timeout`` how long a new connection may stay without a complete request. Use as
    a context manager, or call :meth:`start` and :meth:`close` (also run at interpreter exit).
    """

    max_clients = _Limit()
    max_queue = _Limit()
    max_total_queue = _Limit()
    stall_timeout = _Limit()
    idle_timeout = _Limit()

    def __init__(
        self,
        model: MetricsSource,
        *,
        app: str | None = None,
        runtime_dir: Path | None = None,
        max_clients: int = 64,
        max_queue: int = 16 * _MIB,
        stall_timeout: float = 30.0,
        max_total_queue: int = 64 * _MIB,
        idle_timeout: float = 5.0,
    ) -> None:
        self.model = model
        if app is None:
            app = (model.app if isinstance(model, NamedSource) else "") or "python"
        # The name goes into JSON (hello, the sidecar): undecodable bytes of a script's file
        # name made every hello fail with UnicodeEncodeError, so it is made UTF-8-safe here.
        self.app = encodable(str(app))
        self.limits = Limits(max_clients=max_clients, max_queue=max_queue,
                             stall_timeout=stall_timeout,
                             max_total_queue=max(max_total_queue, max_queue),
                             idle_timeout=idle_timeout)
        self._runtime = runtime_dir
        self._pid = os.getpid()
        self._uid = os.geteuid()
        self._started_at = time.time()
        self._path: Path | None = None
        self._sidecar: Path | None = None
        self._inode: int | None = None
        self._listener: socket.socket | None = None
        self._transport: Transport | None = None
        self._state_lock = threading.Lock()
        self._closed = False
        self._counters = {"accepted": 0, "refused_uid": 0, "refused_full": 0, "dropped": 0,
                          "requests": 0, "errors": 0, "evicted": 0, "idle_closed": 0}
        self.methods = Methods(model, Identity(self.app, self._pid, self._started_at,
                                               MappingProxyType(self.versions())))
        self._dispatcher = Dispatcher(self.methods.table)

    @property
    def path(self) -> Path:
        """The socket's path (known before :meth:`start`)."""
        if self._path is None:
            self._path = discovery.socket_path(self._pid, self._runtime)
        return self._path

    @property
    def sidecar_path(self) -> Path:
        """The sidecar's path beside the socket."""
        return discovery.sidecar_for(self.path)

    @property
    def running(self) -> bool:
        """Whether the serving thread is alive."""
        return self._transport is not None and self._transport.running

    def versions(self) -> dict[str, str]:
        """Versions hello and the sidecar report."""
        from .. import __version__

        try:
            import PySide6

            pyside = str(PySide6.__version__)
        except ImportError:  # pragma: no cover - a dependency
            pyside = ""
        return {"python": platform.python_version(), "PySide6": pyside,
                "resinspect": __version__}

    def stats(self) -> dict[str, int]:
        """Counters: accepted, refused_uid, refused_full, dropped, requests, errors, evicted,
        idle_closed, clients, and queued_bytes (unsent, all clients)."""
        conns = self._transport.conns if self._transport is not None else None
        return {**self._counters, "errors": self._counters["errors"] + self._dispatcher.errors,
                "clients": len(conns.clients) if conns is not None else 0,
                "queued_bytes": conns.total_out if conns is not None else 0}

    def start(self) -> InspectorServer:
        """Create the socket and sidecar and start serving; returns self.

        Raises ``UnsafeRuntimeDirectory``, ``SocketPathTooLong`` or ``ServerAlreadyRunning``
        (in which case nothing on disk was touched).
        """
        with self._state_lock:
            if self._closed:
                raise RuntimeError("this InspectorServer was closed; make a new one")
            if self._transport is not None:
                return self
            directory = discovery.ensure_runtime_dir(self._runtime)
            path = self._path = directory / f"{self._pid}.sock"
            discovery.check_socket_path(path)
            discovery.remove_stale(self._runtime)
            with START_LOCK:
                claim(path)
                self._listener, self._inode = bind_private(path, self.limits.max_clients)
            try:
                self._sidecar = discovery.write_sidecar(discovery.AppInfo(
                    pid=self._pid, app=self.app, socket=path, started_at=self._started_at,
                    versions=self.versions(), protocol=PROTOCOL_VERSION))
                snapshots = self.methods.snapshots
                self._transport = Transport(
                    self._listener, self._dispatcher, pushes=snapshots.json,
                    new_turn=snapshots.new_turn, limits=self.limits,
                    counters=self._counters, uid=self._uid)
                self._transport.start()
            except BaseException:
                self._cleanup()
                raise
            atexit.register(self.close)
            self._watch_stalls(path)
            log.debug("serving %s at %s", self.app, path)
            return self

    def _watch_stalls(self, path: Path) -> None:
        """Have the source keep a stall file beside the socket, which the CLI reads when the
        application cannot answer (native code holding the GIL); not every source can."""
        if isinstance(self.model, StallWatchingSource):
            try:
                self.model.watch_stalls(discovery.stall_for(path))
            except Exception:  # the socket still serves without it
                log.exception("resinspect: the stall file was not set up")

    def close(self) -> None:
        """Stop serving and remove the socket and sidecar; idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        if self._transport is not None:
            self._transport.stop()
        if isinstance(self.model, StallWatchingSource) and os.getpid() == self._pid:
            try:
                self.model.unwatch_stalls()
            except Exception:
                log.exception("resinspect: removing the stall file failed")
        self._cleanup()

    def __enter__(self) -> InspectorServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _cleanup(self) -> None:
        """Close sockets and remove our files: only in the process that made them (a forked
        child runs atexit too) and only if they are still ours."""
        if self._transport is not None:
            self._transport.stop()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        if os.getpid() != self._pid or self._path is None or self._inode is None:
            return
        remove_if_ours(self._path, self._inode)
        if self._sidecar is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._sidecar)
        self._inode = None
