"""One client connection's state, and the socket calls made on a connection.

A :class:`Connection` is touched only by the server's loop thread. What the protocol keeps per
connection (its subscription) is its :class:`~inspector.server.handlers.Session`, which the
method handlers see; the rest (buffers, queue, timings) is the transport's.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections import deque

from .handlers import Session

#: Bytes read from a socket at a time.
READ_CHUNK = 1 << 16
#: No SIGPIPE for a peer that went away: the send fails with EPIPE instead.
SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)
_PEERCRED = struct.Struct("3i")


class Connection:
    """One connection's state; touched only by the server thread."""

    __slots__ = ("closing", "connected", "eof", "events", "head_offset", "inbuf", "label",
                 "last_active", "last_progress", "out", "out_bytes", "pending", "requests",
                 "session", "sock")

    def __init__(self, sock: socket.socket, peer_pid: int | None) -> None:
        self.sock = sock
        self.label = f"client pid {peer_pid}" if peer_pid else f"client fd {sock.fileno()}"
        self.session = Session()
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

    @property
    def open(self) -> bool:
        """Whether the socket is still open (closing it sets its descriptor to -1)."""
        return self.sock.fileno() >= 0


def peer_credentials(sock: socket.socket) -> tuple[int | None, int | None]:
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


def say_and_close(sock: socket.socket, line: bytes) -> None:
    """Tell a refused client why in one line, then close.

    What it already sent is read first: closing an AF_UNIX socket with unread data resets
    the connection, and the client would see "Connection reset by peer" instead of the line.
    """
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(line, SEND_FLAGS)
        sock.shutdown(socket.SHUT_WR)
        for _ in range(4):
            if not sock.recv(READ_CHUNK):
                break
    sock.close()
