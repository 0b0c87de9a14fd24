"""The scripted workload ``resinspect demo --headless`` runs: a newcomer's tour in N seconds.

It opens the tabs' jobs, blocks the GUI thread (while workers carry on), plants each defect,
closes the tabs, and takes screenshots along the way; what it saw is kept in a
:class:`WorkloadReport`. Steps run in order from one timer on the GUI thread, at fractions
of the run's length, so a longer run shows the same story more slowly.

Order matters: the growth detector needs the cache to rise window after window, and nothing
rises while the GUI thread sleeps, so the cache starts growing after the block.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from inspector.metrics.snapshot import Snapshot, TeardownAudit

from .controllers import ForensicWorkflowController, JobController
from .dataset import Dataset
from .instrument import Instrumentation
from .screenshots import TopRenderer, save_small_window, save_top, save_widget
from .tabs import MediaAnalysisTab
from .window import DemoWindow
from .workers import chunks_of


def io_delay_for(seconds: float, dataset: Dataset) -> float:
    """A read latency that has copy & verify (two reads of every chunk) end at about 60 %
    of the run, so the forensic workflow (which hashes first, and stalls during the GUI
    block) is still running when the tabs close at 70 %, and is cancelled."""
    reads = 2 * chunks_of(f.size for f in dataset.files)
    return max(0.002, 0.6 * seconds / max(1, reads))


def block_seconds(seconds: float) -> float:
    """How long the GUI thread is blocked: 3 s in a long run, at least 0.8 s (lag shows
    after 0.5 s)."""
    return min(3.0, max(0.8, 0.2 * seconds))


@dataclass
class WorkloadReport:
    """What the workload did and what the inspector made of it."""

    seconds: float
    outcomes: list[tuple[str, str]] = field(default_factory=list)
    evicted: int = 0
    tabs_closed: int = 0
    released_by_tabs: int = 0
    left_tracked_by_tabs: int = -1
    tab_components: list[str] = field(default_factory=list)
    planted: dict[str, str] = field(default_factory=dict)
    blocked_s: float = 0.0
    lag_seen_ms: float = 0.0
    gui_stack: list[str] = field(default_factory=list)
    grown_frames: int = 0
    final: Snapshot | None = None
    screenshots: list[Path] = field(default_factory=list)
    steps: list[tuple[float, str]] = field(default_factory=list)

    def teardown_error(self) -> tuple[TeardownAudit, str] | None:
        """The audit of the flaky controller's cleanup and its callback's error, if seen."""
        cid = self.planted.get("teardown_error")
        if self.final is None or cid is None:
            return None
        for audit in self.final.audits:
            if audit.component_id != cid:
                continue
            for callback in audit.callbacks:
                if callback.error:
                    return audit, f"{callback.name} raised {callback.error}"
        return None

    def suspects_of(self, reason: str) -> list[str]:
        """Component ids with a leak suspect of ``reason`` in the final snapshot."""
        if self.final is None:
            return []
        return sorted({s.component_id for s in self.final.leak_suspects if s.reason == reason})


class ScriptedWorkload(QObject):
    """Drives a :class:`DemoWindow` through the tour; :meth:`run` returns when it is over.

    ``screenshots`` is the directory for ``dock-workload.png``, ``dock-leak.png``,
    ``top.svg`` and ``top.png`` (None: no images; no ``top`` images without ``top``).
    """

    def __init__(self, window: DemoWindow, instrumentation: Instrumentation, seconds: float,
                 screenshots: Path | None = None, top: TopRenderer | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.inst = instrumentation
        self.seconds = seconds
        self.screenshots = screenshots
        self.top = top
        self.report = WorkloadReport(seconds)
        n, block = seconds, block_seconds(seconds)
        after_block = 0.25 * n + block + 0.05
        self._steps: list[tuple[float, str, Callable[[], None]]] = [
            (0.0, "start every tab's job", self._start_jobs),
            (0.2 * n, "thumbnails at another size (the LRU evicts)", self._more_thumbnails),
            (0.25 * n, f"block the GUI thread for {block:.1f} s", self._block),
            (after_block, "plant the defects", self._plant),
            (max(0.55 * n, after_block + 0.3), "screenshot: window during the workload",
             self._shoot_workload),
            (max(0.7 * n, after_block + 0.4), "close every tab", self._close_tabs),
            (0.95 * n, "screenshot: the panel's leak suspects", self._shoot_leak),
            (n, "final snapshot", self._finish),
        ]
        self._steps.sort(key=lambda s: s[0])
        self._next = 0
        self._t0 = 0.0
        self._loop: QEventLoop | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)

    def run(self) -> WorkloadReport:
        """Run every step (in a local event loop) and return the report."""
        for key in self.window.open_tabs():
            tab = self.window.tab(key)
            if tab is not None:
                self._watch(tab.title.replace("&&", "&"), tab.controller)
        self._t0 = time.monotonic()
        self._loop = QEventLoop()
        self._timer.start()
        self._tick()
        if self._next < len(self._steps):
            self._loop.exec()
        self._timer.stop()
        return self.report

    # -- driving ----------------------------------------------------------------------------

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._t0
        while self._next < len(self._steps) and self._steps[self._next][0] <= elapsed:
            _, name, step = self._steps[self._next]
            self._next += 1
            self.report.steps.append((round(time.monotonic() - self._t0, 2), name))
            step()
        if self._next >= len(self._steps) and self._loop is not None:
            self._loop.quit()

    def _watch(self, title: str, controller: JobController) -> None:
        self.report.tab_components.append(controller.component_id)
        # The lambdas capture the report's list, not a QObject: they keep nothing alive.
        outcomes = self.report.outcomes
        if isinstance(controller, ForensicWorkflowController):
            controller.workflow_finished.connect(
                lambda status, _detail, t=title: outcomes.append((t, str(status))))
        else:
            controller.job_finished.connect(
                lambda outcome, t=title: outcomes.append((t, str(outcome.status))))

    # -- steps ------------------------------------------------------------------------------

    def _start_jobs(self) -> None:
        for tab in (self.window.open_tab(key) for key in ("hashing", "copy", "workflow",
                                                          "media")):
            tab.start()

    def _more_thumbnails(self) -> None:
        tab = self.window.tab("media")
        if isinstance(tab, MediaAnalysisTab):
            tab.media.thumbnail_evicted.connect(self._count_eviction)
            tab.size_spin.setValue(96)
            if not tab.controller.busy:
                tab.start()

    def _count_eviction(self, _key: str) -> None:
        self.report.evicted += 1

    def _block(self) -> None:
        block = block_seconds(self.seconds)
        model = self.inst.model
        # Read the snapshot from another thread while this one sleeps: that is what
        # `resinspect top` sees of a frozen application.
        def look() -> None:
            snap = model.snapshot()
            self.report.lag_seen_ms = snap.event_loop_lag_ms
            self.report.gui_stack = list(snap.gui_stack)

        watcher = threading.Timer(max(0.6, 0.75 * block), look)
        watcher.start()
        self.report.blocked_s = block
        self.window.debug.block_gui(block)
        watcher.join()

    def _plant(self) -> None:
        debug = self.window.debug
        self.report.planted["growth"] = debug.start_growing_cache()
        self.report.planted["orphan_worker"] = debug.leak_worker()
        self.report.planted["teardown_error"] = debug.raise_in_cleanup()
        self.report.planted["retained_after_cleanup"] = debug.retain_thumbnail()

    def _shoot_workload(self) -> None:
        if self.screenshots is not None:
            self._refresh_dock(tab=0)
            self.report.screenshots.append(
                save_widget(self.window, self.screenshots / "dock-workload.png"))

    def _close_tabs(self) -> None:
        media = self.window.tab("media")
        if isinstance(media, MediaAnalysisTab):  # count evictions, not the closing tab's
            with contextlib.suppress(RuntimeError):
                media.media.thumbnail_evicted.disconnect(self._count_eviction)
        keys = self.window.open_tabs()
        self.report.tabs_closed = len(keys)
        self.report.released_by_tabs = self.window.close_all_tabs()
        live = {c.id: c.live for c in self.inst.model.snapshot().components}
        self.report.left_tracked_by_tabs = sum(live.get(cid, 0)
                                               for cid in self.report.tab_components)

    def _shoot_leak(self) -> None:
        if self.screenshots is not None and self.inst.dock is not None:
            self._refresh_dock(tab=1)  # the "Leak suspects" table
            # Whole component ids in the picture, however narrow the docked panel is.
            self.inst.dock.tables.suspects.view.resizeColumnsToContents()
            self.report.screenshots.append(
                save_widget(self.inst.dock, self.screenshots / "dock-leak.png"))

    def _finish(self) -> None:
        growing = self.window.debug.growing_cache
        self.report.grown_frames = growing.frames if growing is not None else 0
        snap = self.inst.model.snapshot()
        self.report.final = snap
        if self.screenshots is not None:
            if self.top is not None:
                self.report.screenshots.extend(save_top(
                    snap, self.screenshots / "top.svg", self.screenshots / "top.png", self.top))
            self.report.screenshots.append(
                save_small_window(self.inst.model, self.screenshots / "dock-800x600.png"))

    def _refresh_dock(self, tab: int) -> None:
        dock = self.inst.dock
        if dock is None:
            return
        dock.tables.setCurrentIndex(tab)
        dock.refresh()
        QApplication.processEvents()
