"""Merging a stall's samples: where its time went, by function, and when it began."""

from __future__ import annotations

import pytest

from inspector.metrics.hangs.merge import UNOBSERVED, merge_stall, stall_start
from inspector.metrics.snapshot import Hang

LOOP = ("<module> (app.py:90)", "main (app.py:80)")
A = (*LOOP, "on_import (app.py:40)", "rebuild_index (index.py:88)")
A2 = (*LOOP, "on_import (app.py:40)", "rebuild_index (index.py:91)")
B = (*LOOP, "on_import (app.py:41)", "parse (parse.py:12)")
LATER = (*LOOP, "on_click (app.py:60)")


def ms(hang: Hang) -> dict[str, float]:
    return {f.frame: f.ms for f in hang.where}


def test_a_stall_says_where_its_time_went_by_function() -> None:
    # 3 s: samples every 0.5 s, 4 in rebuild_index (two different lines), 2 in parse.
    seen: list[tuple[float, tuple[str, ...]]] = [(0.0, A), (0.5, A2), (1.0, A), (1.5, A2),
                                                 (2.0, B), (2.5, B)]
    points = [(t, s, False) for t, s in seen]
    hang = merge_stall(0.0, 3.0, 1000.0, points, base=LOOP)
    assert hang.duration_ms == 3000.0
    assert hang.started == 1000.0
    assert hang.samples == 6
    where = ms(hang)
    # The line shown is the most sampled one; callers carry their callees' time.
    assert where["on_import (app.py:40)"] == 3000.0
    assert where["rebuild_index (index.py:88)"] == 2000.0
    assert where["parse (parse.py:12)"] == 1000.0
    assert next(f.frame for f in hang.where) == "on_import (app.py:40)"  # most first
    assert {f.frame: f.depth for f in hang.where}["rebuild_index (index.py:88)"] == 1
    assert not any(f.frame.startswith(("main", "<module>")) for f in hang.where)
    assert hang.stack in (list(A), list(A2))  # a sample seen most, whole
    assert not hang.native


def test_without_a_known_loop_base_the_shared_trunk_is_cut_to_its_deepest_frame() -> None:
    hang = merge_stall(0.0, 1.0, 0.0, [(0.0, A, False), (0.5, B, False)])
    assert [f.frame for f in hang.where if f.depth == 0] == ["on_import (app.py:40)"]


def test_time_nobody_could_observe_goes_to_the_watchdogs_dump_not_to_what_ran_next() -> None:
    # Native code held the GIL from the start: the monitor's only sample came at 3.95 s,
    # late, in whatever ran once the GIL was back. The watchdog dumped at 0.5 s.
    hang = merge_stall(0.0, 4.0, 0.0, [(3.95, LATER, True)], dump=(list(A), 0.5), base=LOOP)
    assert hang.native
    assert hang.stack == list(A)
    assert ms(hang)["rebuild_index (index.py:88)"] == 3950.0
    assert ms(hang)["on_click (app.py:60)"] == 50.0


def test_without_a_dump_unobserved_time_is_said_to_be_unobserved() -> None:
    hang = merge_stall(0.0, 4.0, 0.0, [(3.95, LATER, True)], base=LOOP)
    assert hang.native
    assert hang.where[0].frame == UNOBSERVED
    assert hang.where[0].ms == 3950.0
    assert hang.stack == []  # what ran next is not where the stall was


def test_a_gap_after_an_observed_sample_goes_to_the_frame_that_entered_native_code() -> None:
    hang = merge_stall(0.0, 2.0, 0.0, [(0.1, A, False), (1.9, LATER, True)], base=LOOP)
    assert ms(hang)["rebuild_index (index.py:88)"] == 1900.0
    assert hang.native  # most of it was seen by nobody


def test_stall_start_is_dated_by_cpu_time_when_that_fits_else_mid_interval() -> None:
    assert stall_start(10.0, 10.35, 0.05, cpu=0.30) == pytest.approx(10.05)
    # Half a core during the stall: 0.15 s of CPU stand for 0.3 s.
    assert stall_start(10.0, 10.35, 0.05, cpu=0.15, rate=0.5) == pytest.approx(10.05)
    assert stall_start(10.0, 10.35, 0.05, cpu=0.0) == pytest.approx(10.025)  # asleep
