"""Four linked pyqtgraph plots over the model's history, with lifecycle markers.

Every graphics item is made once: a refresh only calls ``setData`` on existing curves and
moves pooled marker lines, because creating and deleting items each second is what makes a
live plot slow and its memory grow. The four plots share their time axis, so a jump in one
lines up with the marker of the component that caused it.

Read at a glance: the plots are stacked in one column (the panel sits beside a window),
only the bottom one draws the time axis, byte axes read in KiB/MiB/GiB and never go below
zero, legends sit in a row above their plot rather than on the data, and markers are thin
lines whose label is a tooltip.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QWidget

from inspector.metrics.snapshot import History, Marker
from inspector.metrics.text import safe
from inspector.metrics.units import format_bytes

#: Most recent marker lines drawn per plot; older ones fall off instead of piling up items.
MAX_MARKERS = 20
#: Markers closer than this many pixels share one line: a burst of registrations at
#: start-up is one event to the eye, one item to paint, and one tooltip to read.
MARKER_GAP_PX = 8
#: Which kind colours a shared line, most telling first.
_KIND_RANK = {"destroyed": 0, "cleaned_up": 1, "registered": 2}

MARKER_COLOURS: dict[str, str] = {
    "registered": "#81c784",
    "cleaned_up": "#ffd54f",
    "destroyed": "#e57373",
}
_OTHER_MARKER_COLOUR = "#bdbdbd"

#: Fixed colours per resource type, so a type keeps its colour across runs and windows.
TYPE_COLOURS: dict[str, str] = {
    "worker": "#42a5f5",
    "thread": "#5c6bc0",
    "timer": "#26c6da",
    "qobject": "#9ccc65",
    "widget": "#d4e157",
    "file_handle": "#ffca28",
    "cache": "#ff7043",
    "thumbnail": "#ba68c8",
    "memory": "#f06292",
    "network": "#a1887f",
    "custom": "#90a4ae",
}
_SPARE_COLOURS = ("#e0e0e0", "#80cbc4", "#f48fb1", "#b39ddb", "#a5d6a7", "#ffe082")

_MAX_LABEL = 28
#: Binary steps for byte axes: 1, 2, 4, 8 … of a unit, then the next unit.
_BYTE_STEPS = tuple(2 ** k for k in range(0, 64))
#: Pixels wanted between two ticks of a byte axis.
_TICK_PX = 40


class ByteAxis(pg.AxisItem):  # type: ignore[misc]
    """An axis of bytes: ticks at powers of two, labelled ``512 B``, ``1.5 MiB``, ``2.0 GiB``
    (the shared units; never SI prefixes on bytes), and nothing below zero."""

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float
                    ) -> list[tuple[float, float]]:
        """Power-of-two spacing, about one tick per ``_TICK_PX`` pixels."""
        span = max(1.0, float(maxVal) - float(minVal))
        wanted = max(2, int(size / _TICK_PX)) if size > 0 else 4
        target = span / wanted
        major = next((step for step in _BYTE_STEPS if step >= target), _BYTE_STEPS[-1])
        return [(float(major), 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float
                    ) -> list[str]:
        """``format_bytes`` of each value; blank below zero."""
        return [format_bytes(v * scale) if v >= 0 else "" for v in values]


def _window_pointers() -> set[int]:
    return {shiboken6.getCppPointer(w)[0] for w in QApplication.topLevelWidgets()}


def _pen(colour: str) -> Any:
    # Width 1 (cosmetic) on purpose: wider pens take Qt's slow stroking path.
    return pg.mkPen(colour, width=1)


@dataclass(frozen=True)
class MarkerGroup:
    """Markers drawn as one line: at ``t`` (the first one's time), coloured by ``kind``."""

    t: float
    kind: str
    component_id: str
    count: int

    @property
    def label(self) -> str:
        """``destroyed ResultsTab#3 +2``: the id cut to a readable length, escaped."""
        cid = safe(self.component_id)
        if len(cid) > _MAX_LABEL:
            cid = cid[: _MAX_LABEL - 1] + "…"
        more = f" +{self.count - 1}" if self.count > 1 else ""
        return f"{self.kind} {cid}{more}"

    @property
    def tooltip(self) -> str:
        """The hover text of the line: what happened, to whom, and when."""
        more = f" and {self.count - 1} more" if self.count > 1 else ""
        return f"{self.kind}: {safe(self.component_id)}{more}\nat {self.t:.1f} s"


def group_markers(markers: Sequence[Marker], gap: float) -> list[MarkerGroup]:
    """Merge markers less than ``gap`` seconds after the group's first one (input sorted
    by time); a group takes the most telling kind among its markers and that kind's first
    component."""
    groups: list[MarkerGroup] = []
    start = 0
    n = len(markers)
    while start < n:
        end = start + 1
        t0 = markers[start].t
        while end < n and markers[end].t - t0 < gap:
            end += 1
        lead = min(markers[start:end], key=lambda m: _KIND_RANK.get(m.kind, 3))
        groups.append(MarkerGroup(t=t0, kind=lead.kind, component_id=lead.component_id,
                                  count=end - start))
        start = end
    return groups


@dataclass
class _MarkerLayer:
    """A pool of thin vertical lines on one plot, reused refresh after refresh; each line's
    label is its tooltip (labels drawn on the plot covered the curves)."""

    plot: Any
    lines: list[Any] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def show(self, groups: Sequence[MarkerGroup]) -> None:
        for i, group in enumerate(groups):
            colour = MARKER_COLOURS.get(group.kind, _OTHER_MARKER_COLOUR)
            if i == len(self.lines):
                self._add_line(colour)
            line = self.lines[i]
            if self.kinds[i] != group.kind:
                line.setPen(_pen(colour))
                self.kinds[i] = group.kind
            line.setValue(group.t)
            tip = group.tooltip
            if line.toolTip() != tip:
                line.setToolTip(tip)
            line.setVisible(True)
        for line in self.lines[len(groups) :]:
            line.setVisible(False)

    def _add_line(self, colour: str) -> None:
        line = pg.InfiniteLine(angle=90, movable=False, pen=_pen(colour))
        # Markers must not widen the autorange: the data decides the view.
        self.plot.addItem(line, ignoreBounds=True)
        self.lines.append(line)
        self.kinds.append("")

    @property
    def visible_count(self) -> int:
        return sum(1 for line in self.lines if line.isVisible())


class HistoryPlots(pg.GraphicsLayoutWidget):  # type: ignore[misc]
    """Four plots in a column: memory, live resources by type, workers and cache, lag.

    ``curves`` maps a stable name to each curve (``"rss"`` — the application's own share of
    the RSS —, ``"inspector"``, ``"tracked"``, ``"workers"``, ``"cache"``, ``"lag"``, and
    ``"type:<resource type>"`` per type); ``data(name)`` is what a curve was given.
    ``legends`` maps each plot's title to the legend row above it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        windows_before = _window_pointers()
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

        self._right_views: list[tuple[Any, Any]] = []
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
        self._marker_layers = [_MarkerLayer(plot) for plot in self.plots]
        self._adopt_orphans(windows_before)

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

    def _adopt_orphans(self, windows_before: set[int]) -> None:
        """Make the parentless widgets pyqtgraph just built (context menus, their option
        panels) children of this widget.

        pyqtgraph creates them without a parent, so they are top-level windows that live
        until Python's cycle collector happens to free the plot items: a host that deletes
        the dock would keep dozens of hidden windows. As children they die with the plots.
        """
        for widget in QApplication.topLevelWidgets():
            if (
                widget.parentWidget() is None
                and widget is not self
                and shiboken6.getCppPointer(widget)[0] not in windows_before
            ):
                widget.setParent(self, widget.windowFlags())

    def sizeHint(self) -> QSize:
        """Room for four readable plots; the dock's splitter starts from this."""
        return QSize(440, 520)

    def minimumSizeHint(self) -> QSize:
        """Below this the axes eat the plots."""
        return QSize(280, 240)

    # -- construction ------------------------------------------------------------------

    def _add_curve(self, key: str, plot: Any, colour: str, name: str | None) -> Any:
        curve = plot.plot(pen=_pen(colour))
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
        curve = pg.PlotDataItem(pen=_pen(colour))
        self._tune(curve)
        view.addItem(curve)
        plot.legend_row.addItem(curve, name)
        self.curves[key] = curve
        self._right_views.append((plot, view))

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
            colour = TYPE_COLOURS.get(type_name, _SPARE_COLOURS[n_types % len(_SPARE_COLOURS)])
            curve = self._add_curve(key, self.types_plot, colour, type_name)
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
            width_px = max(50.0, float(self.types_plot.vb.width()))
            gap = (float(x[-1]) - float(x[0])) * MARKER_GAP_PX / width_px
            # Markers are in time order: find the first one in view by bisection.
            first = bisect.bisect_left(markers, lo, key=lambda m: m.t)
            # Only the newest few thousand can end up among the MAX_MARKERS lines shown.
            first = max(first, len(markers) - 50 * MAX_MARKERS)
            groups = group_markers(markers[first:], gap)[-MAX_MARKERS:]
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
        for _plot, view in self._right_views:
            view.enableAutoRange()
