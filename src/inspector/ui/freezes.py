"""The dock's "Freezes" tab: the hang log (stalls of the GUI thread, where their time went),
and a mark on the lag plot at each stall.

Self-contained: :meth:`FreezesView.attach` adds the tab to the dock's tables,
:meth:`FreezesView.mark_lag_plot` a scatter item to its lag plot once the plots exist, and
:meth:`FreezesView.set_snapshot` updates both from a snapshot's hang fields. One refresh
costs a table update by key and one ``setData`` of at most 100 points.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.metrics.snapshot import Hang, Snapshot
from inspector.metrics.text import safe
from inspector.metrics.units import format_ms

from .columns import Column
from .labels import plain_label
from .record_table import RecordTable, TableSpec
from .rows import AMBER

TAB_TITLE = "Freezes"


class HangRow(NamedTuple):
    """A kept stall: its start on the clock, duration, samples, whether native code held
    the GIL, and the function it spent most time in; ``started`` (past the columns, the
    row's key) is its start as a timestamp."""

    clock: str
    duration_ms: float
    samples: int
    native: bool
    top: str
    started: float


HANGS = TableSpec[HangRow](
    (Column("Started"), Column("Duration (ms)", "ms"), Column("Samples", "int"),
     Column("Native", "bool"), Column("Where most time went")),
    key=lambda r: r.started, sort_column=0,
    foreground=lambda r: AMBER if r.native else None, widths=(70, 90, 60, 50),
)


def hang_rows(snapshot: Snapshot) -> list[HangRow]:
    """One row per kept stall."""
    return [HangRow(time.strftime("%H:%M:%S", time.localtime(h.started)), h.duration_ms,
                    h.samples, h.native,
                    safe(h.stack[-1] if h.stack else h.where[0].frame if h.where else ""),
                    h.started)
            for h in snapshot.hangs]


def where_text(hang: Hang) -> str:
    """A stall's "where the time went", callers before callees, each indented by depth."""
    lines = [f"{format_ms(hang.duration_ms)} stall at "
             f"{time.strftime('%H:%M:%S', time.localtime(hang.started))}"
             f"{' (native code held the GIL)' if hang.native else ''}, "
             f"{hang.samples} samples", ""]
    for entry in sorted(hang.where, key=lambda f: (f.depth, -f.ms)):
        share = 100.0 * entry.ms / hang.duration_ms if hang.duration_ms else 0.0
        lines.append(f"{format_ms(entry.ms):>8} {share:3.0f}%  {'  ' * min(entry.depth, 12)}"
                     f"{safe(entry.frame)}")
    if hang.stack:
        lines += ["", "Stack seen most (innermost last):"]
        lines += [f"  {safe(frame)}" for frame in hang.stack]
    return "\n".join(lines)


class FreezesView(QWidget):
    """A summary line, the table of recent stalls (newest first) and the selected stall's
    "where the time went"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.summary = plain_label("No stall of the GUI thread recorded yet.", self)
        # Wrapped: a long summary must not widen the panel (it took 32 px from the
        # application's central widget, bench_attach.py).
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.table = RecordTable(HANGS, split)
        self.details = QPlainTextEdit(split)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        split.addWidget(self.table.view)
        split.addWidget(self.details)
        layout.addWidget(split, 1)
        self._hangs: dict[float, Hang] = {}
        self._marks: Any = None
        self._marks_shown: list[tuple[float, float]] | None = None
        self._tabs: QTabWidget | None = None
        self._t0 = 0.0
        self.table.view.selectionModel().selectionChanged.connect(self._on_selection)

    @classmethod
    def attach(cls, tables: QTabWidget) -> FreezesView:
        """A new view, added as a tab to the dock's ``tables``."""
        view = cls(tables)
        tables.addTab(view, TAB_TITLE)
        view._tabs = tables
        return view

    def mark_lag_plot(self, lag_plot: Any) -> None:
        """Add the stall marks to the dock's lag plot (built after the tab: when the panel
        is first shown), showing the stalls already known."""
        if self._marks is not None:
            return
        import pyqtgraph as pg  # the plots are built: it is loaded already

        self._marks = pg.ScatterPlotItem(symbol="t", size=9, brush=pg.mkBrush("#fb8c00"),
                                         pen=None, name="stalls")
        lag_plot.addItem(self._marks)
        self._show_marks()

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """Show the snapshot's stalls and whole-run totals; mark each stall on the lag plot
        at its start (history time), as high as it lasted."""
        self._hangs = {h.started: h for h in snapshot.hangs}
        # The history's t = 0: where the marks of these stalls go on the time axis.
        self._t0 = snapshot.timestamp - snapshot.uptime_s
        if snapshot.hang_count:
            self.summary.setText(
                f"{snapshot.hang_count} stalls over {format_ms(snapshot.hang_threshold_ms)} "
                f"since start, {format_ms(snapshot.hang_total_ms)} in all, longest "
                f"{format_ms(snapshot.hang_max_ms)}; the last {len(snapshot.hangs)} below.")
        self.table.model.set_rows(hang_rows(snapshot))
        tabs = self._tabs
        if tabs is not None:
            index = tabs.indexOf(self)
            title = f"{TAB_TITLE} ({snapshot.hang_count})" if snapshot.hang_count else TAB_TITLE
            if index >= 0 and tabs.tabText(index) != title:
                tabs.setTabText(index, title)
        self._show_marks()

    def _show_marks(self) -> None:
        if self._marks is not None:
            hangs = list(self._hangs.values())
            # Only when the stalls changed: setData repaints the lag plot, and an idle
            # panel's plots otherwise redraw every 10 s (the marks redrew them at every
            # refresh: +1.4 % of a core, bench_attach.py). Keyed by the stalls, not by their
            # positions: the history's t = 0 (timestamp - uptime) moves by microseconds from
            # one snapshot to the next.
            shown = [(h.started, h.duration_ms) for h in hangs]
            if shown != self._marks_shown:
                self._marks_shown = shown
                self._marks.setData([h.started - self._t0 for h in hangs],
                                    [h.duration_ms for h in hangs])

    def marks(self) -> tuple[list[float], list[float]]:
        """The stall marks on the lag plot: (history times, durations in ms)."""
        if self._marks is None:
            return [], []
        x, y = self._marks.getData()
        return [float(v) for v in x], [float(v) for v in y]

    def _on_selection(self, _selected: QItemSelection, _deselected: object) -> None:
        row = self.table.selected_row()
        hang = self._hangs.get(row.started) if row is not None else None
        if hang is None:
            self.details.clear()
        else:
            self.details.setPlainText(where_text(hang))
