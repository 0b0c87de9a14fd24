"""Where the panel goes on a host's window: beside it, never taking room from it.

The rule (also in the README): the panel never shrinks the host's central widget.

* Docked (the default): when the screen has room for the window plus the panel, the window
  grows by the panel's width and the panel docks on its right. Hiding the panel gives that
  width back.
* When the screen has no such room, the panel floats instead: a window of its own beside
  the host when there is room there, else over the host's right edge.
* ``hidden``: docked but not shown; nothing of the panel is built until it is first shown.
* ``floating``: a window of its own from the start.

A checkable action, added to the host window (so its shortcut works without a menu), shows
and hides the panel: Ctrl+Shift+I, or Ctrl+Alt+Shift+I when the application already uses
that. How the user left the panel (shown or hidden, docked or floating, its width and its
floating geometry) is remembered per application in ``QSettings`` (organisation
``resinspect``, application = the app name) when the user changes it through the toggle or
by floating or docking it, and restored by the next ``attach()`` that does not ask for a
particular mode. Nothing is saved while the application quits (Qt 6 closes every window
then, which would read as the user hiding the panel), nor for the close button, which Qt
does not tell apart from that.
"""

from __future__ import annotations

import logging
from typing import Literal

import shiboken6
from PySide6.QtCore import QByteArray, QObject, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QWidget

from .dock import InspectorDock
from .source import MetricsSource

log = logging.getLogger(__name__)

DockMode = Literal["docked", "hidden", "floating"]
MODES: tuple[DockMode, ...] = ("docked", "hidden", "floating")

#: The panel's width when docked or floating, unless the user left it at another.
PANEL_WIDTH = 460
#: The narrowest a remembered width is taken: below it the built panel would be wider than
#: what the window grew by, and the central widget would pay the difference.
MIN_PANEL_WIDTH = 420
TOGGLE_SHORTCUT = "Ctrl+Shift+I"
FALLBACK_SHORTCUT = "Ctrl+Alt+Shift+I"
TOGGLE_OBJECT_NAME = "resinspectToggleAction"
#: Room kept free for the window manager's frame when deciding whether a window fits.
_FRAME_ALLOWANCE = 16
#: The separator between a dock and the central widget, until the style is asked (Fusion's
#: extent; the exact one is read a little later, see ``PanelPlacement._settle``).
_SEPARATOR_GUESS = 6
#: When the exact separator is read and the window's width corrected to it.
_SETTLE_MS = 300


