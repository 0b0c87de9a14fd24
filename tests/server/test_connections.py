"""Queues and flow control of the open connections (real socket pairs, no loop thread)."""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from inspector.server.connection import Connection
from inspector.server.connections import Connections, Limits
from inspector.server.ratelimit import RateLimitedLog


@pytest.fixture
def sel() -> Iterator[selectors.BaseSelector]:
    selector = selectors.DefaultSelector()
    yield selector
    selector.close()


def _conns(sel: selectors.BaseSelector, **limits: Any) -> Connections:
    return Connections(sel, Limits(**limits), {"dropped": 0}, RateLimitedLog())


def _pair(conns: Connections) -> tuple[Connection, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    conn = Connection(ours, None)
    conns.add(conn)
    return conn, theirs


def test_what_the_kernel_takes_is_sent_at_once(sel: selectors.BaseSelector) -> None:
    conns = _conns(sel)
    conn, peer = _pair(conns)
    try:
        conns.queue(conn, b"hello\n")
        assert peer.recv(64) == b"hello\n"
        assert (conn.out_bytes, conns.total_out) == (0, 0)
        assert conn.events == selectors.EVENT_READ  # nothing left to write
    finally:
        peer.close()
        conns.close_all()


def test_a_client_that_does_not_read_is_dropped_past_max_queue(
        sel: selectors.BaseSelector) -> None:
    conns = _conns(sel, max_queue=256 * 1024, max_total_queue=1 << 30)
    conn, peer = _pair(conns)
    try:
        chunk = b"x" * 65536
        while conn.open:
            conns.queue(conn, chunk)
            assert conn.out_bytes <= 256 * 1024 + len(chunk)
        assert conns.counters["dropped"] == 1
        assert conn not in conns.clients.values()
        assert conns.total_out == 0
    finally:
        peer.close()
        conns.close_all()


def test_past_the_total_bound_the_client_holding_most_goes(
        sel: selectors.BaseSelector) -> None:
    conns = _conns(sel, max_queue=1 << 20, max_total_queue=1 << 20)
    hog, hog_peer = _pair(conns)
    small, small_peer = _pair(conns)
    try:
        while hog.open and hog.out_bytes < 900 * 1024:
            conns.queue(hog, b"h" * 65536)
        while small.open and small.out_bytes == 0:  # fill its kernel buffer first
            conns.queue(small, b"s" * 65536)
        conns.queue(small, b"s" * 200 * 1024)  # over the total: the hog is dropped
        assert not hog.open
        assert small.open
        assert conns.total_out == small.out_bytes
    finally:
        hog_peer.close()
        small_peer.close()
        conns.close_all()


def test_a_stalled_client_is_dropped_after_the_stall_timeout(
        sel: selectors.BaseSelector) -> None:
    conns = _conns(sel, stall_timeout=1.0)
    conn, peer = _pair(conns)
    try:
        while not conn.out:
            conns.queue(conn, b"x" * 65536)
        conns.drop_stalled(conn.last_progress + 0.5)
        assert conn.open
        conns.drop_stalled(conn.last_progress + 1.5)
        assert not conn.open
        assert conns.counters["dropped"] == 1
    finally:
        peer.close()
        conns.close_all()


def test_a_client_that_shut_down_its_side_is_closed_once_answered(
        sel: selectors.BaseSelector) -> None:
    conns = _conns(sel)
    conn, peer = _pair(conns)
    try:
        conn.eof = True
        conn.pending = True  # a reply is being made off the loop
        conns.finish_or_wait(conn)
        assert conn.open
        conn.pending = False
        conns.queue(conn, b"reply\n")
        assert not conn.open
        assert peer.recv(64) == b"reply\n"
    finally:
        peer.close()
        conns.close_all()
