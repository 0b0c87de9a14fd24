"""The open connections: which events each waits for, its unsent bytes, and flow control.

* replies go to a per-connection queue sent as the kernel accepts; a client whose unsent bytes
  pass ``max_queue``, or that accepts nothing for ``stall_timeout`` seconds, is dropped with a
  logged reason;
* the unsent bytes of all clients together are bounded (``max_total_queue``): past it the
  client holding the most is dropped, and memory freed by dropped clients is handed back to
  the system (``malloc_trim``), so thirty pipelining clients cannot leave the application
  450 MB fatter after they are gone.

Touched only by the server's loop thread.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import time
from dataclasses import dataclass

from .connection import SEND_FLAGS, Connection
from .memory import TRIM_AFTER, malloc_trim
from .protocol import MAX_LINE, encode_error
from .ratelimit import RateLimitedLog

log = logging.getLogger("inspector.server")

#: Error code of the line a refused or closed client gets (JSON-RPC's implementation range).
SERVER_BUSY = -32003
_MIB = 1 << 20


@dataclass(slots=True)
class Limits:
    """The server's bounds; read at each use, so a running server can be retuned."""

    max_clients: int = 64
    max_queue: int = 16 * _MIB
    stall_timeout: float = 30.0
    max_total_queue: int = 64 * _MIB
    idle_timeout: float = 5.0


class Connections:
    """Every open connection, by descriptor, with what is queued for it."""

    def __init__(self, sel: selectors.BaseSelector, limits: Limits,
                 counters: dict[str, int], warn: RateLimitedLog) -> None:
        self.sel = sel
        self.limits = limits
        self.counters = counters
        self.warn = warn
        self.clients: dict[int, Connection] = {}
        #: Connections with complete lines still to answer (the loop answers them next turn).
        self.busy: set[Connection] = set()
        #: Unsent bytes of all connections together.
        self.total_out = 0
        self._freed = 0

    def add(self, conn: Connection) -> None:
        """Start serving ``conn`` (its socket is non-blocking)."""
        self.clients[conn.sock.fileno()] = conn
        self.set_interest(conn)

    def holds(self, conn: Connection) -> bool:
        """Whether ``conn`` is still one of the open connections."""
        return conn.open and self.clients.get(conn.sock.fileno()) is conn

    def queue(self, conn: Connection, data: bytes) -> None:
        """Send ``data`` to ``conn`` as the kernel accepts it, within the limits."""
        if not conn.open:
            return
        limits = self.limits
        if conn.out_bytes > limits.max_queue:
            self.drop(conn, f"more than {limits.max_queue} bytes unsent (not reading)")
            return
        total_limit = max(limits.max_total_queue, limits.max_queue)
        if self.total_out + len(data) > total_limit and conn.out_bytes:
            # All clients together hold too much: the one holding most goes (this one, or
            # another one that is further behind).
            hog = max(self.clients.values(), key=lambda c: c.out_bytes)
            self.drop(hog, f"{hog.out_bytes} bytes unsent while all clients together hold "
                           f"more than {total_limit} (not reading)")
            if not conn.open:
                return
        if not conn.out:
            conn.last_progress = time.monotonic()
        conn.out.append(data)
        conn.out_bytes += len(data)
        self.total_out += len(data)
        self.flush(conn)

    def flush(self, conn: Connection) -> None:
        """Send what the kernel takes now; wait for EVENT_WRITE for the rest."""
        out = conn.out
        while out:
            head = out[0]
            try:
                sent = conn.sock.send(memoryview(head)[conn.head_offset:], SEND_FLAGS)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self.close(conn, f"send failed: {exc.strerror}")
                return
            conn.last_progress = time.monotonic()
            conn.out_bytes -= sent
            self.total_out -= sent
            conn.head_offset += sent
            if conn.head_offset < len(head):
                break  # the kernel buffer is full; wait for EVENT_WRITE
            out.popleft()
            conn.head_offset = 0
        self.finish_or_wait(conn)

    def drop_stalled(self, now: float) -> None:
        """Drop connections that accepted none of their queued bytes for ``stall_timeout``."""
        timeout = self.limits.stall_timeout
        for conn in list(self.clients.values()):
            if conn.out and now - conn.last_progress > timeout:
                self.drop(conn, f"accepted no data for {timeout:g} s")

    def finish_or_wait(self, conn: Connection) -> None:
        """Close a connection that is done (it shut down its side, or a fatal request was
        answered, and nothing is left to send or answer); else wait for its next events."""
        if not conn.open:
            return
        if ((conn.closing or conn.eof) and not conn.out and not conn.pending
                and conn not in self.busy):
            self.close(conn)
        else:
            self.set_interest(conn)

    def set_interest(self, conn: Connection) -> None:
        """Register for reading while a line may still come, and for writing while bytes
        wait; an over-long partial line stops the reading."""
        events = 0
        if not (conn.closing or conn.eof) and len(conn.inbuf) <= MAX_LINE:
            events |= selectors.EVENT_READ
        if conn.out:
            events |= selectors.EVENT_WRITE
        if events == conn.events:
            return
        if conn.events == 0:
            self.sel.register(conn.sock, events, conn)
        elif events == 0:
            self.sel.unregister(conn.sock)
        else:
            self.sel.modify(conn.sock, events, conn)
        conn.events = events

    def drop(self, conn: Connection, reason: str) -> None:
        """Close ``conn`` for misbehaving, with a (rate-limited) warning saying why."""
        self.counters["dropped"] += 1
        self.warn.warning("dropped", "resinspect: dropped %s: %s", conn.label, reason)
        self.close(conn)

    def say_goodbye(self, conn: Connection, why: str) -> None:
        """One error line saying why (if the kernel takes it at once), then close."""
        line = encode_error(None, SERVER_BUSY, why)
        with contextlib.suppress(OSError):
            conn.sock.send(line, SEND_FLAGS)
        self.close(conn)

    def give_memory_back(self) -> None:
        """Hand freed memory back to the system once the big queues are gone."""
        # Only then: a monitoring client's reply in flight must not put it off forever.
        if self._freed >= TRIM_AFTER and self.total_out < TRIM_AFTER // 8:
            self._freed = 0
            malloc_trim()

    def close(self, conn: Connection, reason: str = "") -> None:
        """Close ``conn`` and forget it (idempotent)."""
        if reason:
            log.debug("resinspect: closing %s: %s", conn.label, reason)
        fd = conn.sock.fileno()
        if fd < 0:
            return
        if conn.events:
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(conn.sock)
        conn.events = 0
        self.clients.pop(fd, None)
        self.busy.discard(conn)
        self.total_out -= conn.out_bytes
        self._freed += conn.out_bytes + len(conn.inbuf)
        conn.out.clear()
        conn.out_bytes = 0
        conn.inbuf.clear()
        conn.sock.close()

    def close_all(self) -> None:
        """Close every connection."""
        for conn in list(self.clients.values()):
            self.close(conn)