def settings_for(app: str) -> QSettings:
    """The ``QSettings`` the panel's state is kept in for application ``app``."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "resinspect",
                     app or "python")


def shortcut_in_use(window: QWidget, sequence: QKeySequence) -> bool:
    """Whether an action or shortcut of ``window`` (or of its children) already has
    ``sequence``."""
    for action in window.findChildren(QAction):
        if any(s == sequence for s in action.shortcuts()):
            return True
    return any(s.key() == sequence for s in window.findChildren(QShortcut))


class PanelPlacement(QObject):
    """Places an :class:`InspectorDock` on ``window`` by the rule in the module docstring.

    ``action`` is the toggle action; ``grown_by`` how many pixels the window grew for the
    panel (0 while it is hidden or floating). Owned by the dock: it dies with it.
    """

    def __init__(self, window: QMainWindow, panel: InspectorDock, app: str) -> None:
        super().__init__(panel)
        self.window = window
        self.panel = panel
        self.app = app
        self.grown_by = 0
        self.width = PANEL_WIDTH
        self._separator_px: int | None = None
        self.action = self._make_action()
        panel.visibilityChanged.connect(self._sync_action)
        panel.topLevelChanged.connect(self._on_floating_changed)

    # -- the toggle ---------------------------------------------------------------------

    def _make_action(self) -> QAction:
        action = QAction("resinspect panel", self.window)
        action.setObjectName(TOGGLE_OBJECT_NAME)
        action.setCheckable(True)
        action.setToolTip("Show or hide the resinspect panel")
        for text in (TOGGLE_SHORTCUT, FALLBACK_SHORTCUT):
            sequence = QKeySequence(text)
            if not shortcut_in_use(self.window, sequence):
                action.setShortcut(sequence)
                break
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(self.set_shown)
        self.window.addAction(action)
        # On the panel too: a floating panel is a window of its own, with its own focus.
        self.panel.addAction(action)
        return action

    def _sync_action(self, _visible: bool = False) -> None:
        shown = not self.panel.isHidden()
        if self.action.isChecked() != shown:
            self.action.setChecked(shown)

    def toggle(self) -> None:
        """Show the panel if it is hidden, else hide it."""
        self.set_shown(self.panel.isHidden())

    def set_shown(self, shown: bool) -> None:
        """Show (placed by the rule) or hide the panel; the window gets its width back."""
        if shown:
            if self.panel.isFloating():
                self.panel.show()
            else:
                self.show_docked()
        else:
            self.hide()
        self._sync_action()
        self.save()

    # -- placing ------------------------------------------------------------------------

    def apply(self, mode: DockMode) -> None:
        """Put the panel in ``mode`` (see the module docstring)."""
        if mode == "hidden":
            self.panel.hide()
        elif mode == "floating":
            self.show_floating()
        else:
            self.show_docked()
        self._sync_action()

    def room_for(self, extra: int) -> bool:
        """Whether the window, ``extra`` pixels wider, still fits its screen's free area."""
        available = self._available()
        frame = self.window.frameGeometry()
        width = max(frame.width(), self.window.width()) + extra + _FRAME_ALLOWANCE
        return width <= available.width()

    def show_docked(self) -> None:
        """Dock on the right with the window grown by the panel's width, or float when the
        screen has no room for that."""
        extra = self.width + self._separator()
        if not self.room_for(extra):
            self.show_floating()
            return
        if self.panel.isFloating():
            self.panel.setFloating(False)
        if self.window.dockWidgetArea(self.panel) == Qt.DockWidgetArea.NoDockWidgetArea:
            self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        if self.grown_by == 0:
            self._grow(extra)
            if self._separator_px is None:
                # Asking the style builds all of QStyle's Python enums (tens of ms): after
                # the application's first turns, not before.
                QTimer.singleShot(_SETTLE_MS, self, self._settle)
        self.panel.show()
        self.window.resizeDocks([self.panel], [self.width], Qt.Orientation.Horizontal)

    def _settle(self) -> None:
        """Correct the window's growth to the style's real separator width."""
        guess = self._separator()
        exact = self._exact_separator()
        if self.grown_by and exact != guess and shiboken6.isValid(self.window):
            self.window.resize(self.window.width() + exact - guess, self.window.height())
            self.grown_by += exact - guess

    def show_floating(self) -> None:
        """A window of its own beside the host (or over its right edge), as tall as it."""
        self._give_back()
        self.panel.setFloating(True)
        self.panel.setGeometry(self._floating_geometry())
        self.panel.show()

    def hide(self) -> None:
        """Hide the panel and give the window its width back."""
        if not self.panel.isFloating() and not self.panel.isHidden() and self.panel.built:
            self.width = max(MIN_PANEL_WIDTH, self.panel.width())  # as the user left it
        self.panel.hide()
        self._give_back()

    def _grow(self, extra: int) -> None:
        self.window.resize(self.window.width() + extra, self.window.height())
        self.grown_by = extra

    def _give_back(self) -> None:
        if self.grown_by and shiboken6.isValid(self.window):
            width = max(self.window.minimumWidth(), self.window.width() - self.grown_by)
            self.window.resize(width, self.window.height())
        self.grown_by = 0

    def _on_floating_changed(self, floating: bool) -> None:
        # The user dragged the panel out (or back): the window's extra width is not needed
        # by a floating panel.
        if floating:
            self._give_back()
        if not self.panel.isHidden():
            self.save()

    def _separator(self) -> int:
        return self._separator_px if self._separator_px is not None else _SEPARATOR_GUESS

    def _exact_separator(self) -> int:
        from PySide6.QtWidgets import QStyle

        style = self.window.style()
        self._separator_px = int(style.pixelMetric(
            QStyle.PixelMetric.PM_DockWidgetSeparatorExtent, None, self.window))
        return self._separator_px

    def _available(self) -> QRect:
        screen = self.window.screen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, 10**6, 10**6)

    def _floating_geometry(self) -> QRect:
        available = self._available()
        host = self.window.frameGeometry() if self.window.isVisible() else QRect(
            self.window.pos(), self.window.size())
        height = max(300, min(host.height(), available.height()))
        width = min(self.width, available.width())
        x = host.right() + 1
        if x + width > available.right():
            x = max(available.left(), available.right() - width)
        y = max(available.top(), min(host.top(), available.bottom() - height))
        return QRect(x, y, width, height)

    # -- remembering --------------------------------------------------------------------

    def remembered_mode(self) -> DockMode | None:
        """How the user left the panel last time, if any; restores its width and floating
        geometry too."""
        settings = settings_for(self.app)
        mode = settings.value("panel/mode", None)
        width = settings.value("panel/width", None)
        try:
            if width is not None:
                self.width = max(MIN_PANEL_WIDTH, min(2000, int(str(width))))
        except ValueError:
            pass
        geometry = settings.value("panel/geometry", None)
        if isinstance(geometry, QByteArray) and mode == "floating":
            self.panel.setFloating(True)
            self.panel.restoreGeometry(geometry)
        return mode if mode in MODES else None

    def save(self) -> None:
        """Remember how the panel is now (see :meth:`remembered_mode`)."""
        if not shiboken6.isValid(self.panel):
            return
        if self.panel.isHidden():
            mode: DockMode = "hidden"
        elif self.panel.isFloating():
            mode = "floating"
        else:
            mode = "docked"
            if self.panel.built and self.panel.isVisible():
                # Laid out by now (a panel shown this very moment is not: keep self.width).
                self.width = max(MIN_PANEL_WIDTH, self.panel.width())
        settings = settings_for(self.app)
        settings.setValue("panel/mode", mode)
        settings.setValue("panel/width", self.width)
        if mode == "floating":
            settings.setValue("panel/geometry", self.panel.saveGeometry())
        settings.sync()


def dock_panel(window: QMainWindow, source: MetricsSource | None, *,
               mode: DockMode | None = None,
               app: str = "") -> InspectorDock:
    """Add a deferred :class:`InspectorDock` over ``source`` to ``window``, placed by the
    rule in the module docstring: in ``mode``, or as the user left it last time for ``app``
    (docked when never seen). The toggle action is ``dock.placement.action``."""
    panel = InspectorDock(source, window, deferred=True)
    # Docked first, hidden: restoreState() and the toggle find it in the right area.
    panel.hide()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    panel.hide()
    placement = PanelPlacement(window, panel, app)
    panel.placement = placement
    remembered = placement.remembered_mode()
    placement.apply(mode or remembered or "docked")
    return panel
