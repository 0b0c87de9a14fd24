"""The history's ring buffers: bounded, back-filled per type, consistent under writers."""

from __future__ import annotations

import threading

import msgspec

from inspector.metrics.history import COLUMNS, HistoryRings, HistorySample
from inspector.metrics.snapshot import Marker


def row(t: float, live: int = 0) -> dict[str, float]:
    return {"t": t, "rss_bytes": 1000 + t, "tracked_bytes": 10, "live_resources": live,
            "active_workers": 1, "cache_bytes": 5, "event_loop_lag_ms": 2.5,
            "inspector_bytes": 7}


def test_the_rings_keep_the_newest_samples_as_typed_columns() -> None:
    rings = HistoryRings(size=3)
    for n in range(5):
        rings.append(row(float(n), live=n), {"cache": n})
    history = rings.to_history()
    assert len(rings) == 3
    assert history.t == [2.0, 3.0, 4.0]
    assert history.live_resources == [2, 3, 4]
    assert history.rss_bytes == [1002, 1003, 1004]
    assert all(isinstance(v, int) for v in history.rss_bytes)
    assert history.event_loop_lag_ms == [2.5, 2.5, 2.5]
    assert history.inspector_bytes == [7, 7, 7]
    assert history.live_by_type == {"cache": [2, 3, 4]}


def test_a_missing_value_is_zero_and_a_new_type_is_back_filled() -> None:
    rings = HistoryRings(size=10)
    rings.append({"t": 0.0}, {"cache": 1})
    rings.append({"t": 1.0}, {"worker": 2})  # cache absent: 0 from now on
    history = rings.to_history()
    assert history.rss_bytes == [0, 0]
    assert history.live_by_type == {"cache": [1, 0], "worker": [0, 2]}


def test_markers_are_bounded_and_read_newest_last() -> None:
    rings = HistoryRings(size=10, marker_size=3)
    for n in range(5):
        rings.mark(Marker(t=float(n), kind="registered", component_id=f"C{n}"))
    assert [m.component_id for m in rings.markers()] == ["C2", "C3", "C4"]
    assert [m.component_id for m in rings.markers(2)] == ["C3", "C4"]
    assert [m.component_id for m in rings.to_history().markers] == ["C2", "C3", "C4"]


def test_clear_forgets_samples_types_and_markers() -> None:
    rings = HistoryRings(size=10)
    rings.append(row(0.0), {"cache": 1})
    rings.mark(Marker(t=0.0, kind="registered", component_id="C"))
    assert rings.estimated_bytes() > 0
    rings.clear()
    history = rings.to_history()
    assert len(rings) == 0
    assert history.t == []
    assert history.live_by_type == {}
    assert history.markers == []
    assert rings.estimated_bytes() == 0


def test_the_estimate_grows_with_samples_types_and_markers() -> None:
    rings = HistoryRings(size=100)
    rings.append(row(0.0), {})
    one = rings.estimated_bytes()
    rings.append(row(1.0), {})
    assert rings.estimated_bytes() == 2 * one
    rings.append(row(2.0), {"cache": 1})  # one column more, for every sample
    with_type = rings.estimated_bytes()
    assert with_type > 3 * one
    rings.mark(Marker(t=2.0, kind="registered", component_id="C"))
    assert rings.estimated_bytes() > with_type


def test_every_copy_is_consistent_while_threads_append() -> None:
    rings = HistoryRings(size=50)
    stop = threading.Event()

    def writer(type_name: str) -> None:
        n = 0
        while not stop.is_set() and n < 20_000:
            rings.append(row(float(n), live=n), {type_name: n})
            n += 1

    writers = [threading.Thread(target=writer, args=(name,)) for name in ("cache", "worker")]
    for thread in writers:
        thread.start()
    try:
        copies = 0
        while any(t.is_alive() for t in writers) and copies < 2000:
            history = rings.to_history()
            lengths = {len(history.t), len(history.rss_bytes), len(history.live_resources),
                       len(history.inspector_bytes),
                       *(len(c) for c in history.live_by_type.values())}
            assert len(lengths) == 1, lengths  # every column one value per t
            copies += 1
    finally:
        stop.set()
        for thread in writers:
            thread.join(10)
    assert copies > 0


def test_a_typed_sample_fills_every_column_of_the_history() -> None:
    rings = HistoryRings(size=10)
    rings.add(HistorySample(t=1.5, rss_bytes=2048, tracked_bytes=100, live_resources=3,
                            active_workers=1, cache_bytes=40, event_loop_lag_ms=12.5,
                            inspector_bytes=512, live_by_type={"cache": 3}))
    history = rings.to_history()
    sample_columns = set(msgspec.structs.asdict(history)) - {"live_by_type", "markers"}
    assert sample_columns == set(COLUMNS)  # the sample's fields are the history's columns
    assert {name: getattr(history, name) for name in COLUMNS} == {
        "t": [1.5], "rss_bytes": [2048], "tracked_bytes": [100], "live_resources": [3],
        "active_workers": [1], "cache_bytes": [40], "event_loop_lag_ms": [12.5],
        "inspector_bytes": [512]}
    assert history.live_by_type == {"cache": [3]}
