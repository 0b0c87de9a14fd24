"""A soak in the manner of CPython's refleak runs: after a warm-up, the same work many times
over must leave no descriptor, thread or traced byte behind."""

from __future__ import annotations

import gc
import linecache
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable

import msgspec
import pytest
from PySide6.QtCore import QCoreApplication

from inspector.metrics import MetricsModel
from inspector.metrics.hangs import read_stall_file
from inspector.resources import ResourceManagementService, ResourceType
from inspector.server import InspectorServer
from inspector.server.discovery import stall_for
from tests.metrics.helpers import watchdog_fired_only_when_its_rearmer_could_not_run

from .conftest import native_thread_names, native_threads, open_fds, open_sockets, settle

SUBSCRIBE = b'{"id": 1, "method": "subscribe", "params": {"interval": 0.05}}\n'
UNSUBSCRIBE = b'{"id": 2, "method": "unsubscribe"}\n'
SNAPSHOT = b'{"id": 3, "method": "snapshot"}\n'


class Owner:
    """A component with a few resources, so that snapshots have something in them."""


class Thing:
    """A tracked resource."""


def _lines(sock: socket.socket, n: int) -> list[bytes]:
    buf = b""
    while buf.count(b"\n") < n:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n")[:n]


def cycle(path: str, i: int) -> None:
    """One connect/subscribe/disconnect, in one of four ways."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        kind = i % 4
        if kind == 0:  # subscribe, take the reply and the first push, hang up
            s.sendall(SUBSCRIBE)
            reply, push = _lines(s, 2)
            assert msgspec.json.decode(reply)["id"] == 1
            assert msgspec.json.decode(push)["method"] == "snapshot"
        elif kind == 1:  # subscribe, unsubscribe, read to the unsubscribe reply, hang up
            s.sendall(SUBSCRIBE + UNSUBSCRIBE)
            seen = b""
            while b'"id":2,' not in seen:
                chunk = s.recv(1 << 16)
                assert chunk, "closed before the unsubscribe reply"
                seen = seen[-16:] + chunk
        elif kind == 2:  # subscribe and vanish without reading anything
            s.sendall(SUBSCRIBE)
        else:  # a snapshot, abandoned after its first bytes
            s.sendall(SNAPSHOT)
            s.recv(64)


@pytest.mark.parametrize("gui", ["turning", "frozen"])
def test_soak_1000_connect_subscribe_disconnect_cycles(
        server: InspectorServer, service: ResourceManagementService, model: MetricsModel,
        gui: str, figure: Callable[[str, object], None]) -> None:
    """``turning``: the event loop runs between cycles, as in a healthy application.
    ``frozen``: it never does, so every snapshot carries the GUI thread's stack."""
    owner = Owner()
    things = [Thing() for _ in range(20)]
    for thing in things:
        service.track_resource(owner, ResourceType.CACHE, thing, 100)
    path = str(server.path)
    warmup, cycles = 100, 1000
    turning = gui == "turning"

    def turn() -> None:
        if turning:
            QCoreApplication.processEvents()

    # The stall watchdog is armed through the cycles: with the loop stalled for the whole soak
    # ("frozen") it must not fire while the server's thread and this one run Python (it did,
    # re-armed by the heartbeat, and crashed this test's process once on a fresh machine).
    stall_file = stall_for(server.path)

    def armed() -> bool:
        QCoreApplication.processEvents()  # the monitor arms it once the loop has turned
        report = read_stall_file(stall_file)
        return report is not None and report.stalled_for() < 1.0

    def watchdog_off() -> None:
        # Off while threads are counted: each re-arm replaces its C thread.
        model.unwatch_stalls()
        assert settle(lambda: not stall_file.exists())

    assert settle(armed)
    if not turning:  # past the lag threshold before the warm-up, so it warms that path
        time.sleep(model.probe.threshold_ms / 1000 + 0.1)
    for i in range(warmup):
        cycle(path, i)
        turn()
    assert model.snapshot().event_loop_blocked is not turning
    assert settle(lambda: server.stats()["clients"] == 0)
    gc.collect()
    watchdog_off()
    fds_before, threads_before = open_fds(), native_threads()
    names_before = native_thread_names()
    assert model.watch_stalls(stall_file)
    assert settle(lambda: (r := read_stall_file(stall_file)) is not None
                  and r.stalled_for() < 1.0)
    sockets_before = open_sockets()
    py_threads_before = threading.active_count()
    tracemalloc.start(10)
    try:
        gc.collect()
        first = tracemalloc.take_snapshot()
        traced_before = tracemalloc.get_traced_memory()[0]
        started = time.monotonic()
        for i in range(cycles):
            cycle(path, i)
            turn()
        elapsed = time.monotonic() - started
        assert settle(lambda: server.stats()["clients"] == 0)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - traced_before
        top = tracemalloc.take_snapshot().compare_to(first, "lineno")[:8]
    finally:
        tracemalloc.stop()
    report = read_stall_file(stall_file)
    assert report is not None
    monitor = model.probe.hangs
    fired = report.fired or monitor.dumps_taken > 0
    figure("watchdog_fired", fired)
    figure("monitor_longest_late_s", round(monitor.longest_late_s, 3))
    assert watchdog_fired_only_when_its_rearmer_could_not_run(monitor, fired), \
        monitor.longest_late_s
    watchdog_off()
    # Back to the baseline at some moment: a thread leaked per cycle never is, while an armed
    # stall watchdog anywhere in the process replaces its C thread every 0.4 s, so one reading
    # can catch the old one still exiting beside the new (seen twice under load).
    threads_back = settle(lambda: native_threads() <= threads_before)
    fds_after, threads_after = open_fds(), native_threads()
    figure("cycles", cycles)
    figure("seconds", elapsed)
    figure("fd_delta", fds_after - fds_before)
    figure("thread_delta", threads_after - threads_before)
    figure("tracemalloc_growth_kib", round(growth / 1024, 1))
    assert server.running
    # No socket of the run is left (awaited: the server closes its ends on its own thread).
    assert settle(lambda: open_sockets() <= sockets_before), open_sockets() - sockets_before
    assert threads_back, (names_before, native_thread_names())
    assert threading.active_count() == py_threads_before
    assert growth < 256 * 1024, "\n".join(str(stat) for stat in top)
    assert server.stats()["accepted"] >= warmup + cycles


@pytest.mark.parametrize("requests", [("stacks",), ("snapshot", "resources", "history")])
def test_no_thread_per_request(server: InspectorServer, requests: tuple[str, ...],
                               figure: Callable[[str, object], None]) -> None:
    """``stacks`` is answered on a helper thread: one, started once, never one per request."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(server.path))
        counts = []
        for n in range(30):
            method = requests[n % len(requests)]
            s.sendall(b'{"id": %d, "method": "%s"}\n' % (n, method.encode()))
            _lines(s, 1)
            counts.append(native_threads())
    figure("threads_seen", sorted(set(counts)))
    assert len(set(counts[1:])) == 1  # at most the first request started a thread


def test_a_frozen_guis_stack_is_read_without_loading_source_files(
        model: MetricsModel) -> None:
    """The server thread and the GUI thread's signal handler format stacks; neither should
    read source files from disk into ``linecache`` (whole files, kept for the process's
    life) to do it: frames are ``function (file:line)``, no source text is shown."""
    time.sleep(model.probe.threshold_ms / 1000 + 0.1)  # no event loop turns: "frozen"
    linecache.clearcache()
    snap = model.snapshot()
    assert snap.event_loop_blocked
    assert snap.gui_stack
    assert list(linecache.cache) == []
