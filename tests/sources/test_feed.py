"""The history a source builds from snapshots: one sample each, every marker once."""

from __future__ import annotations

import msgspec

from inspector.metrics.history import COLUMNS
from inspector.metrics.snapshot import Marker
from inspector.sources.feed import HistoryFeed
from tests.ui.fakes import make_history, make_snapshot


def test_each_snapshot_is_one_sample_and_each_marker_is_kept_once() -> None:
    feed = HistoryFeed(size=10)
    mark = Marker(t=1.0, kind="registered", component_id="tab-1")
    feed.add(make_snapshot(uptime_s=1.0, rss_bytes=100, markers=[mark]))
    feed.add(make_snapshot(uptime_s=2.0, rss_bytes=200, markers=[mark]))
    history = feed.to_history()
    assert history.t == [1.0, 2.0]
    assert history.rss_bytes == [100, 200]
    assert history.markers == [mark]


def test_a_whole_history_then_pushes_continue_it() -> None:
    feed = HistoryFeed(size=100)
    first = make_history(5)
    feed.add_history(first)
    feed.add(make_snapshot(uptime_s=first.t[-1] + 1))
    history = feed.to_history()
    assert history.t == [*first.t, first.t[-1] + 1]
    assert set(history.live_by_type) >= set(first.live_by_type)
    feed.clear()
    assert feed.to_history().t == []


def test_the_rings_keep_the_newest_samples() -> None:
    feed = HistoryFeed(size=3)
    for t in range(5):
        feed.add(make_snapshot(uptime_s=float(t)))
    assert feed.to_history().t == [2.0, 3.0, 4.0]


def test_every_history_column_is_carried_and_a_missing_one_is_zero() -> None:
    feed = HistoryFeed(size=10)
    old = make_history(2)  # an older application: no ``inspector_bytes`` column
    feed.add_history(old)
    feed.add_history(msgspec.structs.replace(
        make_history(1, t0=2.0), inspector_bytes=[7_000]))
    feed.add(make_snapshot(uptime_s=3.0, inspector_bytes=9_000, cache_bytes=123))
    history = feed.to_history()
    assert history.inspector_bytes == [0, 0, 7_000, 9_000]
    assert history.cache_bytes == [*old.cache_bytes, make_history(1).cache_bytes[0], 123]
    for column in COLUMNS:
        assert len(getattr(history, column)) == 4, column
