"""``InspectorDock``: the dockable panel — summary, plots, tables and controls over a source.

The dock pulls from its source on a timer on the GUI thread. The timer runs only while the
dock is on screen and not paused: a panel that is closed, behind another dock's tab or in a
minimised window costs the application nothing. Qt tells those apart differently: closing
sends hide events, while a tab switch or a minimise leaves the dock "visible" and only emits
``visibilityChanged``; the dock listens to both.

A dock made with ``deferred=True`` (what ``attach()`` does) is a placeholder until it is
first shown: the application's window comes up first, then the panel builds its controls
and tables in one later event-loop turn and its pyqtgraph plots in another, importing
pyqtgraph and numpy only then (``panel.py``). A panel that is never shown never imports them.

The dock itself decides when to refresh; its parts each have a module: the refresh itself,
from the source to every view (``feed.py``), the widgets (``panel.py``), the controls
(``controls.py``), the status line (``status.py``), who started the source's sampling
(``sampling.py``) and the export dialog (``export.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

from inspector.errors import BadInput
from inspector.fleet.snapshot_file import check_format, format_for, save_snapshot

from .controls import DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS
from .feed import SourceFeed, explainer
from .labels import plain_label
from .sampling import SamplingOwner
from .source import MetricsSource
from .status import StatusLine

if TYPE_CHECKING:
    # Types of the built panel only: importing a Qt class builds all its Python enums, so
    # the placeholder a hidden panel is stays cheap by naming none of them.
    from PySide6.QtGui import QHideEvent, QShowEvent

    from inspector.metrics.snapshot import Snapshot

    from .freezes import FreezesView
    from .panel import Panel
    from .placement import PanelPlacement
    from .plots import HistoryPlots
    from .summary import SummaryStrip
    from .tables import InspectorTables

__all__ = ["DEFAULT_INTERVAL_MS", "MAX_INTERVAL_MS", "MIN_INTERVAL_MS", "OBJECT_NAME",
           "InspectorDock"]

#: The dock's objectName: ``QMainWindow.saveState()/restoreState()`` find it by this name.
OBJECT_NAME = "resinspectInspectorDock"
#: A deferred panel starts building this long after it is first shown: the host's first
#: event-loop turns (its first paint) come before any of the panel's work.
BUILD_DELAY_MS = 120


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
    The built panel's parts are attributes: ``summary``, ``tables``, ``freezes``, ``plots``,
    ``status_label`` and the controls (``pause_button``, ``interval_spin``,
    ``clear_button``, ``export_button``, ``filter_edit``).
    """

    plots: HistoryPlots
    tables: InspectorTables
    summary: SummaryStrip
    freezes: FreezesView
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
        self._paused = False
        self._on_screen = True  # False while behind another tab or minimised
        self._panel: Panel | None = None
        self._status = StatusLine()
        self._feed = SourceFeed(source, self._status)
        self._sampling = SamplingOwner()

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
            placeholder = plain_label("resinspect: building the panel…", self)
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setWidget(placeholder)
        else:
            self.build_now()
        self.visibilityChanged.connect(self._on_visibility_changed)

    # -- construction --------------------------------------------------------------------

    @property
    def built(self) -> bool:
        """Whether the panel's widgets, plots included, exist."""
        return self._panel is not None and self._panel.plots is not None

    def build_now(self) -> None:
        """Build whatever of the panel is not built yet, now (plots included)."""
        self._builder.stop()
        self._build()
        if not self.built:
            self._build_plots()
            self._kick_if_live()

    def _build_step(self) -> None:
        """One step of a deferred build: controls and tables first, plots in a later turn."""
        if not shiboken6.isValid(self):
            return
        if self._panel is None:
            self._build()
            self._kick_if_live()  # summary and tables are live while the plots load
            self._builder.start(0)
        elif not self.built:
            self._build_plots()
            self._kick_if_live()

    def _build(self) -> None:
        if self._panel is not None:
            return
        from .panel import Panel  # the widgets' modules load with the panel, not before

        placeholder = self.widget()
        panel = self._panel = Panel(self, self._status)
        self.summary, self.tables, self.freezes = panel.summary, panel.tables, panel.freezes
        self.status_label = panel.status_label
        controls = panel.controls
        self.pause_button, self.interval_spin = controls.pause_button, controls.interval_spin
        self.clear_button, self.export_button = controls.clear_button, controls.export_button
        self.filter_edit = controls.filter_edit
        if placeholder is not None:
            placeholder.deleteLater()
        controls.pause_button.toggled.connect(self._on_pause_toggled)
        controls.interval_spin.valueChanged.connect(self.set_interval)
        controls.clear_button.clicked.connect(self.clear_history)
        controls.export_button.clicked.connect(self._on_export_clicked)
        controls.filter_edit.textChanged.connect(self.tables.set_filter)
        self.tables.componentSelected.connect(self._on_component_selected)
        self.tables.set_why_source(explainer(self.source))
        self.tables.currentChanged.connect(self._on_tab_changed)
        self._feed.panel = panel
        # What was set before the widgets existed.
        controls.show_interval(self.interval_ms)
        controls.show_paused(self._paused)

    def _build_plots(self) -> None:
        assert self._panel is not None
        self.plots = self._panel.build_plots()
        self._feed.plot_now()

    # -- public API ----------------------------------------------------------------------

    @property
    def source(self) -> MetricsSource | None:
        """What the dock reads."""
        return self._feed.source

    def detach_source(self) -> None:
        """Stop reading the source; the views keep what they show.

        Unlike ``set_source(None)`` it touches no Qt model, so it is safe anywhere, even
        inside a model's ``rowCount``: Qt 6 emits ``aboutToQuit`` inside ``quit()``, which a
        SIGTERM handler may call between any two bytecodes (a reset there crashed Qt).
        """
        self._stop_timers()
        self._sampling.release(self._feed.source)
        self._feed.source = None

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
        if not self.built or not shiboken6.isValid(self.plots):
            return  # never built, retired before, or deleted with the window
        if now:
            shiboken6.delete(self.plots)
        else:
            self.plots.deleteLater()

    def set_source(self, source: MetricsSource | None) -> None:
        """Read from ``source`` from now on; the views start empty."""
        if source is not self._feed.source:
            self._sampling.release(self._feed.source)
        self._feed.set_source(source)
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
        return self._feed.last_snapshot

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
        if self._panel is not None:
            self._panel.controls.show_paused(True)

    def resume(self) -> None:
        """Refresh again now, then every interval while visible."""
        self._paused = False
        if self._panel is not None:
            self._panel.controls.show_paused(False)
        self._kick_if_live()

    def set_interval(self, ms: int) -> None:
        """Refresh every ``ms`` milliseconds (clamped to 100-10000)."""
        ms = max(MIN_INTERVAL_MS, min(MAX_INTERVAL_MS, int(ms)))
        self._timer.setInterval(ms)  # restarts an active timer with the new interval
        if self._panel is not None:
            self._panel.controls.show_interval(ms)

    def refresh(self) -> None:
        """Read the source once and update whatever changed.

        Called by the timer only while the dock is visible and not paused; calling it
        directly always refreshes, plots included. A failing source (a closed socket, say)
        is shown in the dock's status line and never raised into the event loop.
        """
        self._refresh(timed=False)

    def _refresh(self, *, timed: bool) -> None:
        self.refresh_count += 1
        if self._feed.source is None:
            return
        self._build()
        assert self._panel is not None
        self._feed.refresh(self._panel, timed=timed)

    def clear_history(self) -> None:
        """Clear the plotted history (and the source's, if it has ``clear_history()``).

        The plots show only samples taken after this moment, whether or not the source can
        forget its own.
        """
        self._feed.clear_history()
        self._kick_if_live()

    def export_snapshot(self, path: Path, fmt: str | None = None) -> Path:
        """Write the shown snapshot (a fresh one if none is shown) to ``path``.

        ``fmt`` is ``"json"`` (``Snapshot.to_json``), ``"csv"`` or ``"prom"``; by default
        it follows the file's suffix, JSON when that is neither. The file is written as
        ``resinspect snapshot -o`` writes it (``inspector.fleet.snapshot_file``): replaced
        atomically and readable by its owner only, a device or FIFO written through.
        Raises ``ValueError`` for another format, ``RuntimeError`` without a source, and
        ``BadInput`` when the file can't be written (a directory, a socket, a full disk).
        """
        fmt = check_format(format_for(path) if fmt is None else fmt)
        snapshot = self._feed.last_snapshot
        if snapshot is None:
            if self._feed.source is None:
                raise RuntimeError("no snapshot to export: the dock has no source")
            snapshot = self._feed.source.snapshot()
        return save_snapshot(snapshot, path, fmt)

    # -- Qt events -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Start refreshing (at once, then every interval) unless paused; a deferred
        panel starts building itself a little later."""
        super().showEvent(event)
        if not self.built:
            if not self._builder.isActive():
                self._builder.start(0 if self._panel is not None else BUILD_DELAY_MS)
            return
        self._kick_if_live()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop all refresh work while nobody can see the dock."""
        self._stop_timers()
        super().hideEvent(event)

    # -- internals -----------------------------------------------------------------------

    def _kick_if_live(self) -> None:
        if self.live and self._panel is not None:
            if self._feed.source is not None:
                problem = self._sampling.ensure(self._feed.source)
                if problem:
                    self._status.set(problem)
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

    def _on_component_selected(self, _component_id: str) -> None:
        self._feed.update_resources(force=True)

    def _on_tab_changed(self, index: int) -> None:
        if index == 0 and self._feed.last_snapshot is not None and not self._paused:
            self._feed.update_resources(force=False)

    def _on_pause_toggled(self, checked: bool) -> None:
        if checked:
            self.pause()
        else:
            self.resume()

    def _on_export_clicked(self) -> None:
        from .export import ask_export_target

        snapshot = self._feed.last_snapshot
        chosen = ask_export_target(self, snapshot.app if snapshot is not None else "snapshot")
        if chosen is None:
            return
        try:
            self.export_snapshot(*chosen)
        except (OSError, BadInput, RuntimeError, ValueError, ImportError) as exc:
            self._status.set(f"export failed: {exc}", kind="export")
        else:
            self._status.set("")
