"""Docking that respects the host: the central widget keeps its size, the panel is built late,
a toggle action shows and hides it, its place is remembered, and a dock starts a model
nobody started."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from inspector.metrics import MetricsModel
from inspector.resources import ResourceManagementService, ResourceType
from inspector.ui import InspectorDock
from inspector.ui.placement import (
    FALLBACK_SHORTCUT,
    TOGGLE_SHORTCUT,
    dock_panel,
    settings_for,
)
from tests.conftest import ROOT, python_env

from .conftest import delete_now


@pytest.fixture
def window(qapp: QApplication) -> Iterator[QMainWindow]:
    """An 800x600 main window with a central widget, shown."""
    win = QMainWindow()
    win.setCentralWidget(QLabel("the application"))
    win.resize(800, 600)
    win.show()
    QApplication.processEvents()
    yield win
    delete_now(win)


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path: Path) -> None:
    """QSettings in this test's own directory (never the user's configuration)."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))


def central_size(window: QMainWindow) -> tuple[int, int]:
    central = window.centralWidget()
    assert central is not None
    return central.width(), central.height()


def test_docking_on_a_window_without_room_floats_and_keeps_the_central_widget(
        qtbot: QtBot, window: QMainWindow) -> None:
    # The offscreen screen is 800 px wide: no room for the window and the panel side by side.
    before = central_size(window)
    panel = dock_panel(window, None, app="no-room")
    qtbot.waitUntil(lambda: panel.built, timeout=10_000)
    QApplication.processEvents()
    assert panel.isFloating()
    assert panel.isVisible()
    assert central_size(window) == before == (800, 600)


def test_hidden_panel_builds_nothing_until_the_toggle_shows_it(
        qtbot: QtBot, window: QMainWindow) -> None:
    panel = dock_panel(window, None, mode="hidden", app="hidden-app")
    placement = panel.placement
    assert placement is not None
    action = placement.action
    assert action in window.actions()
    assert action.shortcut() == QKeySequence(TOGGLE_SHORTCUT)
    assert not action.isChecked()
    QApplication.processEvents()
    assert panel.isHidden()
    assert not panel.built
    assert panel.refresh_count == 0

    action.trigger()  # what Ctrl+Shift+I does
    assert action.isChecked()
    qtbot.waitUntil(lambda: panel.built, timeout=10_000)
    assert central_size(window) == (800, 600)

    action.trigger()
    assert panel.isHidden()
    assert not action.isChecked()


def test_the_toggle_takes_another_shortcut_when_the_app_has_ctrl_shift_i(
        window: QMainWindow) -> None:
    mine = QAction("Inspect element", window)
    mine.setShortcut(QKeySequence(TOGGLE_SHORTCUT))
    window.addAction(mine)
    panel = dock_panel(window, None, mode="hidden", app="busy-keys")
    assert panel.placement is not None
    assert panel.placement.action.shortcut() == QKeySequence(FALLBACK_SHORTCUT)


def test_the_panel_comes_back_as_the_user_left_it(qtbot: QtBot, qapp: QApplication) -> None:
    first = QMainWindow()
    first.resize(800, 600)
    panel = dock_panel(first, None, app="remembering")
    assert panel.placement is not None
    panel.placement.set_shown(False)  # the user hides it; that is saved
    assert settings_for("remembering").value("panel/mode") == "hidden"
    delete_now(first)

    second = QMainWindow()
    second.resize(800, 600)
    again = dock_panel(second, None, app="remembering")
    assert again.isHidden()
    # An explicit mode wins over what was remembered.
    third = QMainWindow()
    third.resize(800, 600)
    floating = dock_panel(third, None, mode="floating", app="remembering")
    assert floating.isFloating()
    assert not floating.isHidden()
    delete_now(second, third)


def test_a_dock_on_a_model_nobody_started_plots_live_data(
        qtbot: QtBot, service: ResourceManagementService) -> None:
    owner = object()
    service.register_component(owner, "Owner")
    kept = [service.track_resource(owner, ResourceType.CUSTOM, object(), size_bytes=10)
            for _ in range(20)]
    model = MetricsModel(service, app="unstarted")
    assert not model.sampling
    dock = InspectorDock(model)
    try:
        dock.show()

        def plotted() -> bool:
            if "type:custom" not in dock.plots.curves:
                return False
            y = dock.plots.data("type:custom")[1]
            return len(y) > 0 and y[-1] == 20

        qtbot.waitUntil(plotted, timeout=2000)
        assert model.sampling
        dock.detach_source()  # the dock started it, so the dock stops it
        assert not model.sampling
    finally:
        delete_now(dock)
        model.close()
    assert len(kept) == 20


