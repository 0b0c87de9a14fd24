"""Helpers for the socket server's tests: a raw line-oriented connection for protocol abuse
(the ``model``, ``server`` and ``raw`` fixtures are in tests/conftest.py)."""

from __future__ import annotations

import gc
import socket
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> None:
    """Free the previous test's garbage (its services are QObjects in reference cycles) here.

    Left to the cyclic GC, they may be freed on whichever thread allocates next: the
    server's or the model's sampler thread, and a QObject destroyed off its own thread
    can crash Qt (seen as a rare segfault in pytest-qt's processEvents).
    """
    gc.collect()


class RawConn:
    """A blocking AF_UNIX connection that speaks lines, for feeding the server bad input."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, rid: Any, method: str, params: dict[str, Any] | None = None) -> None:
        self.send(msgspec.json.encode({"id": rid, "method": method, "params": params or {}})
                  + b"\n")

    def line(self) -> bytes:
        """The next line, or b"" at end of stream."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def msg(self) -> dict[str, Any]:
        line = self.line()
        assert line, "connection closed before a reply"
        decoded: dict[str, Any] = msgspec.json.decode(line)
        return decoded

    def at_eof(self, timeout: float = 5.0) -> bool:
        """True when the peer has closed (EOF or reset) with nothing left to read."""
        self.sock.settimeout(timeout)
        try:
            return not self.buf and self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def wait_for(predicate: Any, timeout: float = 5.0, interval: float = 0.005) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return bool(value)
        time.sleep(interval)
