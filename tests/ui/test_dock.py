"""InspectorDock behaviour: model → view, view → model, visibility, docking, leaks
(the exports are in test_export.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from inspector.metrics.snapshot import ComponentStats
from inspector.ui import OBJECT_NAME, InspectorDock

from .conftest import delete_now
from .fakes import FakeSource, append_sample, make_history, make_snapshot
from .imaging import count_near, distinct_colours, reddish

MakeDock = Callable[..., InspectorDock]


def component_ids(dock: InspectorDock) -> list[str]:
    return [row[0] for row in dock.tables.components.visible_rows()]


# -- model → view ----------------------------------------------------------------------------


def test_new_component_and_bytes_show_within_one_refresh(dock: InspectorDock,
                                                         source: FakeSource) -> None:
    dock.refresh()
    assert "NewOwner" not in component_ids(dock)
    source.snap = make_snapshot(components=[
        *source.snap.components,
        ComponentStats(id="NewOwner", type="component", live=1, bytes=123_456, alive=True),
    ])
    source.hist = append_sample(source.hist, tracked_bytes=123_456,
                                live_by_type={"cache": 77})

    dock.refresh()

    rows = {row[0]: row for row in dock.tables.components.visible_rows()}
    assert rows["NewOwner"] == ("NewOwner", "component", 1, 123_456, True)
    x, y = dock.plots.data("tracked")
    assert x[-1] == source.hist.t[-1]
    assert y[-1] == 123_456
    assert dock.plots.data("type:cache")[1][-1] == 77


def test_summary_strip_shows_the_headline_numbers(dock: InspectorDock) -> None:
    dock.refresh()
    text = " | ".join(label.text() for label in dock.summary.labels.values())
    for expected in ("fake-app (pid 4242)", "live 3", "created 10", "destroyed 7",
                     "tracked 2.9 KiB (peak 4.9 KiB)", "RSS 80.0 MiB (peak 90.0 MiB)",
                     "workers 1", "cache 2.0 KiB in 2 entries", "lag 3 ms"):
        assert expected in text


def test_frozen_application_turns_the_lag_red(qtbot: QtBot, dock: InspectorDock,
                                              source: FakeSource) -> None:
    dock.resize(900, 900)
    dock.show()
    lag = dock.summary.labels["lag"]
    dock.refresh()
    assert reddish(lag) == 0

    source.snap = make_snapshot(event_loop_lag_ms=2300.0, event_loop_blocked=True,
                                gui_stack=["main (app.py:10)", "slow_load (gallery.py:88)"])
    dock.refresh()
    assert dock.summary.blocked
    assert "BLOCKED" in lag.text()
    assert reddish(lag) > 20  # the text is painted red, not just flagged
    assert "slow_load (gallery.py:88)" in lag.toolTip()

    source.snap = make_snapshot()
    dock.refresh()
    assert reddish(lag) == 0


def test_source_failure_is_shown_not_raised(dock: InspectorDock, source: FakeSource) -> None:
    dock.show()
    source.fail = ConnectionError("application went away")
    dock.refresh()  # must not raise into the event loop
    assert dock.status_label.isVisible()
    assert "application went away" in dock.status_label.text()
    source.fail = None
    dock.refresh()
    assert not dock.status_label.isVisible()


def test_no_source_shows_an_empty_panel(make_dock: MakeDock) -> None:
    dock = InspectorDock(None)
    try:
        dock.refresh()
        assert dock.last_snapshot is None
        with pytest.raises(RuntimeError):
            dock.export_snapshot(Path("unused.json"))
    finally:
        delete_now(dock)


def test_set_source_switches_and_empties_the_views(dock: InspectorDock) -> None:
    dock.refresh()
    assert component_ids(dock)
    other = FakeSource(snap=make_snapshot(components=[
        ComponentStats(id="Elsewhere", type="tab", live=1, bytes=1, alive=True)]))
    dock.set_source(other)
    assert component_ids(dock) == []
    dock.refresh()
    assert component_ids(dock) == ["Elsewhere"]


def test_retire_stops_reading_and_deletes_the_plots_at_the_next_deferred_delete(
        qtbot: QtBot, dock: InspectorDock, source: FakeSource) -> None:
    dock.set_interval(50)
    dock.show()
    qtbot.waitUntil(lambda: dock.refresh_count >= 1, timeout=3000)
    plots = dock.plots
    dock.retire()
    assert dock.source is None
    assert shiboken6.isValid(plots)  # deleted by the event loop, never under a caller
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(plots)
    count = dock.refresh_count
    qtbot.wait(200)
    assert dock.refresh_count == count
    assert shiboken6.isValid(dock)
    dock.retire(now=True)  # the exit hook after aboutToQuit's retire: nothing left to delete
    assert shiboken6.isValid(dock)


def test_retire_now_deletes_the_plots_at_once(dock: InspectorDock) -> None:
    plots = dock.plots
    dock.retire(now=True)
    assert not shiboken6.isValid(plots)
    assert dock.source is None


# -- visibility and controls: no work unless someone looks ------------------------------------


def test_refreshes_on_its_own_while_visible(qtbot: QtBot, dock: InspectorDock) -> None:
    assert dock.interval_ms == 1000  # at least once a second by default
    dock.set_interval(100)
    dock.show()
    qtbot.waitUntil(lambda: dock.refresh_count >= 3, timeout=3000)


def test_hidden_dock_does_no_refresh_work(qtbot: QtBot, dock: InspectorDock,
                                          source: FakeSource) -> None:
    dock.set_interval(100)
    dock.show()
    qtbot.waitUntil(lambda: dock.refresh_count >= 2, timeout=3000)  # the timer works

    dock.hide()
    count, calls = dock.refresh_count, dict(source.calls)
    qtbot.wait(500)  # five intervals
    assert dock.refresh_count == count
    assert source.calls == calls
    assert not dock.timer_active

    dock.show()
    qtbot.waitUntil(lambda: dock.refresh_count > count, timeout=3000)


def test_dock_tabified_behind_another_does_no_refresh_work(
        qtbot: QtBot, make_dock: MakeDock) -> None:
    # Qt leaves a dock behind another dock's tab "visible" (no hide event); only
    # visibilityChanged says it is covered. It must cost nothing there either.
    window = QMainWindow()
    window.setCentralWidget(QLabel("application"))
    source = FakeSource()
    dock = make_dock(source, window)
    other = QDockWidget("Other", window)
    other.setObjectName("other")
    other.setWidget(QLabel("other panel"))
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.tabifyDockWidget(dock, other)  # the other tab is the current one
    dock.set_interval(100)
    window.show()
    try:
        qtbot.wait(350)
        assert dock.refresh_count == 0
        assert source.calls["snapshot"] == 0

        dock.raise_()
        qtbot.waitUntil(lambda: dock.refresh_count >= 2, timeout=3000)
        other.raise_()
        qtbot.waitUntil(lambda: not dock.live, timeout=3000)
        count = dock.refresh_count
        qtbot.wait(400)
        assert dock.refresh_count == count
        assert not dock.timer_active

        dock.raise_()
        qtbot.waitUntil(lambda: dock.refresh_count > count, timeout=3000)
    finally:
        delete_now(window)


def test_pause_button_stops_refresh_and_resume_restarts_it(qtbot: QtBot, dock: InspectorDock,
                                                          source: FakeSource) -> None:
    dock.set_interval(100)
    dock.show()
    qtbot.waitUntil(lambda: dock.refresh_count >= 2, timeout=3000)

    QTest.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    assert dock.paused
    assert dock.pause_button.text() == "Resume"
    count, calls = dock.refresh_count, dict(source.calls)
    qtbot.wait(400)
    assert dock.refresh_count == count
    assert source.calls == calls

    QTest.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    assert not dock.paused
    qtbot.waitUntil(lambda: dock.refresh_count > count, timeout=3000)


def test_pause_while_hidden_stays_paused_when_shown(qtbot: QtBot, dock: InspectorDock) -> None:
    dock.set_interval(100)
    dock.pause()
    assert dock.pause_button.isChecked()
    dock.show()
    qtbot.wait(350)
    assert dock.refresh_count == 0
    assert not dock.timer_active


def test_interval_spin_box_sets_the_timer(dock: InspectorDock) -> None:
    dock.interval_spin.setValue(2500)
    assert dock.interval_ms == 2500
    dock.set_interval(5)  # clamped: a refresh every 5 ms would be the application's cost
    assert dock.interval_ms == 100
    assert dock.interval_spin.value() == 100


# -- docking ----------------------------------------------------------------------------------


def test_main_window_save_and_restore_state_round_trip(make_dock: MakeDock) -> None:
    window = QMainWindow()
    window.setCentralWidget(QLabel("application"))
    dock = make_dock(FakeSource(), window)
    assert dock.objectName() == OBJECT_NAME
    features = dock.features()
    for feature in (QDockWidget.DockWidgetFeature.DockWidgetClosable,
                    QDockWidget.DockWidgetFeature.DockWidgetMovable,
                    QDockWidget.DockWidgetFeature.DockWidgetFloatable):
        assert features & feature
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.show()
    state = window.saveState()

    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.restoreState(state)
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.LeftDockWidgetArea

    # The next run of the application: a new window and a new dock find their place.
    dock.close()
    closed_state = window.saveState()
    window2 = QMainWindow()
    window2.setCentralWidget(QLabel("application"))
    dock2 = make_dock(FakeSource(), window2)
    window2.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock2)
    window2.show()
    assert window2.restoreState(closed_state)
    assert window2.dockWidgetArea(dock2) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert dock2.isHidden()  # closed stays closed
    delete_now(window, window2)


def test_floating_dock_keeps_refreshing(qtbot: QtBot, make_dock: MakeDock) -> None:
    window = QMainWindow()
    window.setCentralWidget(QLabel("application"))
    dock = make_dock(FakeSource(), window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.set_interval(100)
    window.show()
    dock.setFloating(True)
    qtbot.waitUntil(dock.isVisible, timeout=3000)
    count = dock.refresh_count
    qtbot.waitUntil(lambda: dock.refresh_count > count + 1, timeout=3000)
    delete_now(window)


def test_deleting_the_dock_leaves_no_top_level_widgets(qapp: QApplication) -> None:
    def windows() -> dict[int, str]:
        return {shiboken6.getCppPointer(w)[0]: type(w).__name__
                for w in QApplication.topLevelWidgets()}

    before = windows()
    dock = InspectorDock(FakeSource())
    dock.show()
    dock.refresh()
    dock.setFloating(True)
    QApplication.processEvents()
    assert shiboken6.getCppPointer(dock)[0] in windows()  # the check sees what it should

    delete_now(dock)  # the Python reference stays alive, as a host's attribute would
    leaked = {p: name for p, name in windows().items() if p not in before}
    assert leaked == {}
    assert not shiboken6.isValid(dock)


# -- rendering --------------------------------------------------------------------------------


def test_renders_offscreen_with_plots_and_text(qtbot: QtBot, dock: InspectorDock,
                                               source: FakeSource) -> None:
    source.hist = make_history(120)
    dock.resize(1000, 900)
    dock.show()
    dock.refresh()
    QApplication.processEvents()
    assert distinct_colours(dock) > 50  # anti-aliased text, curves, tables: not blank
    assert distinct_colours(dock.plots) > 10
    assert count_near(dock.plots, "#42a5f5", 25) > 200  # the RSS curve is drawn
