"""The socket server: answers the CLI from its own thread, whatever the GUI thread is doing.

One ``selectors`` loop on a daemon thread serves every client through non-blocking sockets,
so a slow or stalled client can hold up neither another client nor the application:

* requests are read into a per-client buffer of at most one line (1 MiB); at most
  ``LINES_PER_TURN`` are answered per client per turn, so a flooding client cannot starve
  the others;
* replies go to a per-client queue sent as the kernel accepts; a client whose unsent bytes
  pass ``max_queue``, or that accepts nothing for ``stall_timeout`` seconds, is dropped with a
  logged reason;
* a subscription push that falls due while the client still has unsent bytes is skipped and
  counted (``seq`` and ``dropped`` in every push make gaps visible): a client that is behind
  gets the newest state when it catches up, not a backlog of stale ones;
* ``stacks`` is answered on a helper thread: reading the GUI thread's stack waits for that
  thread to run a signal handler, up to 100 ms when its event loop is idle in C++, which the
  loop must not spend once per request (a client pipelining 64 of them stalled every other
  client for 6 s). The asking client's later lines wait for that reply, so replies stay in
  request order. One reading of the stacks answers every ``stacks`` request waiting for it,
  so a newcomer waits for at most two readings however many clients pipeline them;
* the connections are a shared resource that a silent client must not hold: one that has
  sent no complete request ``idle_timeout`` seconds after connecting is closed, and when all
  ``max_clients`` slots are taken a newcomer gets the slot of the longest-idle client (no
  subscription, nothing queued, no request for a second or more). Only when every client
  is busy is the newcomer refused - with one JSON-RPC error line saying why, not a reset;
* the unsent bytes of all clients together are bounded (``max_total_queue``): past it the
  client holding the most is dropped, and memory freed by dropped clients is handed back to
  the system (``malloc_trim``), so thirty pipelining clients cannot leave the application
  450 MB fatter after they are gone;
* warnings about clients (refused, dropped) are rate-limited: a flood of connections makes a
  few log lines and a count, not one line per connection.

Security (docs/architecture.md, "Security model"): the socket lives in a private 0700
directory and is 0600 from the moment it exists: its inode is made 0600 before ``bind``
(Linux creates the file with that mode), never by changing the umask, which is process-wide
(files other threads created meanwhile got the wrong mode); it is chmod-ed again before
``listen`` where that is not so. The peer's uid is checked with ``SO_PEERCRED`` before a
single byte is read or sent. There is no TCP and no abstract-namespace socket.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import os
import platform
import queue
import selectors
import socket
import stat
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, TypeVar

import msgspec

from ..errors import ServerAlreadyRunning
from ..metrics.text import encodable, encodable_tree
from . import discovery
from .protocol import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    LINE_TOO_LONG,
    MAX_LINE,
    METHOD_NOT_FOUND,
    METHODS,
    PROTOCOL_VERSION,
    ProtocolViolation,
    Request,
    encode_error,
    encode_push,
    encode_result,
    negotiate,
    parse_request,
)
from .source import SnapshotSource
from .stacks import main_stack_of, thread_stacks

log = logging.getLogger("inspector.server")

#: Error code of the line a refused client gets (JSON-RPC's implementation-defined range).
SERVER_BUSY = -32003

#: Shortest subscription interval (seconds); shorter requests are raised to it.
MIN_INTERVAL = 0.05
#: Longest page of ``resources``.
MAX_PAGE = 10_000
#: Largest ``resources`` offset (2**53, JSON's exact integers): 10**30 failed deep inside.
MAX_OFFSET = 1 << 53
#: Requests answered per client per loop turn (fairness between clients).
LINES_PER_TURN = 64
_READ_CHUNK = 1 << 16
_MIB = 1 << 20
_PEERCRED = struct.Struct("3i")
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)

# Two servers starting at once in one process must not both decide the path is free.
_start_lock = threading.Lock()

#: A client idle this long (no subscription, nothing queued) may give its slot to a newcomer;
#: one that has not sent a single request yet, after the shorter time (a real client sends
#: its ``hello`` as soon as it connects).
EVICTABLE_AFTER = 1.0
EVICTABLE_SILENT_AFTER = 0.25
#: Warnings of one kind logged per window before the rest are only counted.
LOG_BURST = 5
LOG_WINDOW = 10.0
#: Bytes freed (dropped clients' queues) after which memory is handed back to the system.
_TRIM_AFTER = 8 * (1 << 20)


class _RateLimitedLog:
    """At most :data:`LOG_BURST` warnings of a kind per :data:`LOG_WINDOW` seconds; the
    next one after a quiet spell says how many were left out. Server thread only."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        start, count = self._windows.get(kind, (now, 0))
        if now - start >= LOG_WINDOW:
            if count > LOG_BURST:
                log.warning("resinspect: %d more %s warnings in %.0f s were not logged",
                            count - LOG_BURST, kind, now - start)
            start, count = now, 0
        count += 1
        self._windows[kind] = (start, count)
        if count <= LOG_BURST:
            log.warning(message, *args)
        elif count == LOG_BURST + 1:
            log.warning("resinspect: more %s warnings follow; logging them only as a count "
                        "for %.0f s", kind, LOG_WINDOW)


