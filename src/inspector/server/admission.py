"""Who gets a connection: the peer's uid checked before a byte is read or sent, a slot among
``max_clients`` (the longest-idle client's, when all are taken), and closing connections that
never send a request.

The connections are a shared resource that a silent client must not hold: one that has sent
no complete request ``idle_timeout`` seconds after connecting is closed, and when all
``max_clients`` slots are taken a newcomer gets the slot of the longest-idle client (no
subscription, nothing queued, no request for a second or more). Only when every client is
busy is the newcomer refused - with one JSON-RPC error line saying why, not a reset.
Touched only by the server's loop thread.
"""

from __future__ import annotations

import logging
import selectors
import socket
import time

from .connection import Connection, peer_credentials, say_and_close
from .connections import SERVER_BUSY, Connections, Limits
from .protocol import encode_error
from .ratelimit import RateLimitedLog

log = logging.getLogger("inspector.server")

#: A client idle this long (no subscription, nothing queued) may give its slot to a newcomer;
#: one that has not sent a single request yet, after the shorter time (a real client sends
#: its ``hello`` as soon as it connects).
EVICTABLE_AFTER = 1.0
EVICTABLE_SILENT_AFTER = 0.25


class Admission:
    """Accepts from ``listener`` (registered in ``sel`` with the data ``"listen"``) into
    ``conns``."""

    def __init__(self, listener: socket.socket, sel: selectors.BaseSelector, conns: Connections,
                 *, limits: Limits, counters: dict[str, int], warn: RateLimitedLog,
                 uid: int) -> None:
        self._listener = listener
        self._sel = sel
        self._conns = conns
        self._limits = limits
        self._counters = counters
        self._warn = warn
        self._uid = uid
        #: When accepting resumes after running out of descriptors (0: not paused).
        self.paused_until = 0.0

    def accept(self) -> None:
        """Admit or refuse what is waiting (at most 16 a turn, so reading goes on)."""
        for _ in range(16):
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of descriptors, typically: the listener stays readable, so pause
                # accepting rather than spin.
                log.warning("resinspect: cannot accept connections for now: %s", exc)
                self.paused_until = time.monotonic() + 0.5
                self._sel.unregister(self._listener)
                return
            self._admit(sock)

    def resume(self, now: float) -> None:
        """Listen again once the pause after running out of descriptors is over."""
        if self.paused_until and now >= self.paused_until:
            self.paused_until = 0.0
            self._sel.register(self._listener, selectors.EVENT_READ, "listen")

    def _admit(self, sock: socket.socket) -> None:
        peer_pid, peer_uid = peer_credentials(sock)
        if peer_uid is not None and peer_uid != self._uid:
            # Closed before a byte is read or written: another user learns nothing.
            self._counters["refused_uid"] += 1
            self._warn.warning("refused-uid", "resinspect: refused a connection from uid %d "
                               "(pid %s): not uid %d", peer_uid, peer_pid, self._uid)
            sock.close()
            return
        clients = self._conns.clients
        if len(clients) >= self._limits.max_clients and not self._evict_idle():
            self._counters["refused_full"] += 1
            self._warn.warning("refused-full", "resinspect: refused a connection from pid %s: "
                               "%d clients already connected, all of them busy (max_clients)",
                               peer_pid, len(clients))
            say_and_close(sock, encode_error(
                None, SERVER_BUSY, f"too many clients: all {self._limits.max_clients} "
                "connections are busy; try again later"))
            return
        sock.setblocking(False)
        self._conns.add(Connection(sock, peer_pid))
        self._counters["accepted"] += 1

    def _evict_idle(self) -> bool:
        """Close the longest-idle client to make room for a newcomer; False if none is idle.

        Idle: not subscribed, nothing queued or being answered, no request for
        :data:`EVICTABLE_AFTER` seconds (:data:`EVICTABLE_SILENT_AFTER` for one that never
        sent any). Connections that never sent a request go first.
        """
        now = time.monotonic()
        idle = [c for c in self._conns.clients.values()
                if c.session.interval is None and not c.out and not c.pending
                and c not in self._conns.busy and not c.inbuf and now - c.last_active
                >= (EVICTABLE_AFTER if c.requests else EVICTABLE_SILENT_AFTER)]
        if not idle:
            return False
        victim = min(idle, key=lambda c: (c.requests > 0, c.last_active))
        self._counters["evicted"] += 1
        self._warn.warning("evicted", "resinspect: closed %s, idle for %.1f s, to make room "
                           "for a new client (max_clients)", victim.label,
                           now - victim.last_active)
        self._conns.say_goodbye(victim,
                               "closed after being idle while all connections were taken")
        return True

    def close_idle(self, now: float) -> None:
        """Close connections that sent no complete request within ``idle_timeout``."""
        timeout = self._limits.idle_timeout
        for conn in list(self._conns.clients.values()):
            if not conn.requests and conn.connected <= now - timeout and not conn.out:
                self._counters["idle_closed"] += 1
                log.debug("resinspect: closing %s: no request within %g s", conn.label, timeout)
                self._conns.say_goodbye(conn, f"no request within {timeout:g} s of "
                                       "connecting; closing")
