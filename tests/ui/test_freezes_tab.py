"""The dock's Freezes tab and the stall marks on its lag plot."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from inspector.metrics.snapshot import Hang, HangFrame
from inspector.ui import InspectorDock

from .fakes import FakeSource, make_snapshot

T0 = 1_700_000_000.0 - 12.5  # the fake snapshot's start: timestamp - uptime


def hang(at: float, ms: float, frame: str, native: bool = False) -> Hang:
    return Hang(started=T0 + at, duration_ms=ms, samples=int(ms / 10), native=native,
                stack=["main (app.py:9)", frame],
                where=[HangFrame(frame=frame, ms=ms, depth=0)])


def test_the_freezes_tab_lists_stalls_and_marks_them_on_the_lag_plot(
        dock: InspectorDock, source: FakeSource) -> None:
    dock.refresh()
    titles = [dock.tables.tabText(i) for i in range(dock.tables.count())]
    assert "Freezes" in titles
    assert dock.freezes.table.model.rows() == []
    source.snap = make_snapshot(
        hangs=[hang(3.0, 300.0, "stall_300ms (app.py:70)"),
               hang(6.0, 3000.0, "evil\x1b[2J (app.py:78)", native=True)],
        hang_count=5, hang_total_ms=4500.0, hang_max_ms=3000.0)
    dock.refresh()
    index = dock.tables.indexOf(dock.freezes)
    assert dock.tables.tabText(index) == "Freezes (5)"
    assert "5 stalls over 200 ms since start, 4.5 s in all, longest 3.0 s" in \
        dock.freezes.summary.text()
    rows = dock.freezes.table.model.rows()
    assert [(r[1], r[3], r[4]) for r in rows] == [
        (300.0, False, "stall_300ms (app.py:70)"), (3000.0, True, "evil\\x1b[2J (app.py:78)")]
    assert dock.freezes.marks() == ([3.0, 6.0], [300.0, 3000.0])

    view = dock.freezes.table.view
    proxy_row = dock.freezes.table.proxy.mapFromSource(
        dock.freezes.table.model.index(1, 0)).row()
    view.selectionModel().select(dock.freezes.table.proxy.index(proxy_row, 0),
                                 QItemSelectionModel.SelectionFlag.ClearAndSelect
                                 | QItemSelectionModel.SelectionFlag.Rows)
    text = dock.freezes.details.toPlainText()
    assert text.startswith("3.0 s stall at ")
    assert "(native code held the GIL)" in text
    assert "evil\\x1b[2J (app.py:78)" in text
    assert "\x1b" not in text


def test_a_long_summary_wraps_instead_of_widening_the_panel(
        dock: InspectorDock, source: FakeSource) -> None:
    source.snap = make_snapshot(
        hangs=[hang(3.0, 300.0, "stall_300ms (app.py:70)")],
        hang_count=12345, hang_total_ms=4_500_000.0, hang_max_ms=3_000_000.0)
    dock.refresh()
    summary = dock.freezes.summary
    assert summary.wordWrap()
    # One line of it would be wider than the panel's default width (460 px).
    assert summary.fontMetrics().horizontalAdvance(summary.text()) > 460
    assert summary.minimumSizeHint().width() < 460


def test_unchanged_stalls_leave_the_lag_plot_marks_alone(
        dock: InspectorDock, source: FakeSource) -> None:
    source.snap = make_snapshot(hangs=[hang(3.0, 300.0, "stall_300ms (app.py:70)")],
                                hang_count=1, hang_total_ms=300.0, hang_max_ms=300.0)
    dock.refresh()
    marks = dock.freezes._marks
    assert marks is not None  # the fixture's dock is shown: its plots are built
    calls: list[object] = []
    original = marks.setData

    def counted(*args: object, **kwargs: object) -> None:
        calls.append(args)
        original(*args, **kwargs)

    marks.setData = counted
    dock.refresh()  # the same stalls: setData (a repaint of the lag plot) is not called
    # A second later, whose timestamp - uptime (the history's t = 0) moved by a microsecond,
    # as a real model's does: the same stalls still.
    source.snap = make_snapshot(hangs=[hang(3.0, 300.0, "stall_300ms (app.py:70)")],
                                hang_count=1, hang_total_ms=300.0, hang_max_ms=300.0,
                                timestamp=1_700_000_001.000001, uptime_s=13.5)
    dock.refresh()
    assert calls == []
    source.snap = make_snapshot(hangs=[hang(3.0, 300.0, "stall_300ms (app.py:70)"),
                                       hang(5.0, 400.0, "stall_400ms (app.py:71)")],
                                hang_count=2, hang_total_ms=700.0, hang_max_ms=400.0)
    dock.refresh()
    assert len(calls) == 1
    assert dock.freezes.marks() == ([3.0, 5.0], [300.0, 400.0])
