"""What the GUI heartbeat writes: the time of each beat, late beats as gaps, and the frames
under the event loop."""

from __future__ import annotations

import time

from inspector.metrics.hangs import beat as beat_module
from inspector.metrics.hangs.beat import Beat


def stall(seconds: float) -> None:
    # The stall itself (the loop not turning), not a wait for a condition.
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def turn_from_a_callback(beat: Beat) -> None:
    beat.stamp()


def test_the_first_beat_learns_the_frames_under_the_loop_and_is_no_gap() -> None:
    beat = Beat(0.01)
    stall(0.05)  # start-up is not a stall of a running loop
    beat.stamp()
    assert beat.base is not None
    assert beat.base[-1].startswith(
        "test_the_first_beat_learns_the_frames_under_the_loop_and_is_no_gap (")
    assert not any(beat_module.__file__ in frame for frame in beat.base)  # the heartbeat's
    assert not beat.gaps


def test_a_late_beat_records_the_gap_and_the_gui_threads_cpu_time_in_it() -> None:
    beat = Beat(0.01)
    beat.stamp()
    before = beat.last
    stall(0.05)
    beat.stamp()
    assert len(beat.gaps) == 1
    b0, end, cpu = beat.gaps[0]
    assert b0 == before
    assert end == beat.last
    assert end - b0 >= 0.05
    assert 0.0 < cpu <= end - b0 + 0.01  # spinning: CPU time, at most the wall time


def test_beats_on_time_take_the_fast_path() -> None:
    beat = Beat(10.0)  # nothing here is late by 15 s
    beat.stamp()
    base = beat.base
    for _ in range(100):
        turn_from_a_callback(beat)
    assert beat.base is base  # never recomputed
    assert not beat.gaps


def stamp_from(beat: Beat, deeper: bool) -> None:
    if deeper:
        turn_from_a_callback(beat)
    else:
        beat.stamp()


def test_the_base_is_what_every_slow_beat_shares() -> None:
    beat = Beat(0.001)
    for deeper in (False, True):  # one line here; below it, two stacks that differ
        stamp_from(beat, deeper)
        stall(0.01)
    assert beat.base is not None
    assert beat.base[-1].startswith("test_the_base_is_what_every_slow_beat_shares (")
    assert len(beat.gaps) == 1
