"""Readers: snapshot files and recordings, and a real server in this process over its socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cli.reader import FileReader, SocketReader, open_reader
from inspector.errors import BadInput, ConnectionLost, NoApplication
from inspector.metrics.snapshot import Snapshot
from tests.cli_helpers import Run

from .conftest import make_snapshot

# -- files ---------------------------------------------------------------------------------


def test_snapshot_file_compact_or_indented(tmp_path: Path) -> None:
    snap = make_snapshot()
    compact = tmp_path / "a.json"
    compact.write_bytes(snap.to_json())
    indented = tmp_path / "b.json"
    indented.write_bytes(msgspec.json.format(snap.to_json(), indent=2))
    for path in (compact, indented):
        reader = FileReader(path)
        assert reader.get_current_snapshot() == snap
        assert list(reader.snapshots()) == [snap]
        reader.close()


def test_recording_is_one_snapshot_a_line(tmp_path: Path) -> None:
    snaps = [make_snapshot(seq=i, live_resources=i) for i in range(1, 4)]
    path = tmp_path / "rec.ndjson"
    path.write_bytes(b"".join(s.to_json() + b"\n" for s in snaps) + b"\n")
    reader = FileReader(path)
    assert list(reader.snapshots()) == snaps
    assert reader.get_current_snapshot() == snaps[-1]  # the newest
    assert list(reader.iter_snapshots(0)) == snaps


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file"),
    (b"  \n\n", "empty file"),
    (b'{"pid": 1}', "not a resinspect snapshot"),
    (b"not json at all", "not a resinspect snapshot"),
])
def test_bad_files_are_bad_input(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message):
        FileReader(path).get_current_snapshot()


def test_a_bad_line_in_a_recording_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.ndjson"
    path.write_bytes(make_snapshot().to_json() + b"\n{truncated\n")
    with pytest.raises(BadInput, match=r"rec\.ndjson:2: not a resinspect snapshot"):
        list(FileReader(path).snapshots())


def test_an_unknown_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_bytes(make_snapshot(schema="resinspect.snapshot/2").to_json())
    with pytest.raises(BadInput, match=r"resinspect\.snapshot/2"):
        FileReader(path).get_current_snapshot()


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"cannot read .*nope\.json"):
        FileReader(tmp_path / "nope.json").get_current_snapshot()


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
