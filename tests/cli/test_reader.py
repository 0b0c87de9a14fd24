"""The socket reader against a real server in this process (files are read by
inspector.fleet.recording: tests/fleet/test_recording.py)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.reader import SocketReader, open_reader
from inspector.errors import ConnectionLost, NoApplication
from inspector.metrics.snapshot import Snapshot
from tests.cli_helpers import Run

# -- a real server in this process ---------------------------------------------------------


@pytest.fixture
def live(service: Any, runtime_dir: Path) -> Iterator[Any]:
    """A started MetricsModel and InspectorServer over the test's service, with 3 caches of
    1000 bytes under CacheOwner."""
    from PySide6.QtCore import QObject

    from inspector.metrics import MetricsModel
    from inspector.resources import ResourceType
    from inspector.server import InspectorServer

    owner = QObject()
    service.register_component(owner, "CacheOwner", "cache_owner")
    caches = [object() for _ in range(3)]
    for cache in caches:
        service.track_resource(owner, ResourceType.CACHE, cache, size_bytes=1000)
    model = MetricsModel(service, app="in-process")
    model.start()
    server = InspectorServer(model).start()
    try:
        yield server
    finally:
        server.close()
        model.close()
        del caches, owner


def test_socket_reader_gets_the_real_numbers(live: Any) -> None:
    reader = SocketReader(live.path)
    try:
        snap = reader.get_current_snapshot()
    finally:
        reader.close()
    assert snap.app == "in-process"
    assert snap.cache_entries == 3
    assert snap.cache_bytes == 3000
    assert snap.by_type["cache"].live == 3


def test_open_reader_finds_the_only_application(live: Any) -> None:
    reader = open_reader()
    try:
        assert reader.get_current_snapshot().tracked_bytes == 3000
        stream = reader.iter_snapshots(0.1)
        assert next(stream).cache_entries == 3
        assert next(stream).cache_entries == 3
    finally:
        reader.close()
    with pytest.raises(NoApplication):
        open_reader(pid=1)  # alive (init), but not inspectable


def test_stream_ends_with_connection_lost_when_the_server_goes(live: Any) -> None:
    reader = open_reader(socket=live.path)
    stream = reader.iter_snapshots(0.1)
    next(stream)
    threading.Timer(0.2, live.close).start()

    def drain() -> None:
        for _ in range(100):  # 10 s of pushes: the server goes away long before
            next(stream)

    with pytest.raises(ConnectionLost):
        drain()
    # The server removed its socket on the way out: a clean exit, named by its pid.
    assert reader.exited() == os.getpid()
    reader.close()


def test_cli_snapshot_against_the_real_server(live: Any, run_cli: Run) -> None:
    result = run_cli("snapshot", "--socket", str(live.path))
    assert result.exit_code == 0, result
    snap = Snapshot.from_json(result.stdout)
    assert (snap.cache_bytes, snap.cache_entries) == (3000, 3)
    (comp,) = snap.components
    assert (comp.id, comp.live, comp.bytes) == ("CacheOwner", 3, 3000)
    top = run_cli("top", "--once")
    assert top.exit_code == 0, top
    (row,) = [line for line in top.stdout.splitlines() if line.startswith("CacheOwner")]
    assert row.split() == ["CacheOwner", "cache_owner", "3", "2.9", "KiB", "alive"]
