"""Many protocol connections served by one selector loop in the test's own thread.

Fifty subscribers as fifty threads would make the test process, not the application, the
thing being measured; one loop reading every connection as data arrives keeps the clients
cheap and prompt. Each connection keeps only what the assertions need: reply ids and
errors, and each push's ``seq`` and ``dropped``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from inspector.server.protocol import decode_envelope, encode_request


class Wire:
    """One non-blocking connection that splits what it reads into protocol lines."""

    def __init__(self, path: Path, *, rcvbuf: int | None = None, keep_lines: bool = False
                 ) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect: a small window fills after one push
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(str(path))
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.replies: list[tuple[Any, int | None]] = []  # (id, error code or None)
        self.pushes: list[tuple[int, int]] = []  # (seq, dropped)
        self.lines: list[bytes] = []  # every raw line, only with keep_lines
        self.keep_lines = keep_lines
        self.bytes_read = 0
        self.eof = False

    def send(self, data: bytes) -> None:
        """Send all of ``data`` (blocking briefly if the kernel buffer is full)."""
        self.sock.settimeout(5)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def request(self, rid: Any, method: str, params: dict[str, Any] | None = None) -> None:
        self.send(encode_request(rid, method, params))

    def readable(self) -> None:
        """Read what is there; parse complete lines."""
        while True:
            try:
                chunk = self.sock.recv(1 << 18)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # reset by the server: the same as an end of stream here
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self.bytes_read += len(chunk)
            self.buf += chunk
        start = 0
        while (end := self.buf.find(b"\n", start)) >= 0:
            self._line(bytes(self.buf[start:end]))
            start = end + 1
        del self.buf[:start]

    def _line(self, line: bytes) -> None:
        if self.keep_lines:
            self.lines.append(line)
        try:
            env = decode_envelope(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.replies.append(("<not the protocol>", None))
            return
        if env.id is None and env.method == "snapshot":
            self.pushes.append((env.seq, env.dropped))
        else:
            self.replies.append((env.id, None if env.error is None else env.error.code))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def pump(wires: Iterable[Wire], seconds: float,
         until: Callable[[], bool] | None = None) -> None:
    """Read every wire as data arrives, for ``seconds`` or until ``until()`` holds."""
    sel = selectors.DefaultSelector()
    try:
        for wire in wires:
            if not wire.eof and wire.sock.fileno() >= 0:
                sel.register(wire.sock, selectors.EVENT_READ, wire)
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if until is not None and until():
                return
            for key, _ in sel.select(min(remaining, 0.05)):
                wire = key.data
                wire.readable()
                if wire.eof:
                    sel.unregister(wire.sock)
    finally:
        sel.close()


def gaps_unaccounted(pushes: list[tuple[int, int]]) -> list[str]:
    """Pushes whose ``seq`` did not rise, or whose gap the ``dropped`` counter does not explain.

    ``seq`` counts pushes due, ``dropped`` those skipped: between two received pushes,
    ``seq`` may only jump by one more than ``dropped`` grew.
    """
    problems = []
    prev_seq = prev_dropped = 0
    for seq, dropped in pushes:
        if seq <= prev_seq:
            problems.append(f"seq {seq} after {prev_seq}")
        elif seq - prev_seq - 1 != dropped - prev_dropped:
            problems.append(f"seq {prev_seq}->{seq} but dropped {prev_dropped}->{dropped}")
        prev_seq, prev_dropped = seq, dropped
    return problems
