"""The demo's main window: closable tabs, a Tabs menu to reopen them, the Debug menu.

The window builds each tab with a new controller; closing a tab asks the tab to shut down
(its controller stops its workers and releases everything) and deletes it, controller
included. Reopening a tab builds a new controller, with a new component id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from inspector.resources import IResourceManagementService

from .controllers import (
    CopyVerifyController,
    ForensicWorkflowController,
    HashController,
    JobController,
    MediaAnalysisController,
)
from .dataset import Dataset
from .debug import DefectPlanter
from .tabs import CopyVerifyTab, DemoTab, HashingTab, MediaAnalysisTab, WorkflowTab

#: Simulated evidence-drive latency per 256 KiB read: long enough to watch (and cancel) a job.
DEFAULT_IO_DELAY_S = 0.03


@dataclass(frozen=True, slots=True)
class TabKind:
    """How to build one kind of tab: its title and a factory over (dataset, service, delay)."""

    key: str
    title: str
    build: Callable[[Dataset, IResourceManagementService | None, float], DemoTab]


def _media(d: Dataset, s: IResourceManagementService | None, delay: float) -> DemoTab:
    return MediaAnalysisTab(MediaAnalysisController(d, service=s, io_delay_s=delay))


def _hashing(d: Dataset, s: IResourceManagementService | None, delay: float) -> DemoTab:
    return HashingTab(HashController(d, service=s, io_delay_s=delay))


def _copy(d: Dataset, s: IResourceManagementService | None, delay: float) -> DemoTab:
    return CopyVerifyTab(CopyVerifyController(d, service=s, io_delay_s=delay))


def _workflow(d: Dataset, s: IResourceManagementService | None, delay: float) -> DemoTab:
    return WorkflowTab(ForensicWorkflowController(d, service=s, io_delay_s=delay))


TAB_KINDS: tuple[TabKind, ...] = (
    TabKind("media", MediaAnalysisTab.title, _media),
    TabKind("hashing", HashingTab.title, _hashing),
    TabKind("copy", CopyVerifyTab.title, _copy),
    TabKind("workflow", WorkflowTab.title, _workflow),
)
_BY_KEY = {kind.key: kind for kind in TAB_KINDS}


class DemoWindow(QMainWindow):
    """The forensic tool's window over ``dataset``.

    ``service`` is the resource service the controllers use (default: the shared one);
    ``io_delay_s`` the simulated read latency passed to every worker.
    """

    #: A tab was opened (its key) / closed (its key and how many resources that released).
    tab_opened = Signal(str)
    tab_closed = Signal(str, int)

    def __init__(self, dataset: Dataset, *, service: IResourceManagementService | None = None,
                 io_delay_s: float = DEFAULT_IO_DELAY_S, open_tabs: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resinspectDemoWindow")
        self.setWindowTitle("Evidence Workbench - resinspect demo")
        self.dataset = dataset
        self.io_delay_s = io_delay_s
        self._service = service
        self._open: dict[str, DemoTab] = {}

        self.tabs = QTabWidget(self)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self._on_close_requested)
        self.setCentralWidget(self.tabs)

        self.debug = DefectPlanter(dataset, service=service, parent=self)
        self._build_menus()
        files = len(dataset.files)
        self.statusBar().addPermanentWidget(QLabel(
            f"{files} evidence files, {dataset.total_bytes / 2**20:.1f} MiB in {dataset.root}"))
        if open_tabs:
            for kind in TAB_KINDS:
                self.open_tab(kind.key)
            self.tabs.setCurrentIndex(0)

    # -- tabs -----------------------------------------------------------------------------

    def open_tab(self, key: str) -> DemoTab:
        """Open the ``key`` tab (``media``, ``hashing``, ``copy``, ``workflow``), or bring
        it to the front if it is open; return it."""
        tab = self._open.get(key)
        if tab is None:
            tab = _BY_KEY[key].build(self.dataset, self._service, self.io_delay_s)
            tab.setObjectName(f"{key}Tab")
            self._open[key] = tab
            self.tabs.addTab(tab, tab.title)
            self.tab_opened.emit(key)
        self.tabs.setCurrentWidget(tab)
        return tab

    def tab(self, key: str) -> DemoTab | None:
        """The open ``key`` tab, or None."""
        return self._open.get(key)

    def open_tabs(self) -> list[str]:
        """Keys of the open tabs."""
        return list(self._open)

    def controllers(self) -> list[JobController]:
        """The controllers of the open tabs."""
        return [tab.controller for tab in self._open.values()]

    def close_tab(self, key: str) -> int:
        """Close the ``key`` tab: its controller stops its workers and releases everything,
        then the tab (with its controller) is deleted. Returns how many resources that
        released; 0 if it was not open."""
        tab = self._open.pop(key, None)
        if tab is None:
            return 0
        released = tab.shutdown()
        self.tabs.removeTab(self.tabs.indexOf(tab))
        tab.deleteLater()
        self.tab_closed.emit(key, released)
        return released

    def close_all_tabs(self) -> int:
        """Close every tab; return how many resources their controllers released."""
        return sum(self.close_tab(key) for key in list(self._open))

    @Slot(int)
    def _on_close_requested(self, index: int) -> None:
        widget = self.tabs.widget(index)
        for key, tab in self._open.items():
            if tab is widget:
                self.close_tab(key)
                return

    # -- menus ------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        tabs_menu = bar.addMenu("&Tabs")
        for kind in TAB_KINDS:
            action = tabs_menu.addAction(f"Open {kind.title}")
            action.setData(kind.key)
            action.triggered.connect(self._on_open_action)
        tabs_menu.addSeparator()
        tabs_menu.addAction("Close all tabs").triggered.connect(self._on_close_all)

        self.debug_menu = bar.addMenu("&Debug")
        self.debug.build_menu(self.debug_menu)

    @Slot()
    def _on_open_action(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_tab(str(action.data()))

    @Slot()
    def _on_close_all(self) -> None:
        self.close_all_tabs()

    def shutdown(self) -> None:
        """Close every tab and undo the planted defects (what closing the window does)."""
        self.close_all_tabs()
        self.debug.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window shuts everything down before it goes."""
        self.shutdown()
        super().closeEvent(event)
