"""Who gets a connection (a real listener, no loop thread): slots, eviction, silent clients."""

from __future__ import annotations

import os
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from inspector.server.admission import EVICTABLE_SILENT_AFTER, Admission
from inspector.server.connections import SERVER_BUSY, Connections, Limits
from inspector.server.ratelimit import RateLimitedLog
from tests.server.conftest import wait_for

COUNTERS = ("accepted", "refused_uid", "refused_full", "dropped", "evicted", "idle_closed")


class _Setup:
    def __init__(self, path: Path, max_clients: int) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(os.fspath(path))
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.path = path
        self.sel = selectors.DefaultSelector()
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.limits = Limits(max_clients=max_clients, idle_timeout=5.0)
        warn = RateLimitedLog()
        self.conns = Connections(self.sel, self.limits, self.counters, warn)
        self.admission = Admission(self.listener, self.sel, self.conns, limits=self.limits,
                                   counters=self.counters, warn=warn, uid=os.geteuid())
        self.peers: list[socket.socket] = []

    def connect(self) -> socket.socket:
        peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        peer.settimeout(5)
        peer.connect(os.fspath(self.path))
        self.peers.append(peer)
        before = sum(self.counters.values())
        assert wait_for(lambda: self._accepted_since(before))
        return peer

    def _accepted_since(self, before: int) -> bool:
        """Accept what waits; whether a connection was admitted or refused since ``before``."""
        self.admission.accept()
        return sum(self.counters.values()) > before

    def close(self) -> None:
        for peer in self.peers:
            peer.close()
        self.conns.close_all()
        self.sel.close()
        self.listener.close()


@pytest.fixture
def setup(runtime_dir: Path) -> Iterator[_Setup]:
    made = _Setup(runtime_dir / "a.sock", max_clients=1)
    yield made
    made.close()


def _error_code(peer: socket.socket) -> int:
    line = peer.recv(4096).split(b"\n")[0]
    code: int = msgspec.json.decode(line)["error"]["code"]
    return code


def test_a_newcomer_is_refused_in_one_line_when_every_client_is_busy(setup: _Setup) -> None:
    setup.connect()
    (first,) = setup.conns.clients.values()
    first.session.subscribe(1.0, time.monotonic())  # a subscriber is never evicted
    late = setup.connect()
    assert setup.counters["refused_full"] == 1
    assert _error_code(late) == SERVER_BUSY
    assert list(setup.conns.clients.values()) == [first]


def test_the_longest_silent_client_gives_its_slot_to_a_newcomer(setup: _Setup) -> None:
    silent = setup.connect()
    (first,) = setup.conns.clients.values()
    first.last_active -= EVICTABLE_SILENT_AFTER + 1  # as if it had said nothing for a while
    setup.connect()
    assert setup.counters["evicted"] == 1
    assert _error_code(silent) == SERVER_BUSY  # told why, not reset
    assert first not in setup.conns.clients.values()
    assert len(setup.conns.clients) == 1


def test_a_connection_without_a_request_is_closed_after_the_idle_timeout(
        setup: _Setup) -> None:
    silent = setup.connect()
    (conn,) = setup.conns.clients.values()
    setup.admission.close_idle(conn.connected + 4.0)
    assert conn.open
    setup.admission.close_idle(conn.connected + 5.0)
    assert not conn.open
    assert setup.counters["idle_closed"] == 1
    assert _error_code(silent) == SERVER_BUSY
