"""``resinspect view`` and the sources behind it, against a real application process."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QImage

from inspector.metrics.snapshot import Snapshot
from inspector.server.discovery import find_app
from inspector.sources import RecordingSource, RemoteSource
from tests.apps.harness import App, resinspect


def test_remote_source_follows_the_app_and_survives_its_death(
    start_app: Callable[..., App], runtime_dir: Path
) -> None:
    app = start_app()
    source = RemoteSource(find_app(pid=app.pid).socket, interval=0.1)
    try:
        snap = source.snapshot()
        assert snap.pid == app.pid
        assert snap.by_type["cache"].live == 3
        assert {c.id for c in snap.components} >= {"CacheOwner", "WorkerOwner"}
        deadline = time.monotonic() + 5
        while len(source.history().t) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(source.history().t) >= 3
        page = source.resources(component_id="CacheOwner")
        assert page.total == 3
        app.proc.kill()
        app.proc.wait(10)
        deadline = time.monotonic() + 5
        while source.error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert source.error is not None
        assert source.snapshot().pid == app.pid  # the last one stays readable
        assert source.resources().total == 0
    finally:
        source.close()


def _frame(seq: int, t: float, live: int) -> Snapshot:
    return Snapshot(pid=1, app="rec", timestamp=1000.0 + t, uptime_s=t, created_total=live,
                    destroyed_total=0, live_resources=live, tracked_bytes=0,
                    peak_tracked_bytes=0, rss_bytes=1, peak_rss_bytes=1, active_workers=0,
                    cache_bytes=0, cache_entries=0, event_loop_lag_ms=0.0, gui_stack=[],
                    by_type={}, components=[], leak_suspects=[], seq=seq)


def test_recording_source_plays_at_the_recorded_pace() -> None:
    now = [0.0]
    frames = [_frame(i, float(i), live=i * 10) for i in range(5)]
    source = RecordingSource(frames, speed=2.0, clock=lambda: now[0])
    assert source.snapshot().seq == 0
    now[0] = 1.0  # two recorded seconds at double speed
    assert source.snapshot().seq == 2
    assert source.history().live_resources == [0, 10, 20]
    now[0] = 100.0
    assert source.snapshot().seq == 4
    assert source.finished


def test_view_opens_the_panel_on_a_live_app(app: App, runtime_dir: Path,
                                            tmp_path: Path) -> None:
    shot = tmp_path / "view.png"
    done = resinspect(runtime_dir, "view", "--pid", str(app.pid), "--interval", "0.2",
                      "--seconds", "2", "--screenshot", str(shot), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    image = QImage(str(shot))
    assert image.width() > 600
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 20  # plots and text, not a blank window


def test_view_replays_a_recording(runtime_dir: Path, tmp_path: Path) -> None:
    recording = tmp_path / "run.ndjson"
    recording.write_bytes(b"".join(_frame(i, i * 0.1, i).to_json() + b"\n" for i in range(5)))
    done = resinspect(runtime_dir, "view", str(recording), "--seconds", "1", timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_view_of_no_application_is_one_line(runtime_dir: Path) -> None:
    done = resinspect(runtime_dir, "view", "--pid", "999999", timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