def _malloc_trim() -> None:
    """Give free heap memory back to the system (glibc); nothing elsewhere.

    Replies of hundreds of KiB freed on the server thread stay in its malloc arena, which
    glibc returns to the system only on request: without this, RSS stayed at 426-490 MB
    after thirty pipelining clients that had pushed it from 42 MB were dropped.
    """
    trim: Any = _TRIM.get("malloc_trim")
    if trim is None:
        _TRIM["malloc_trim"] = trim = False
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            _TRIM["malloc_trim"] = trim = ctypes.CDLL("libc.so.6").malloc_trim
    if trim:
        trim(0)


#: glibc's ``malloc_trim``, looked up on first use (False where there is none).
_TRIM: dict[str, Any] = {}


class _NoParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class _HelloParams(msgspec.Struct, frozen=True):
    protocol: list[int] | None = None


class _SnapshotParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    objects: bool = False  # Python objects by type too (costs a gc.get_objects())


class _SubscribeParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    interval: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 1.0


class _WhyParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    resource_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class _ResourcesParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    offset: Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFSET)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE)] = 500
    component_id: str | None = None


_P = TypeVar("_P")


def _params(params: dict[str, Any], kind: type[_P]) -> _P:
    try:
        return msgspec.convert(params, kind)
    except msgspec.ValidationError as exc:
        raise ProtocolViolation(INVALID_PARAMS, f"invalid params: {exc}") from None


class _Client:
    """One connection's state; touched only by the server thread."""

    __slots__ = ("closing", "connected", "eof", "events", "head_offset", "inbuf", "interval",
                 "label", "last_active", "last_progress", "next_push", "out", "out_bytes",
                 "pending", "pushes_dropped", "requests", "seq", "sock")

    def __init__(self, sock: socket.socket, peer_pid: int | None) -> None:
        self.sock = sock
        self.label = f"client pid {peer_pid}" if peer_pid else f"client fd {sock.fileno()}"
        self.inbuf = bytearray()
        self.out: deque[bytes] = deque()
        self.out_bytes = 0
        self.head_offset = 0
        self.last_progress = time.monotonic()
        self.connected = self.last_progress
        self.last_active = self.last_progress  # its last complete request
        self.requests = 0
        self.events = 0
        self.closing = False  # answer what is queued, then close (after a fatal request)
        self.eof = False  # the client shut down its side; finish its requests, then close
        self.pending = False  # a reply is being made off the loop; later lines wait for it
        self.interval: float | None = None  # subscribed while not None
        self.next_push = 0.0
        self.seq = 0
        self.pushes_dropped = 0