def test_a_dock_leaves_a_started_model_running(
        qtbot: QtBot, model: MetricsModel) -> None:
    dock = InspectorDock(model)
    dock.show()
    qtbot.waitUntil(lambda: dock.refresh_count > 0, timeout=5000)
    dock.detach_source()
    assert model.sampling
    delete_now(dock)


_GROWS = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    from inspector import attach

    app = QApplication([])
    window = QMainWindow()
    central = QLabel("the application")
    window.setCentralWidget(central)
    window.resize(800, 600)
    handle = attach(window, name="grows", serve=False, dock=sys.argv[1])
    window.show()
    seen = {}

    def check():
        dock = handle.dock
        if not dock.built:
            QTimer.singleShot(50, check)
            return
        seen.update(central=[central.width(), central.height()],
                    window=[window.width(), window.height()],
                    floating=dock.isFloating(), dock_width=dock.width())
        print(json.dumps(seen), flush=True)
        handle.close()
        app.quit()

    if sys.argv[1] == "hidden":
        QTimer.singleShot(100, lambda: handle.dock.placement.action.trigger())
    QTimer.singleShot(0, check)
    QTimer.singleShot(20000, app.quit)
    app.exec()
""")


@pytest.mark.parametrize("mode", ["docked", "hidden", "hidden-twice"])
def test_a_window_with_room_grows_by_the_panel_and_keeps_its_central_widget(
        tmp_path: Path, mode: str) -> None:
    # A real process on a 1920x1080 screen: the window has room to grow.
    screens = tmp_path / "screens.json"
    screens.write_text(json.dumps({"screens": [
        {"name": "wide", "x": 0, "y": 0, "width": 1920, "height": 1080,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = python_env()
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={screens}"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    runs = 2 if mode == "hidden-twice" else 1  # the second run restores what the first saved
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _GROWS, mode.removesuffix("-twice")],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["central"] == [800, 600]
    assert not seen["floating"]
    # Grew by the panel's width and the separator between them, no more.
    separator = seen["window"][0] - 800 - seen["dock_width"]
    assert 0 <= separator <= 12
    assert seen["dock_width"] >= 300
    assert seen["window"][1] == 600


def test_qt_dock_area_is_the_right_one(window: QMainWindow) -> None:
    panel = dock_panel(window, None, mode="hidden", app="area")
    assert window.dockWidgetArea(panel) == Qt.DockWidgetArea.RightDockWidgetArea


_HIDDEN = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow
    from inspector import attach

    app = QApplication([])
    window = QMainWindow()
    window.resize(800, 600)
    handle = attach(window, name="hidden-imports", serve=False, dock="hidden")
    window.show()
    seen = {}
    # What the dock loaded before the program's first turn: the model's msgspec comes after.
    QTimer.singleShot(0, lambda: seen.update(first_turn={"msgspec": "msgspec" in sys.modules}))

    def hidden():
        dock = handle.dock
        seen["hidden"] = {"pyqtgraph": "pyqtgraph" in sys.modules,
                          "numpy": "numpy" in sys.modules,
                          "refreshes": dock.refresh_count, "built": dock.built,
                          "model": handle.model is not None}
        dock.placement.action.trigger()
        QTimer.singleShot(50, shown)

    def shown():
        dock = handle.dock
        if not dock.built or dock.refresh_count == 0:
            QTimer.singleShot(50, shown)
            return
        seen["shown"] = {"pyqtgraph": "pyqtgraph" in sys.modules, "built": dock.built}
        print(json.dumps(seen), flush=True)
        handle.close()
        app.quit()

    QTimer.singleShot(1500, hidden)
    QTimer.singleShot(30000, app.quit)
    app.exec()
""")


def test_a_hidden_panel_imports_no_pyqtgraph_until_shown_nor_msgspec_before_the_first_turn(
        tmp_path: Path) -> None:
    env = python_env()
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", _HIDDEN], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["first_turn"] == {"msgspec": False}
    assert seen["hidden"] == {"pyqtgraph": False, "numpy": False, "refreshes": 0,
                              "built": False, "model": True}
    assert seen["shown"] == {"pyqtgraph": True, "built": True}
