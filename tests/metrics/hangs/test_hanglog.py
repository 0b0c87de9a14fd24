"""The bounded hang log and its whole-run totals."""

from __future__ import annotations

import pytest

from inspector.metrics.hangs import hanglog
from inspector.metrics.hangs.hanglog import HangLog
from inspector.metrics.hangs.merge import UNOBSERVED
from inspector.metrics.snapshot import Hang


def test_the_log_keeps_the_last_stalls_and_whole_run_totals() -> None:
    log = HangLog(size=3)
    for index in range(5):
        log.add(Hang(started=float(index), duration_ms=100.0 * (index + 1),
                     stack=[f"f{index % 2} (x.py:{index})"]))
    assert [h.started for h in log.recent()] == [2.0, 3.0, 4.0]
    assert log.totals() == (5, 1500.0, 500.0)
    by = {e["frame"]: (e["count"], e["ms"]) for e in log.by_function()}
    assert by == {"f0 (x.py)": (3, 900.0), "f1 (x.py)": (2, 600.0)}


def test_a_stall_with_no_stack_counts_under_the_unobserved_pseudo_frame() -> None:
    log = HangLog()
    log.add(Hang(started=0.0, duration_ms=300.0, stack=[]))
    assert log.by_function() == [{"frame": UNOBSERVED, "count": 1, "ms": 300.0}]


def test_the_totals_by_function_are_bounded_the_least_time_giving_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hanglog, "TOP_FUNCTIONS", 2)
    log = HangLog()
    for name, duration in (("big", 900.0), ("small", 100.0), ("medium", 500.0)):
        log.add(Hang(started=0.0, duration_ms=duration, stack=[f"{name} (x.py:1)"]))
    assert [e["frame"] for e in log.by_function()] == ["big (x.py)", "medium (x.py)"]
    assert log.totals() == (3, 1500.0, 900.0)  # the whole run, whatever was dropped