class InspectorServer:
    """Serves a metrics model over ``<runtime>/resinspect/<pid>.sock`` (docs/architecture.md,
    "Socket layout and discovery").

    ``runtime_dir`` is ``<runtime>`` (default ``$XDG_RUNTIME_DIR``, else
    ``<tmp>/resinspect-<uid>``); the socket and its sidecar go in its ``resinspect``
    subdirectory. ``max_queue`` bounds a client's unsent bytes and ``stall_timeout`` how long
    it may accept none of them; past either it is dropped. ``max_total_queue`` bounds the
    unsent bytes of all clients together (past it, the client holding most is dropped), and
    ``idle_timeout`` how long a new connection may stay without a complete request. Use as
    a context manager, or call :meth:`start` and :meth:`close` (also run at interpreter exit).
    """

    def __init__(
        self,
        model: SnapshotSource,
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
        # The name goes into JSON (hello, the sidecar): undecodable bytes of a script's file
        # name made every hello fail with UnicodeEncodeError, so it is made UTF-8-safe here.
        self.app = encodable(app if app is not None
                             else str(getattr(model, "app", "") or "python"))
        self.max_clients = max_clients
        self.max_queue = max_queue
        self.max_total_queue = max(max_total_queue, max_queue)
        self.stall_timeout = stall_timeout
        self.idle_timeout = idle_timeout
        self._total_out = 0
        self._freed = 0
        self._warn = _RateLimitedLog()
        self._runtime = runtime_dir
        self._pid = os.getpid()
        self._uid = os.geteuid()
        self._started_at = time.time()
        self._path: Path | None = None
        self._sidecar: Path | None = None
        self._inode: int | None = None
        self._listener: socket.socket | None = None
        self._sel: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._closed = False
        self._stop = False
        self._clients: dict[int, _Client] = {}
        self._busy: set[_Client] = set()
        self._subscribers: set[_Client] = set()
        self._turn_snapshot: bytes | None = None
        self._snapshot_failed = False
        self._accept_paused_until = 0.0
        # Replies made off the loop (``stacks``): jobs go to one helper thread, started on
        # first use; its results come back through ``_done`` and a wake-up byte.
        self._jobs: queue.SimpleQueue[tuple[_Client, Any] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[_Client, bytes]] = queue.SimpleQueue()
        self._helper: threading.Thread | None = None
        self._counters = {"accepted": 0, "refused_uid": 0, "refused_full": 0, "dropped": 0,
                          "requests": 0, "errors": 0, "evicted": 0, "idle_closed": 0}
        self._methods = {
            "hello": self._hello, "snapshot": self._snapshot, "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe, "resources": self._resources,
            "history": self._history, "stacks": self._stacks, "why": self._why,
            "hangs": self._hangs,
        }
        assert set(self._methods) == set(METHODS)

    # -- public ---------------------------------------------------------------------------

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
        return self._thread is not None and self._thread.is_alive()

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
        return {**self._counters, "clients": len(self._clients),
                "queued_bytes": self._total_out}

    def start(self) -> InspectorServer:
        """Create the socket and sidecar and start serving; returns self.

        Raises ``UnsafeRuntimeDirectory``, ``SocketPathTooLong`` or ``ServerAlreadyRunning``
        (in which case nothing on disk was touched).
        """
        with self._state_lock:
            if self._closed:
                raise RuntimeError("this InspectorServer was closed; make a new one")
            if self._thread is not None:
                return self
            directory = discovery.ensure_runtime_dir(self._runtime)
            path = self._path = directory / f"{self._pid}.sock"
            discovery.check_socket_path(path)
            discovery.remove_stale(self._runtime)
            with _start_lock:
                self._claim(path)
                self._listener = self._bind(path)
            try:
                self._sidecar = discovery.write_sidecar(discovery.AppInfo(
                    pid=self._pid, app=self.app, socket=path, started_at=self._started_at,
                    versions=self.versions(), protocol=PROTOCOL_VERSION))
                self._sel = selectors.DefaultSelector()
                self._wake_r, self._wake_w = socket.socketpair()
                self._wake_r.setblocking(False)
                self._wake_w.setblocking(False)
                self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
                self._sel.register(self._listener, selectors.EVENT_READ, "listen")
                self._thread = threading.Thread(target=self._run, name="resinspect-server",
                                                daemon=True)
                self._thread.start()
            except BaseException:
                self._cleanup()
                raise
            atexit.register(self.close)
            self._watch_stalls(path)
            log.debug("serving %s at %s", self.app, path)
            return self

    def _watch_stalls(self, path: Path) -> None:
        """Have the model keep a stall file beside the socket, which the CLI reads when the
        application cannot answer (native code holding the GIL); not every source can."""
        watch = getattr(self.model, "watch_stalls", None)
        if callable(watch):
            try:
                watch(discovery.stall_for(path))
            except Exception:  # the socket still serves without it
                log.exception("resinspect: the stall file was not set up")

    def close(self) -> None:
        """Stop serving and remove the socket and sidecar; idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            self._stop = True
        atexit.unregister(self.close)
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        helper = self._helper
        if helper is not None:
            self._jobs.put(None)
            if helper is not threading.current_thread():
                helper.join(timeout=5.0)
        unwatch = getattr(self.model, "unwatch_stalls", None)
        if callable(unwatch) and os.getpid() == self._pid:
            _quietly_call(unwatch)
        self._cleanup()

    def __enter__(self) -> InspectorServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- starting and stopping ------------------------------------------------------------

    def _claim(self, path: Path) -> None:
        """Make ``path`` free: a live server there wins; a dead one's socket is replaced."""
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

    def _bind(self, path: Path) -> socket.socket:
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
            self._inode = st.st_ino
            if not stat.S_ISSOCK(st.st_mode):  # pragma: no cover - replaced under us
                raise ServerAlreadyRunning(f"{path} changed while the server was binding it")
            os.chmod(path, 0o600)
            sock.listen(min(max(self.max_clients, 16), socket.SOMAXCONN))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def _cleanup(self) -> None:
        """Close sockets and remove our files: only in the process that made them (a forked
        child runs atexit too) and only if they are still ours."""
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        if self._sel is not None and not self.running:
            with contextlib.suppress(Exception):
                self._sel.close()
        if os.getpid() != self._pid or self._path is None or self._inode is None:
            return
        try:
            ours = os.lstat(self._path).st_ino == self._inode
        except FileNotFoundError:
            ours = False
        if ours:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
        if self._sidecar is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._sidecar)
        self._inode = None

    # -- the loop -------------------------------------------------------------------------

    def _run(self) -> None:
        sel = self._sel
        assert sel is not None
        try:
            while not self._stop:
                events = sel.select(self._timeout())
                self._turn_snapshot = None
                for key, mask in events:
                    if key.data == "wake":
                        self._drain_wake()
                        self._apply_done()
                    elif key.data == "listen":
                        self._accept()
                    else:
                        self._service(key.data, mask)
                for client in list(self._busy):
                    self._guarded(client, self._process_lines)
                now = time.monotonic()
                self._push_due(now)
                self._drop_stalled(now)
                self._close_idle(now)
                self._resume_accept(now)
                self._give_memory_back()
        except Exception:  # the app keeps running; only the inspector's socket goes away
            log.exception("resinspect server stopped after an unexpected error")
        finally:
            for client in list(self._clients.values()):
                self._close_client(client)
            sel.close()

    def _timeout(self) -> float | None:
        if self._busy:
            return 0.0
        now = time.monotonic()
        deadlines = [c.next_push for c in self._subscribers]
        deadlines += [c.last_progress + self.stall_timeout
                      for c in self._clients.values() if c.out]
        deadlines += [c.connected + self.idle_timeout
                      for c in self._clients.values() if not c.requests]
        if self._accept_paused_until:
            deadlines.append(self._accept_paused_until)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(OSError):
            self._wake_r.recv(4096)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(16):
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of descriptors, typically: the listener stays readable, so pause
                # accepting rather than spin.
                log.warning("resinspect: cannot accept connections for now: %s", exc)
                self._pause_accept()
                return
            self._admit(sock)

    def _pause_accept(self) -> None:
        assert self._sel is not None
        assert self._listener is not None
        self._accept_paused_until = time.monotonic() + 0.5
        self._sel.unregister(self._listener)

    def _resume_accept(self, now: float) -> None:
        if self._accept_paused_until and now >= self._accept_paused_until:
            assert self._sel is not None
            assert self._listener is not None
            self._accept_paused_until = 0.0
            self._sel.register(self._listener, selectors.EVENT_READ, "listen")

    def _admit(self, sock: socket.socket) -> None:
        peer_pid, peer_uid = _peer_credentials(sock)
        if peer_uid is not None and peer_uid != self._uid:
            # Closed before a byte is read or written: another user learns nothing.
            self._counters["refused_uid"] += 1
            self._warn.warning("refused-uid", "resinspect: refused a connection from uid %d "
                               "(pid %s): not uid %d", peer_uid, peer_pid, self._uid)
            sock.close()
            return
        if len(self._clients) >= self.max_clients and not self._evict_idle():
            self._counters["refused_full"] += 1
            self._warn.warning("refused-full", "resinspect: refused a connection from pid %s: "
                               "%d clients already connected, all of them busy (max_clients)",
                               peer_pid, len(self._clients))
            _say_and_close(sock, encode_error(
                None, SERVER_BUSY, f"too many clients: all {self.max_clients} connections "
                "are busy; try again later"))
            return
        sock.setblocking(False)
        client = _Client(sock, peer_pid)
        self._clients[sock.fileno()] = client
        self._counters["accepted"] += 1
        self._set_interest(client)

    def _evict_idle(self) -> bool:
        """Close the longest-idle client to make room for a newcomer; False if none is idle.

        Idle: not subscribed, nothing queued or being answered, no request for
        :data:`EVICTABLE_AFTER` seconds (:data:`EVICTABLE_SILENT_AFTER` for one that never
        sent any). Connections that never sent a request go first.
        """
        now = time.monotonic()
        idle = [c for c in self._clients.values()
                if c.interval is None and not c.out and not c.pending and c not in self._busy
                and not c.inbuf and now - c.last_active
                >= (EVICTABLE_AFTER if c.requests else EVICTABLE_SILENT_AFTER)]
        if not idle:
            return False
        victim = min(idle, key=lambda c: (c.requests > 0, c.last_active))
        self._counters["evicted"] += 1
        self._warn.warning("evicted", "resinspect: closed %s, idle for %.1f s, to make room "
                           "for a new client (max_clients)", victim.label,
                           now - victim.last_active)
        self._say_goodbye(victim, "closed after being idle while all connections were taken")
        return True

    def _close_idle(self, now: float) -> None:
        """Close connections that sent no complete request within ``idle_timeout``."""
        limit = now - self.idle_timeout
        for client in list(self._clients.values()):
            if not client.requests and client.connected <= limit and not client.out:
                self._counters["idle_closed"] += 1
                log.debug("resinspect: closing %s: no request within %g s", client.label,
                          self.idle_timeout)
                self._say_goodbye(client, f"no request within {self.idle_timeout:g} s of "
                                  "connecting; closing")

    def _say_goodbye(self, client: _Client, why: str) -> None:
        """One error line saying why (if the kernel takes it at once), then close."""
        line = encode_error(None, SERVER_BUSY, why)
        with contextlib.suppress(OSError):
            client.sock.send(line, _SEND_FLAGS)
        self._close_client(client)

    def _service(self, client: _Client, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._guarded(client, self._flush)
        if mask & selectors.EVENT_READ and client.sock.fileno() >= 0:
            self._guarded(client, self._read)

    def _guarded(self, client: _Client, step: Any) -> None:
        """Run one client's step; a bug there drops that client, never the server."""
        try:
            step(client)
        except Exception as exc:
            log.exception("resinspect: error serving %s", client.label)
            self._drop(client, f"internal error: {exc!r}")

    # -- reading and answering ------------------------------------------------------------

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(_READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._close_client(client, f"read failed: {exc.strerror}")
            return
        if not data:
            client.eof = True
        elif client.closing:
            return  # a fatal request was answered; what follows is discarded unread
        else:
            client.inbuf += data
        self._process_lines(client)

    def _process_lines(self, client: _Client) -> None:
        if client.sock.fileno() < 0:  # dropped meanwhile (another client's reply, say)
            self._busy.discard(client)
            return
        buf = client.inbuf
        start = 0
        handled = 0
        # Busy while answering, so that a reply flushed at once cannot close a client that
        # has shut down its side before the rest of its requests are answered.
        self._busy.add(client)
        while (handled < LINES_PER_TURN and not client.closing and not client.pending
               and client.sock.fileno() >= 0):
            end = buf.find(b"\n", start)
            if end < 0:
                break
            stop = end - 1 if end > start and buf[end - 1] == 13 else end  # CRLF too
            length = stop - start
            # A view, not a copy: the decoder reads the line where it lies, so a client's
            # 1 MiB line costs the server its buffer and nothing more.
            line = memoryview(buf)[start:stop]
            start = end + 1
            handled += 1
            if length > MAX_LINE:
                line.release()
                self._line_too_long(client)
                break
            self._answer(client, line)
        if client.sock.fileno() < 0:
            return
        del buf[:start]
        if (not client.closing and not client.pending and len(buf) > MAX_LINE
                and b"\n" not in buf):  # (while pending, reading stops at the limit anyway)
            self._line_too_long(client)
        if not client.closing and not client.pending and b"\n" in buf:
            self._busy.add(client)
        else:
            self._busy.discard(client)
        self._finish_or_wait(client)

    def _line_too_long(self, client: _Client) -> None:
        # The rest of the line cannot be found without reading up to the next newline, which
        # a hostile client may never send: answer once and close.
        client.inbuf.clear()
        client.closing = True
        self._busy.discard(client)
        self._unsubscribe_client(client)
        self._counters["errors"] += 1
        self._queue(client, encode_error(None, LINE_TOO_LONG,
                                         f"line longer than {MAX_LINE} bytes; closing"))

    def _answer(self, client: _Client, line: memoryview) -> None:
        """Answer one request line (a view into the client's buffer, released here)."""
        self._counters["requests"] += 1
        client.requests += 1
        client.last_active = time.monotonic()
        request_id = None
        try:
            try:
                request = parse_request(line)
            finally:
                # Before anything can close the client: its buffer cannot be cleared or
                # resized while a view of it exists.
                line.release()
            request_id = request.id
            handler = self._methods.get(request.method)
            if handler is None:
                raise ProtocolViolation(METHOD_NOT_FOUND,
                                        f"method not found: {request.method!r}", request_id)
            if request.method == "stacks":
                _params(request.params, _NoParams)
                self._off_loop(client, request_id)
                return
            if request.method == "why":  # walks the heap for up to 2 s: never on the loop
                params = _params(request.params, _WhyParams)
                self._off_loop(client, request_id,
                               lambda: self._why_result(params.resource_id))
                return
            reply = _encode_result(request_id, handler(client, request))
        except ProtocolViolation as exc:
            self._counters["errors"] += 1
            reply = encode_error(exc.request_id if exc.request_id is not None else request_id,
                                 exc.code, exc.message)
        except Exception as exc:
            self._counters["errors"] += 1
            log.exception("resinspect: request failed")
            reply = encode_error(request_id, INTERNAL_ERROR,
                                 f"internal error: {type(exc).__name__}: {exc}")
        self._queue(client, reply)

    # -- methods (each returns the reply's result) -----------------------------------------

    def _hello(self, client: _Client, request: Request) -> dict[str, Any]:
        params = _params(request.params, _HelloParams)
        return {"app": self.app, "pid": self._pid, "versions": self.versions(),
                "protocol": negotiate(params.protocol), "methods": list(METHODS),
                "started_at": self._started_at}

    def _snapshot(self, client: _Client, request: Request) -> msgspec.Raw:
        params = _params(request.params, _SnapshotParams)
        if params.objects:
            from ..metrics.objects import count_objects

            snap = msgspec.structs.replace(self.model.snapshot(),
                                           python_objects=count_objects())
            return msgspec.Raw(snap.to_json())
        return msgspec.Raw(self._snapshot_json())

    def _snapshot_json(self) -> bytes:
        # One snapshot per loop turn, shared by every request and push of that turn.
        if self._turn_snapshot is None:
            snap = self.model.snapshot()
            try:
                self._turn_snapshot = snap.to_json()
            except UnicodeEncodeError:
                # A name with undecodable bytes (kept by surrogateescape) cannot be UTF-8:
                # shown escaped in this snapshot, rather than failing every one of them.
                self._turn_snapshot = msgspec.json.encode(
                    encodable_tree(msgspec.to_builtins(snap)))
        return self._turn_snapshot

    def _subscribe(self, client: _Client, request: Request) -> dict[str, Any]:
        params = _params(request.params, _SubscribeParams)
        interval = max(MIN_INTERVAL, params.interval)
        client.interval = interval
        client.next_push = time.monotonic()  # the first push right after this reply
        self._subscribers.add(client)
        return {"interval": interval, "seq": client.seq, "dropped": client.pushes_dropped}

    def _unsubscribe(self, client: _Client, request: Request) -> dict[str, Any]:
        _params(request.params, _NoParams)
        # Pushes are queued only by this thread, so none can follow the reply queued next.
        was = self._unsubscribe_client(client)
        return {"unsubscribed": was, "seq": client.seq, "dropped": client.pushes_dropped}

    def _unsubscribe_client(self, client: _Client) -> bool:
        was = client.interval is not None
        client.interval = None
        self._subscribers.discard(client)
        return was

    def _resources(self, client: _Client, request: Request) -> Any:
        params = _params(request.params, _ResourcesParams)
        return self.model.resources(params.offset, params.limit, params.component_id)

    def _history(self, client: _Client, request: Request) -> Any:
        _params(request.params, _NoParams)
        return self.model.history()

    def _stacks(self, client: _Client, request: Request) -> dict[str, Any]:
        _params(request.params, _NoParams)
        return thread_stacks(main_stack_of(self.model), self.model)

    def _hangs(self, client: _Client, request: Request) -> Any:
        _params(request.params, _NoParams)
        hangs = getattr(self.model, "hangs", None)
        if hangs is None:  # a source without a hang log has seen no stall
            return {"hangs": [], "count": 0, "total_ms": 0.0, "max_ms": 0.0,
                    "threshold_ms": 0.0, "by_function": [], "stalled_ms": 0.0}
        return hangs()

    def _why(self, client: _Client, request: Request) -> Any:
        return self._why_result(_params(request.params, _WhyParams).resource_id)

    def _why_result(self, resource_id: str) -> Any:
        # Not part of SnapshotSource: a source without a heap to walk (a replay) has no `why`.
        why = getattr(self.model, "why", None)
        if why is None:
            raise ProtocolViolation(METHOD_NOT_FOUND, "why is not available from this source")
        try:
            return why(resource_id)
        except LookupError as exc:
            raise ProtocolViolation(INVALID_PARAMS, str(exc.args[0])) from None

    # -- replies made off the loop ----------------------------------------------------------

    def _off_loop(self, client: _Client, request_id: Any,
                  job: Callable[[], Any] | None = None) -> None:
        """Hand a ``stacks`` (or ``why``: ``job``) request to the helper thread; the client
        waits, others do not."""
        client.pending = True
        if self._helper is None:
            self._helper = threading.Thread(target=self._help, name="resinspect-stacks",
                                            daemon=True)
            self._helper.start()
        self._jobs.put((client, (request_id, job)))

    def _help(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self._stop:
                return
            # Every request waiting now shares one reading of the stacks: served one by one,
            # a client behind 60 others pipelining ``stacks`` waited 4.5 s for its own.
            jobs = [job]
            while True:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    return
                jobs.append(more)
            stack_jobs = []
            for client, (request_id, work) in jobs:
                if work is None:
                    stack_jobs.append((client, request_id))
                else:  # a `why`: each walks the heap for its own object
                    self._done.put((client, self._run_job(request_id, work)))
            if stack_jobs:
                self._answer_stacks(stack_jobs)
            if self._wake_w is not None:
                with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
                    self._wake_w.send(b"x")

    def _run_job(self, request_id: Any, work: Callable[[], Any]) -> bytes:
        try:
            return _encode_result(request_id, work())
        except ProtocolViolation as exc:
            return encode_error(request_id, exc.code, exc.message)
        except Exception as exc:
            log.exception("resinspect: request failed")
            return encode_error(request_id, INTERNAL_ERROR,
                                f"internal error: {type(exc).__name__}: {exc}")

    def _answer_stacks(self, jobs: list[tuple[_Client, Any]]) -> None:
        try:
            stacks: Any = thread_stacks(main_stack_of(self.model), self.model)
            failure: Exception | None = None
        except Exception as exc:
            log.exception("resinspect: request failed")
            stacks, failure = None, exc
        for client, request_id in jobs:
            if failure is None:
                try:
                    reply = _encode_result(request_id, stacks)
                except Exception as exc:
                    failure = exc
            if failure is not None:
                reply = encode_error(request_id, INTERNAL_ERROR, "internal error: "
                                     f"{type(failure).__name__}: {failure}")
            self._done.put((client, reply))

    def _apply_done(self) -> None:
        while True:
            try:
                client, reply = self._done.get_nowait()
            except queue.Empty:
                return
            client.pending = False
            if client.sock.fileno() < 0 or self._clients.get(client.sock.fileno()) is not client:
                continue  # it went away meanwhile
            self._queue(client, reply)
            if client.sock.fileno() >= 0 and b"\n" in client.inbuf and not client.closing:
                self._busy.add(client)  # its next lines waited for this reply
            elif client.sock.fileno() >= 0:
                self._finish_or_wait(client)

    # -- subscriptions --------------------------------------------------------------------

    def _push_due(self, now: float) -> None:
        for client in list(self._subscribers):
            interval = client.interval
            if interval is None or client.next_push > now:
                continue
            client.seq += 1
            if client.out_bytes:
                # Still behind: a stale snapshot would only put it further behind.
                client.pushes_dropped += 1
            else:
                try:
                    data = self._snapshot_json()
                except Exception:
                    self._log_snapshot_failure()
                    client.pushes_dropped += 1
                else:
                    self._queue(client, encode_push(data, client.seq, client.pushes_dropped))
            client.next_push += interval
            if client.next_push <= now:
                client.next_push = now + interval  # after a stall, no burst of catch-up pushes

    def _log_snapshot_failure(self) -> None:
        if not self._snapshot_failed:
            self._snapshot_failed = True
            log.exception("resinspect: the model failed to take a snapshot for a push")

    # -- writing --------------------------------------------------------------------------

    def _queue(self, client: _Client, data: bytes) -> None:
        if client.sock.fileno() < 0:
            return
        if client.out_bytes > self.max_queue:
            self._drop(client, f"more than {self.max_queue} bytes unsent (not reading)")
            return
        if self._total_out + len(data) > self.max_total_queue and client.out_bytes:
            # All clients together hold too much: the one holding most goes (this one, or
            # another one that is further behind).
            hog = max(self._clients.values(), key=lambda c: c.out_bytes)
            self._drop(hog, f"{hog.out_bytes} bytes unsent while all clients together hold "
                            f"more than {self.max_total_queue} (not reading)")
            if client.sock.fileno() < 0:
                return
        if not client.out:
            client.last_progress = time.monotonic()
        client.out.append(data)
        client.out_bytes += len(data)
        self._total_out += len(data)
        self._flush(client)

    def _flush(self, client: _Client) -> None:
        out = client.out
        while out:
            head = out[0]
            try:
                sent = client.sock.send(memoryview(head)[client.head_offset:], _SEND_FLAGS)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._close_client(client, f"send failed: {exc.strerror}")
                return
            client.last_progress = time.monotonic()
            client.out_bytes -= sent
            self._total_out -= sent
            client.head_offset += sent
            if client.head_offset < len(head):
                break  # the kernel buffer is full; wait for EVENT_WRITE
            out.popleft()
            client.head_offset = 0
        self._finish_or_wait(client)

    def _drop_stalled(self, now: float) -> None:
        for client in list(self._clients.values()):
            if client.out and now - client.last_progress > self.stall_timeout:
                self._drop(client, f"accepted no data for {self.stall_timeout:g} s")

    def _finish_or_wait(self, client: _Client) -> None:
        if client.sock.fileno() < 0:
            return
        if ((client.closing or client.eof) and not client.out and not client.pending
                and client not in self._busy):
            self._close_client(client)
        else:
            self._set_interest(client)

    def _set_interest(self, client: _Client) -> None:
        assert self._sel is not None
        events = 0
        if not (client.closing or client.eof) and len(client.inbuf) <= MAX_LINE:
            events |= selectors.EVENT_READ
        if client.out:
            events |= selectors.EVENT_WRITE
        if events == client.events:
            return
        if client.events == 0:
            self._sel.register(client.sock, events, client)
        elif events == 0:
            self._sel.unregister(client.sock)
        else:
            self._sel.modify(client.sock, events, client)
        client.events = events

    def _drop(self, client: _Client, reason: str) -> None:
        self._counters["dropped"] += 1
        self._warn.warning("dropped", "resinspect: dropped %s: %s", client.label, reason)
        self._close_client(client)

    def _give_memory_back(self) -> None:
        # Once the big queues are gone: a monitoring client's reply in flight must not put
        # it off forever.
        if self._freed >= _TRIM_AFTER and self._total_out < _TRIM_AFTER // 8:
            self._freed = 0
            _malloc_trim()

    def _close_client(self, client: _Client, reason: str = "") -> None:
        if reason:
            log.debug("resinspect: closing %s: %s", client.label, reason)
        fd = client.sock.fileno()
        if fd < 0:
            return
        if client.events and self._sel is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(client.sock)
        client.events = 0
        self._clients.pop(fd, None)
        self._busy.discard(client)
        self._subscribers.discard(client)
        self._total_out -= client.out_bytes
        self._freed += client.out_bytes + len(client.inbuf)
        client.out.clear()
        client.out_bytes = 0
        client.inbuf.clear()
        client.sock.close()


def _quietly_call(step: Any) -> None:
    try:
        step()
    except Exception:
        log.exception("resinspect: removing the stall file failed")


def _peer_credentials(sock: socket.socket) -> tuple[int | None, int | None]:
    """(pid, uid) of the peer, or Nones where the platform cannot tell."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # pragma: no cover - not Linux; the 0700 directory still protects
        return None, None
    try:
        pid, uid, _gid = _PEERCRED.unpack(
            sock.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    except OSError:  # pragma: no cover
        return None, None
    return pid, uid


def _encode_result(request_id: Any, result: Any) -> bytes:
    """:func:`encode_result`, with names UTF-8 cannot carry (undecodable bytes) escaped."""
    try:
        return encode_result(request_id, result)
    except UnicodeEncodeError:
        return encode_result(request_id, encodable_tree(msgspec.to_builtins(result)))


def _say_and_close(sock: socket.socket, line: bytes) -> None:
    """Tell a refused client why in one line, then close.

    What it already sent is read first: closing an AF_UNIX socket with unread data resets
    the connection, and the client would see "Connection reset by peer" instead of the line.
    """
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(line, _SEND_FLAGS)
        sock.shutdown(socket.SHUT_WR)
        for _ in range(4):
            if not sock.recv(_READ_CHUNK):
                break
    sock.close()
