"""A recording played back as a source, on a clock the test moves."""

from __future__ import annotations

import pytest

from inspector.errors import ResinspectError
from inspector.sources import MetricsSource, RecordingSource
from tests.ui.fakes import make_snapshot


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_frames_come_at_their_recorded_pace_scaled_by_speed() -> None:
    frames = [make_snapshot(timestamp=1000.0 + i, uptime_s=float(i), seq=i) for i in range(4)]
    clock = _Clock()
    source = RecordingSource(frames, speed=2.0, clock=clock)
    assert isinstance(source, MetricsSource)
    assert source.snapshot().seq == 0
    clock.now += 1.0  # two recorded seconds at twice the speed
    assert source.snapshot().seq == 2
    assert source.history().t == [0.0, 1.0, 2.0]
    assert not source.finished
    clock.now += 10.0
    assert source.snapshot().seq == 3
    assert source.finished
    assert source.resources().items == []


def test_an_empty_recording_is_refused() -> None:
    with pytest.raises(ResinspectError, match="no snapshots"):
        RecordingSource([])


def test_an_hour_long_pause_is_played_as_a_short_one_as_top_replays_it() -> None:
    from inspector.fleet.recording import MAX_GAP_FACTOR, Playback

    stamps = [0.0, 1.0, 2.0, 3602.0, 3603.0]  # the recorder was paused for an hour
    frames = [make_snapshot(timestamp=1000.0 + t, seq=i) for i, t in enumerate(stamps)]
    clock = _Clock()
    source = RecordingSource(frames, clock=clock)
    clock.now += 2.0 + MAX_GAP_FACTOR + 0.01  # the pause lasts a few typical gaps, no more
    assert source.snapshot().seq == 3
    # The same schedule as `top --replay`: one pacing rule for both.
    assert Playback(frames).frames_due(2.0 + MAX_GAP_FACTOR + 0.01) == 4
