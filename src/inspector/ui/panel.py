"""The built panel: its widgets, laid out, inside the dock.

Built when the dock is first shown (or at once, for a dock that is not deferred): the
controls, the summary strip, a splitter giving most of its height to the plots, the tables
(with the Freezes tab) and the status line. The plots come last, in a later event-loop turn:
they import pyqtgraph and numpy. What each build step costs in RSS is charged to the
inspector (``inspector.metrics.own``), not to the application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from inspector.metrics import own

from .controls import ControlBar
from .freezes import FreezesView
from .labels import plain_label
from .status import StatusLine
from .summary import SummaryStrip
from .tables import InspectorTables

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget

    from .plots import HistoryPlots


class Panel:
    """The dock's widgets; ``plots`` is None until :meth:`build_plots`."""

    def __init__(self, dock: QDockWidget, status: StatusLine) -> None:
        before = own.rss()
        body = QWidget(dock)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.controls = ControlBar(body)
        layout.addWidget(self.controls)
        self.summary = SummaryStrip(body)
        layout.addWidget(self.summary)

        splitter = self._splitter = QSplitter(Qt.Orientation.Vertical, body)
        self._plots_slot = plain_label("loading plots…", splitter)
        self._plots_slot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tables = InspectorTables(splitter)
        splitter.addWidget(self._plots_slot)
        splitter.addWidget(self.tables)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        # Most of a short panel (beside an 800x600 window) to the plots: four plots need
        # height to be read; the tables scroll.
        splitter.setSizes([700, 260])
        self.tables.setMinimumHeight(140)  # they scroll; the plots cannot
        layout.addWidget(splitter, 1)
        self.freezes = FreezesView.attach(self.tables)
        self.status_label = status.attach(body)
        layout.addWidget(self.status_label)
        self.plots: HistoryPlots | None = None
        dock.setWidget(body)
        own.add("panel", own.rss() - before)

    def build_plots(self) -> HistoryPlots:
        """Build the plots in place of their placeholder (importing pyqtgraph and numpy)."""
        before = own.rss()
        from .plots import HistoryPlots  # pyqtgraph and numpy load here, and only here

        plots = self.plots = HistoryPlots()
        self._splitter.replaceWidget(0, plots)
        self._plots_slot.deleteLater()
        self.freezes.mark_lag_plot(plots.lag_plot)
        own.add("panel", own.rss() - before)
        return plots
