"""``HistoryPlots``: four linked pyqtgraph plots over the model's history, with lifecycle
markers (``markers.py``).

Every graphics item is made once: a refresh only calls ``setData`` on existing curves and
moves pooled marker lines, because creating and deleting items each second is what makes a
live plot slow and its memory grow. The four plots share their time axis, so a jump in one
lines up with the marker of the component that caused it.

Read at a glance: the plots are stacked in one column (the panel sits beside a window),
only the bottom one draws the time axis, byte axes read in KiB/MiB/GiB and never go below
zero (``byte_axis.py``), legends sit in a row above their plot rather than on the data, and
markers are thin lines whose label is a tooltip.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QWidget

from inspector.metrics.snapshot import History, Marker

from .adopt import adopt_new_windows, top_level_windows
from .byte_axis import ByteAxis
from .markers import MarkerGroup, MarkerLayer, groups_in_view
from .plot_style import pen, type_colour

__all__ = ["HistoryPlots"]


class HistoryPlots(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """Four plots in a column: memory, live resources by type, workers and cache, lag.

    ``curves`` maps a stable name to each curve (``"rss"`` — the application's own share of
    the RSS —, ``"inspector"``, ``"tracked"``, ``"workers"``, ``"cache"``, ``"lag"``, and
    ``"type:<resource type>"`` per type); ``data(name)`` is what a curve was given.
    ``legends`` maps each plot's title to the legend row above it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        windows_before = top_level_windows()
        super().__init__(parent)
        self.curves: dict[str, Any] = {}
        self.legends: dict[str, Any] = {}
        self._signature: tuple[object, ...] | None = None
        self._marker_signature: tuple[object, ...] | None = None
        self._x: np.ndarray = np.empty(0)
        #: The marker lines on show, newest last.
        self.marker_groups: list[MarkerGroup] = []
        self.ci.setSpacing(2)

        self.memory_plot = self._add_plot(0, "memory", left=ByteAxis("left"),
                                          right=ByteAxis("right"))
        self.types_plot = self._add_plot(1, "live resources by type")
        self.workers_plot = self._add_plot(2, "active workers · cache",
                                           right=ByteAxis("right"))
        self.lag_plot = self._add_plot(3, "event-loop lag (ms)")
        self.plots = (self.memory_plot, self.types_plot, self.workers_plot, self.lag_plot)

        for plot in self.plots:
            # No grid: with one, every axis spans its whole plot and is repainted with each
            # curve change, which doubled the cost of a refresh (bench/bench_dock.py).
            if plot is not self.lag_plot:
                # One time axis, at the bottom: the plots are linked, and every axis drawn
                # is text painted at each refresh.
                plot.hideAxis("bottom")
                plot.setXLink(self.lag_plot)
            # Nothing here is ever negative: no view below zero however the user zooms.
            plot.vb.setLimits(yMin=0)
        self.lag_plot.setLabel("bottom", "t", units="s")
        self.lag_plot.setMinimumHeight(76)  # its own height plus the shared time axis
        # Seconds since start: "ks" after a quarter of an hour would only confuse.
        self.lag_plot.getAxis("bottom").enableAutoSIPrefix(False)

        #: The right-hand axes' views (autoranged again by ``clear_view``).
        self._right_views: list[Any] = []
        self._add_curve("rss", self.memory_plot, "#42a5f5", "app RSS")
        self._add_curve("inspector", self.memory_plot, "#9e9e9e", "resinspect")
        self._add_right_curve("tracked", self.memory_plot, "#ffa726", name="tracked (right)")

        self._add_curve("workers", self.workers_plot, "#42a5f5", "workers")
        self._add_right_curve("cache", self.workers_plot, "#ff7043", name="cache (right)")

        # Counts are counts: no "x0.001" scale on an axis of a constant 0 or 1.
        for plot in (self.types_plot, self.workers_plot, self.lag_plot):
            plot.getAxis("left").enableAutoSIPrefix(False)
        self._add_curve("lag", self.lag_plot, "#ef5350", "event-loop lag (ms)")
        self.threshold_line = pg.InfiniteLine(
            pos=500.0, angle=0, movable=False,
            pen=pg.mkPen("#ef5350", width=1, style=Qt.PenStyle.DashLine),
        )
        self.threshold_line.setToolTip("blocked above this lag")
        # Ignored by autorange, so a calm application's few ms of lag stay readable.
        self.lag_plot.addItem(self.threshold_line, ignoreBounds=True)

        # Thin lines on every plot, so a jump anywhere lines up with its cause.
        self._marker_layers = [MarkerLayer(plot) for plot in self.plots]
        adopt_new_windows(self, windows_before)

    def _add_plot(self, index: int, title: str, **axes: Any) -> Any:
        """A legend row (the plot's title when it has no legend), then the plot under it:
        the legend never covers the data."""
        legend = pg.LegendItem(colCount=5, labelTextSize="8pt", verSpacing=-6, horSpacing=4)
        legend.setLabelTextColor("#cfcfcf")
        self.addItem(legend, row=2 * index, col=0)
        plot = self.addPlot(row=2 * index + 1, col=0, axisItems=axes or None)
        plot.setMinimumHeight(36)  # below this its axis labels overlap
        plot.setToolTip(title)
        self.legends[title] = legend
        plot.legend_row = legend
        return plot

    def sizeHint(self) -> QSize:
        """Room for four readable plots; the dock's splitter starts from this."""
        return QSize(440, 520)

    def minimumSizeHint(self) -> QSize:
        """Below this the axes eat the plots."""
        return QSize(280, 240)

    # -- construction ------------------------------------------------------------------

    def _add_curve(self, key: str, plot: Any, colour: str, name: str | None) -> Any:
        curve = plot.plot(pen=pen(colour))
        self._tune(curve)
        if name is not None:
            plot.legend_row.addItem(curve, name)
        self.curves[key] = curve
        return curve

    @staticmethod
    def _tune(curve: Any) -> None:
        # Cheap when the view shows everything, a large saving once the user zooms in or the
        # history is longer than the plot is wide.
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)

    def _add_right_curve(self, key: str, plot: Any, colour: str, *, name: str) -> Any:
        """A curve on its own right-hand axis (pyqtgraph's MultiplePlotAxes pattern).

        For pairs whose scales differ by orders of magnitude: tracked bytes are often a
        thousandth of RSS, and on one axis they would be a flat line at zero.
        """
        view = pg.ViewBox()
        plot.showAxis("right")
        plot.scene().addItem(view)
        axis = plot.getAxis("right")
        axis.linkToView(view)
        axis.setTextPen(colour)
        view.setXLink(plot)
        view.setLimits(yMin=0)
        curve = pg.PlotDataItem(pen=pen(colour))
        self._tune(curve)
        view.addItem(curve)
        plot.legend_row.addItem(curve, name)
        self.curves[key] = curve
        self._right_views.append(view)

        def sync() -> None:
            view.setGeometry(plot.vb.sceneBoundingRect())
            view.linkedViewChanged(plot.vb, view.XAxis)

        plot.vb.sigResized.connect(sync)
        return curve

    def _type_curve(self, type_name: str) -> Any:
        key = f"type:{type_name}"
        curve = self.curves.get(key)
        if curve is None:
            n_types = sum(1 for k in self.curves if k.startswith("type:"))
            curve = self._add_curve(key, self.types_plot, type_colour(type_name, n_types),
                                    type_name)
        return curve

    # -- updates ---------------------------------------------------------------------

    def set_threshold(self, lag_threshold_ms: float) -> None:
        """Move the dashed line that marks the lag above which the loop counts as blocked."""
        if self.threshold_line.value() != lag_threshold_ms:
            self.threshold_line.setValue(lag_threshold_ms)

    def set_history(self, history: History, t_floor: float | None = None) -> bool:
        """Plot ``history`` from just after ``t_floor`` on; False when nothing changed.

        ``t_floor`` hides what came before a *clear history*. Returns without touching any
        item when the history is the one already plotted (same length and ends).
        """
        t = history.t
        start = 0 if t_floor is None else bisect.bisect_right(t, t_floor)
        signature = (
            len(t), t[0] if t else None, t[-1] if t else None, start, len(history.live_by_type)
        )
        changed = signature != self._signature
        if changed:
            self._signature = signature
            x = self._x = np.asarray(t[start:], dtype=np.float64)
            own = history.inspector_bytes
            app_rss: Sequence[float] = history.rss_bytes
            if own:
                # The application's share: what the inspector charged itself is not the app's.
                app_rss = [max(0, r - i) for r, i in zip(history.rss_bytes, own, strict=False)]
            columns: list[tuple[str, Sequence[float]]] = [
                ("rss", app_rss),
                ("inspector", own),
                ("tracked", history.tracked_bytes),
                ("workers", history.active_workers),
                ("cache", history.cache_bytes),
                ("lag", history.event_loop_lag_ms),
            ]
            for key, column in columns:
                self._set_curve(self.curves[key], x, column, start)
            seen = set()
            for type_name, column in history.live_by_type.items():
                self._set_curve(self._type_curve(type_name), x, column, start)
                seen.add(f"type:{type_name}")
            for key, curve in self.curves.items():
                if key.startswith("type:") and key not in seen:
                    curve.setData([], [])
        changed = self._set_markers(history.markers, self._x, t_floor) or changed
        if changed:
            # Settle autorange and view transforms now. Left to the paint, pyqtgraph's
            # ViewBox changes its transform inside the paint, which queues a second full
            # paint of every plot: twice the cost of each refresh.
            self.scene().prepareForPaint()
        return changed

    @staticmethod
    def _set_curve(curve: Any, x: np.ndarray, column: Sequence[float], start: int) -> None:
        y = np.asarray(column[start:], dtype=np.float64)
        # A source whose columns disagree in length (a truncated recording, a remote source
        # mid-update) must not crash the refresh: plot the common prefix.
        n = min(len(x), len(y))
        curve.setData(x[:n], y[:n])

    def _set_markers(
        self, markers: Sequence[Marker], x: np.ndarray, t_floor: float | None
    ) -> bool:
        groups: list[MarkerGroup] = []
        if len(x):
            lo = float(x[0]) if t_floor is None else max(float(x[0]), t_floor)
            groups = groups_in_view(markers, lo, float(x[-1]) - float(x[0]),
                                    float(self.types_plot.vb.width()))
        signature = tuple(groups)
        if signature == self._marker_signature:
            return False
        self._marker_signature = signature
        self.marker_groups = groups
        for layer in self._marker_layers:
            layer.show(groups)
        return True

    def data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The x and y values curve ``name`` holds (before clipping and downsampling)."""
        x, y = self.curves[name].getOriginalDataset()
        if x is None or y is None:
            return np.empty(0), np.empty(0)
        return x, y

    @property
    def marker_count(self) -> int:
        """How many marker lines are shown on each plot now."""
        return self._marker_layers[0].visible_count

    @property
    def marker_items(self) -> int:
        """How many marker line items exist on all plots (bounded by ``MAX_MARKERS`` each)."""
        return sum(len(layer.lines) for layer in self._marker_layers)

    def clear_view(self) -> None:
        """Empty every curve and marker and let the axes range over new data again."""
        for curve in self.curves.values():
            curve.setData([], [])
        for layer in self._marker_layers:
            layer.show(())
        self._signature = None
        self._marker_signature = None
        self._x = np.empty(0)
        self.marker_groups = []
        for plot in self.plots:
            plot.enableAutoRange()
        for view in self._right_views:
            view.enableAutoRange()
