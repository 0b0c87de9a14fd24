"""``InspectorDock``: the dockable panel — summary, plots, tables and controls over a source.

The dock pulls from its source on a timer on the GUI thread. The timer runs only while the
dock is on screen and not paused: a panel that is closed, behind another dock's tab or in a
minimised window costs the application nothing. Qt tells those apart differently: closing
sends hide events, while a tab switch or a minimise leaves the dock "visible" and only emits
``visibilityChanged``; the dock listens to both.

A dock made with ``deferred=True`` (what ``attach()`` does) is a placeholder until it is
first shown: the application's window comes up first, then the panel builds its controls
and tables in one later event-loop turn and its pyqtgraph plots in another, importing
pyqtgraph and numpy only then. A panel that is never shown never imports them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QWidget

from inspector.errors import BadInput

from .source import ClearableSource, MetricsSource

if TYPE_CHECKING:
    # Types of the built panel only: importing a Qt class builds all its Python enums, so
    # the placeholder a hidden panel is stays cheap by naming none of them.
    from PySide6.QtGui import QHideEvent, QShowEvent
    from PySide6.QtWidgets import QSplitter

    from inspector.metrics.snapshot import History, Snapshot

    from .placement import PanelPlacement
    from .plots import HistoryPlots
    from .summary import SummaryStrip
    from .tables import InspectorTables

log = logging.getLogger(__name__)

#: The dock's objectName: ``QMainWindow.saveState()/restoreState()`` find it by this name.
OBJECT_NAME = "resinspectInspectorDock"
DEFAULT_INTERVAL_MS = 1000
MIN_INTERVAL_MS = 100
MAX_INTERVAL_MS = 10_000
#: How many resources of the selected component are listed.
RESOURCE_PAGE = 500
#: Ages in the resources table are refetched at least this often while it is on screen.
RESOURCE_MAX_AGE_S = 5.0
#: A deferred panel starts building this long after it is first shown: the host's first
#: event-loop turns (its first paint) come before any of the panel's work.
BUILD_DELAY_MS = 120
#: While nothing but time moves on, the timer redraws the plots this often (seconds).
PLOT_IDLE_S = 10.0

EXPORT_FORMATS = ("json", "csv")


class InspectorDock(QDockWidget):
    """A dockable, floatable, closable panel over a ``MetricsSource``.

    ``source`` is the in-process ``MetricsModel``, a remote source, or any object with its
    read API (see ``inspector.ui.source``); ``None`` shows an empty panel until
    ``set_source`` is called. ``refresh_count`` counts refreshes, whatever started them.

    A source with ``sampling``, ``start()`` and ``stop()`` (a ``MetricsModel``) that nobody
    started is started when the panel is first shown, and stopped when the panel lets go of
    it; one that was already sampling is left as it is.

    With ``deferred``, the panel's widgets are built only after it is first shown (see the
    module's docstring); ``built`` says whether they exist and ``build_now()`` builds them.
    """

    plots: HistoryPlots
    tables: InspectorTables
    summary: SummaryStrip
    #: Where the panel sits on its host window, when ``inspector.ui.placement`` placed it.
    placement: PanelPlacement | None = None

    def __init__(self, source: MetricsSource | None, parent: QWidget | None = None, *,
                 deferred: bool = False) -> None:
        super().__init__("resinspect", parent)
        self.setObjectName(OBJECT_NAME)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)

        self.refresh_count = 0
        self._source = source
        self._paused = False
        self._last_snapshot: Snapshot | None = None
        self._last_t: float | None = None
        self._t_floor: float | None = None
        self._resources_key: tuple[object, ...] | None = None
        self._resources_fetched = 0.0
        self._error = ""
        self._error_kind = ""
        self._on_screen = True  # False while behind another tab or minimised
        self._built = False
        self._plots_built = False
        self._owns_sampling = False
        self._timed = False
        self._plot_key: tuple[object, ...] | None = None
        self._plotted_at = 0.0

        self._timer = QTimer(self)
        self._timer.setInterval(DEFAULT_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)
        # A zero-delay refresh after show/resume, owned by the dock so it dies with it.
        self._kick = QTimer(self)
        self._kick.setSingleShot(True)
        self._kick.setInterval(0)
        self._kick.timeout.connect(self._on_tick)

        # The deferred build's steps, each in its own event-loop turn.
        self._builder = QTimer(self)
        self._builder.setSingleShot(True)
        self._builder.timeout.connect(self._build_step)

        if deferred:
            self._placeholder: QLabel | None = QLabel("resinspect: building the panel…", self)
            self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setWidget(self._placeholder)
        else:
            self._placeholder = None
            self.build_now()
        self.visibilityChanged.connect(self._on_visibility_changed)

    # -- construction --------------------------------------------------------------------

    @property
    def built(self) -> bool:
        """Whether the panel's widgets, plots included, exist."""
        return self._plots_built

    def build_now(self) -> None:
        """Build whatever of the panel is not built yet, now (plots included)."""
        self._builder.stop()
        if not self._built:
            self._build()
        if not self._plots_built:
            self._build_plots()
            self._kick_if_live()

    def _build_step(self) -> None:
        """One step of a deferred build: controls and tables first, plots in a later turn."""
        if not shiboken6.isValid(self):
            return
        if not self._built:
            self._build()
            self._kick_if_live()  # summary and tables are live while the plots load
            self._builder.start(0)
        elif not self._plots_built:
            self._build_plots()
            self._kick_if_live()

    def _build(self) -> None:
        from PySide6.QtWidgets import (
            QHBoxLayout,
            QLineEdit,
            QPushButton,
            QSpinBox,
            QSplitter,
            QVBoxLayout,
        )

        from inspector.metrics import own

        from .summary import SummaryStrip
        from .tables import InspectorTables

        before = own.rss()
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)

        controls = QHBoxLayout()
        self.pause_button = QPushButton("Pause", body)
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Stop refreshing (the application is not affected)")
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.interval_spin = QSpinBox(body)
        self.interval_spin.setRange(MIN_INTERVAL_MS, MAX_INTERVAL_MS)
        self.interval_spin.setSingleStep(100)
        self.interval_spin.setSuffix(" ms")
        self.interval_spin.setValue(DEFAULT_INTERVAL_MS)
        self.interval_spin.setToolTip("Refresh interval")
        # Apply on Enter or focus loss, not per keystroke ("2", "25", "250", "2500").
        self.interval_spin.setKeyboardTracking(False)
        self.interval_spin.valueChanged.connect(self.set_interval)
        self.clear_button = QPushButton("Clear history", body)
        self.clear_button.clicked.connect(self.clear_history)
        self.export_button = QPushButton("Export…", body)
        self.export_button.setToolTip("Save the shown snapshot as JSON or CSV")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.filter_edit = QLineEdit(body)
        self.filter_edit.setPlaceholderText("Filter tables…")
        self.filter_edit.setClearButtonEnabled(True)
        for widget in (self.pause_button, self.interval_spin, self.clear_button,
                       self.export_button):
            controls.addWidget(widget)
        controls.addWidget(self.filter_edit, 1)
        layout.addLayout(controls)

        self.summary = SummaryStrip(body)
        layout.addWidget(self.summary)

        splitter: QSplitter = QSplitter(Qt.Orientation.Vertical, body)
        self._splitter = splitter
        self._plots_slot = QLabel("loading plots…", splitter)
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
        from .freezes import FreezesView  # built with the rest of the panel, not before

        self.freezes = FreezesView.attach(self)  # a tab, and marks on the lag plot

        self.status_label = QLabel("", body)
        self.status_label.setStyleSheet("color: #e53935;")
        self.status_label.hide()
        layout.addWidget(self.status_label)

        self.setWidget(body)
        if self._placeholder is not None:
            self._placeholder.deleteLater()
            self._placeholder = None
        self.filter_edit.textChanged.connect(self.tables.set_filter)
        self.tables.componentSelected.connect(self._on_component_selected)
        self.tables.set_why_source(getattr(self._source, "why", None))
        self.tables.currentChanged.connect(self._on_tab_changed)
        self._built = True
        # What was set before the widgets existed.
        self.interval_spin.setValue(self.interval_ms)
        self._sync_pause_button()
        self.status_label.setText(self._error)
        self.status_label.setVisible(bool(self._error))
        own.add("panel", own.rss() - before)

    def _build_plots(self) -> None:
        from inspector.metrics import own

        before = own.rss()
        from .plots import HistoryPlots  # pyqtgraph and numpy load here, and only here

        self.plots = HistoryPlots()
        self._splitter.replaceWidget(0, self.plots)
        self._plots_slot.deleteLater()
        self._plots_built = True
        own.add("panel", own.rss() - before)
        if self._last_snapshot is not None and self._source is not None:
            self._plot_now()

    def _plot_now(self) -> None:
        source = self._source
        if source is None:
            return
        try:
            history = source.history()
        except Exception as exc:  # see refresh()
            self._set_error(f"source failed: {exc}")
            return
        if self._last_snapshot is not None:
            self.plots.set_threshold(self._last_snapshot.lag_threshold_ms)
        self.plots.set_history(history, self._t_floor)

    # -- public API ----------------------------------------------------------------------

    @property
    def source(self) -> MetricsSource | None:
        """What the dock reads."""
        return self._source

    def detach_source(self) -> None:
        """Stop reading the source; the views keep what they show.

        Unlike ``set_source(None)`` it touches no Qt model, so it is safe anywhere, even
        inside a model's ``rowCount``: Qt 6 emits ``aboutToQuit`` inside ``quit()``, which a
        SIGTERM handler may call between any two bytecodes (a reset there crashed Qt).
        """
        self._stop_timers()
        self._release_sampling()
        self._source = None

    def retire(self, *, now: bool = False) -> None:
        """Stop reading and have the plots deleted while Python is still whole: for exit.

        pyqtgraph's items override C++ virtuals in Python. Left alive until PySide deletes
        the window at interpreter exit, their destructors call those overrides into a
        finalising interpreter, which crashed 8-12 runs in 120 SIGTERMs with the panel open,
        and 4 in 90 ``sys.exit()`` calls from a slot under load. At ``aboutToQuit`` the
        plots are deleted later (``QCoreApplication.exec()`` runs deferred deletes after its
        loop ends); with ``now``, at once (an ``atexit`` handler: no loop will run again).
        """
        self.detach_source()
        self._builder.stop()
        if not self._plots_built or not shiboken6.isValid(self.plots):
            return  # never built, retired before, or deleted with the window
        if now:
            shiboken6.delete(self.plots)
        else:
            self.plots.deleteLater()

    def set_source(self, source: MetricsSource | None) -> None:
        """Read from ``source`` from now on; the views start empty."""
        if source is not self._source:
            self._release_sampling()
        self._source = source
        self._last_snapshot = None
        self._last_t = None
        self._t_floor = None
        self._resources_key = None
        if self._built:
            self.tables.set_why_source(getattr(source, "why", None))
            self.summary.clear()
            self.tables.clear_rows()
        if self._plots_built:
            self.plots.clear_view()
        self._set_error("")
        self._kick_if_live()

    @property
    def paused(self) -> bool:
        """True while refreshing is paused by the user (or ``pause()``)."""
        return self._paused

    @property
    def interval_ms(self) -> int:
        """The refresh interval."""
        return int(self._timer.interval())

    @property
    def last_snapshot(self) -> Snapshot | None:
        """The snapshot on screen, if any."""
        return self._last_snapshot

    @property
    def timer_active(self) -> bool:
        """Whether the refresh timer is running (only while on screen and not paused)."""
        return bool(self._timer.isActive())

    @property
    def live(self) -> bool:
        """Whether the dock refreshes by itself now: on screen and not paused."""
        return not self._paused and self._on_screen and self.isVisible()

    def pause(self) -> None:
        """Stop refreshing until ``resume()``; the view keeps its last state."""
        self._paused = True
        self._stop_timers()
        self._sync_pause_button()

    def resume(self) -> None:
        """Refresh again now, then every interval while visible."""
        self._paused = False
        self._sync_pause_button()
        self._kick_if_live()

    def set_interval(self, ms: int) -> None:
        """Refresh every ``ms`` milliseconds (clamped to 100-10000)."""
        ms = max(MIN_INTERVAL_MS, min(MAX_INTERVAL_MS, int(ms)))
        self._timer.setInterval(ms)  # restarts an active timer with the new interval
        if self._built and self.interval_spin.value() != ms:
            self.interval_spin.setValue(ms)

    def refresh(self) -> None:
        """Read the source once and update whatever changed.

        Called by the timer only while the dock is visible and not paused; calling it
        directly always refreshes, plots included. A failing source (a closed socket, say)
        is shown in the dock's status line and never raised into the event loop.
        """
        self._refresh(timed=False)

    def _refresh(self, *, timed: bool) -> None:
        self._timed = timed
        self.refresh_count += 1
        source = self._source
        if source is None:
            return
        if not self._built:
            self._build()
        try:
            snapshot = source.snapshot()
            history = source.history()
        except Exception as exc:  # any source's failure is shown, not raised
            self._set_error(f"source failed: {exc}")
            return
        self._apply(snapshot, history)
        # A remote source keeps its last snapshot once the application is gone, and says so.
        gone = getattr(source, "error", None)
        if gone:
            self._set_error(f"application gone: {gone}")
        elif self._error_kind == "source":
            self._set_error("")

    def clear_history(self) -> None:
        """Clear the plotted history (and the source's, if it has ``clear_history()``).

        The plots show only samples taken after this moment, whether or not the source can
        forget its own.
        """
        if isinstance(self._source, ClearableSource):
            try:
                self._source.clear_history()
            except Exception as exc:  # see refresh()
                self._set_error(f"clear history failed: {exc}")
        self._t_floor = self._last_t
        if self._plots_built:
            self.plots.clear_view()
        self._kick_if_live()

    def export_snapshot(self, path: Path, fmt: str | None = None) -> Path:
        """Write the shown snapshot (a fresh one if none is shown) to ``path``.

        ``fmt`` is ``"json"`` (``Snapshot.to_json``) or ``"csv"``; by default it follows
        the file's suffix, JSON when that is neither. The file is replaced atomically.
        Raises ``ValueError`` for another format, ``RuntimeError`` without a source, and
        ``BadInput`` when the file can't be written (a directory, a socket, a full disk); a
        device or FIFO is written through, never replaced. Like any temporary file, the export is
        readable by its owner only (a snapshot holds stacks and file paths).
        """
        path = Path(path)
        if fmt is None:
            fmt = "csv" if path.suffix.lower() == ".csv" else "json"
        fmt = fmt.lower()
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r} (json or csv)")
        snapshot = self._last_snapshot
        if snapshot is None:
            if self._source is None:
                raise RuntimeError("no snapshot to export: the dock has no source")
            snapshot = self._source.snapshot()
        if fmt == "json":
            data = snapshot.to_json()
        else:
            # Lazy: the exporters module is only needed by the few who export CSV.
            from inspector.metrics.exporters import snapshot_to_csv

            text = snapshot_to_csv(snapshot)
            data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        # The one writer of output files: a regular file is replaced atomically, a device
        # or FIFO written through, never replaced by a regular file.
        from inspector.fleet.output import write_file

        write_file(path, data, private=True)
        return path

    # -- Qt events -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Start refreshing (at once, then every interval) unless paused; a deferred
        panel starts building itself a little later."""
        super().showEvent(event)
        if not self._plots_built:
            if not self._builder.isActive():
                self._builder.start(0 if self._built else BUILD_DELAY_MS)
            return
        self._kick_if_live()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop all refresh work while nobody can see the dock."""
        self._stop_timers()
        super().hideEvent(event)

    # -- internals -----------------------------------------------------------------------

    def _kick_if_live(self) -> None:
        if self.live and self._built:
            if self._source is not None:
                self._ensure_sampling(self._source)
            self._timer.start()
            self._kick.start()

    def _stop_timers(self) -> None:
        self._timer.stop()
        self._kick.stop()

    def _on_visibility_changed(self, visible: bool) -> None:
        self._on_screen = visible
        if visible:
            self._kick_if_live()
        else:
            self._stop_timers()

    def _on_tick(self) -> None:
        if not self.live:
            # Belt and braces: a hide that raced the timer must not cost a refresh.
            self._stop_timers()
            return
        if self.visibleRegion().isEmpty():
            # Covered inside its window (a tab behind another) without Qt having said so:
            # skip the work but keep the cheap tick, as no signal may announce its return.
            return
        self._refresh(timed=True)

    def _plots_due(self, history: History) -> bool:
        """Whether a timed refresh redraws the plots.

        Drawing four plots is most of a refresh's cost, and in an idle application only
        time moves on. So a timed refresh redraws them when a count, tracked bytes, the
        markers or a freeze changed what they show, and otherwise every ``PLOT_IDLE_S``
        (RSS and a few ms of lag drift a little all the time).
        """
        if not self._timed:
            return True
        lag = history.event_loop_lag_ms
        key = (
            history.live_resources[-1:], history.tracked_bytes[-1:],
            history.active_workers[-1:], history.cache_bytes[-1:],
            tuple(col[-1] if col else 0 for col in history.live_by_type.values()),
            len(history.markers), history.markers[-1] if history.markers else None,
            bool(lag and lag[-1] >= self._lag_threshold()),
        )
        now = time.monotonic()
        if key != self._plot_key or now - self._plotted_at >= PLOT_IDLE_S:
            self._plot_key = key
            self._plotted_at = now
            return True
        return False

    def _lag_threshold(self) -> float:
        snap = self._last_snapshot
        return snap.lag_threshold_ms if snap is not None else 500.0

    def _apply(self, snapshot: Snapshot, history: History) -> None:
        self._last_snapshot = snapshot
        if history.t:
            self._last_t = history.t[-1]
        self.summary.set_snapshot(snapshot)
        if self._plots_built and self._plots_due(history):
            self.plots.set_threshold(snapshot.lag_threshold_ms)
            self.plots.set_history(history, self._t_floor)
        self.tables.set_snapshot(snapshot)
        self.freezes.set_snapshot(snapshot)
        self._update_resources(snapshot, force=False)

    def _update_resources(self, snapshot: Snapshot | None, force: bool) -> None:
        component_id = self.tables.selected_component()
        source = self._source
        if not component_id or source is None:
            self._resources_key = None
            self.tables.set_resources(None, "")
            return
        stats = None
        if snapshot is not None:
            stats = next((c for c in snapshot.components if c.id == component_id), None)
        key: tuple[object, ...] = (component_id,) if stats is None else (
            component_id, stats.live, stats.bytes, stats.created, stats.destroyed
        )
        # Refetch only when the component's counts moved, or (while the list is on screen)
        # when its ages have grown stale; a remote source pays a round trip per fetch.
        stale = (
            self.tables.currentIndex() == 0
            and time.monotonic() - self._resources_fetched > RESOURCE_MAX_AGE_S
        )
        if not force and key == self._resources_key and not stale:
            return
        try:
            page = source.resources(0, RESOURCE_PAGE, component_id)
        except Exception as exc:  # see refresh()
            self._set_error(f"resources failed: {exc}")
            return
        self._resources_key = key
        self._resources_fetched = time.monotonic()
        self.tables.set_resources(page, component_id)

    def _on_component_selected(self, _component_id: str) -> None:
        self._update_resources(self._last_snapshot, force=True)

    def _on_tab_changed(self, index: int) -> None:
        if index == 0 and self._last_snapshot is not None and not self._paused:
            self._update_resources(self._last_snapshot, force=False)

    def _on_pause_toggled(self, checked: bool) -> None:
        if checked:
            self.pause()
        else:
            self.resume()

    def _ensure_sampling(self, source: object) -> None:
        """Start a model nobody started (and remember that this dock did)."""
        if self._owns_sampling or getattr(source, "sampling", True):
            return
        start = getattr(source, "start", None)
        if start is None or not callable(getattr(source, "stop", None)):
            return
        try:
            start()
            sample: Any = getattr(source, "sample", None)
            if callable(sample):
                sample()  # a first point now, not one interval later
        except Exception as exc:  # see refresh()
            self._set_error(f"could not start sampling: {exc}")
            return
        self._owns_sampling = True

    def _release_sampling(self) -> None:
        """Stop the source's sampling if, and only if, this dock started it."""
        if not self._owns_sampling:
            return
        self._owns_sampling = False
        stop = getattr(self._source, "stop", None)
        if callable(stop):
            try:
                stop()
            except Exception:
                log.exception("resinspect dock: stopping the source's sampling failed")

    def _sync_pause_button(self) -> None:
        if not self._built:
            return
        button = self.pause_button
        if button.isChecked() != self._paused:
            button.blockSignals(True)
            button.setChecked(self._paused)
            button.blockSignals(False)
        button.setText("Resume" if self._paused else "Pause")

    def _on_export_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        snapshot = self._last_snapshot
        app = snapshot.app if snapshot is not None else "snapshot"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export snapshot", f"resinspect-{app}-{stamp}.json",
            "JSON snapshot (*.json);;CSV (*.csv)",
        )
        if not path:
            return
        target = Path(path)
        fmt = "csv" if chosen.startswith("CSV") or target.suffix.lower() == ".csv" else "json"
        if not target.suffix:
            target = target.with_suffix(f".{fmt}")
        try:
            self.export_snapshot(target, fmt)
        except (OSError, BadInput, RuntimeError, ValueError, ImportError) as exc:
            self._set_error(f"export failed: {exc}", kind="export")
        else:
            self._set_error("")

    def _set_error(self, message: str, kind: str = "source") -> None:
        # One status line: the newest problem. A good refresh clears only source problems,
        # so an export error stays readable until the next export.
        if message == self._error:
            return
        if message:
            log.warning("resinspect dock: %s", message)
        self._error = message
        self._error_kind = kind if message else ""
        if not self._built:
            return
        self.status_label.setText(message)
        self.status_label.setVisible(bool(message))

