"""What the tracker keeps of each object it follows, and their rows in a snapshot, on real
widgets, timers and threads."""

from __future__ import annotations

import time
import weakref

import pytest
from PySide6.QtCore import QObject, QThread, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMenu, QWidget

from inspector.metrics.listing import resource_page
from inspector.reach import hooks, records
from inspector.reach.records import Seen, Window, is_window, object_rows, track, window_of
from inspector.resources import ResourceManagementService, ResourceType


def seen(kind: str, obj: QObject, now: float) -> Seen:
    return Seen(kind, weakref.ref(obj), f"{kind}-{id(obj)}", "Owner", None, None,
                type(obj).__name__, "name", "site", now)


def test_windows_are_what_a_user_calls_windows(qapp: QApplication) -> None:
    main = QMainWindow()
    dialog = QDialog(main)
    inner = QWidget(main)
    assert is_window(main)
    assert is_window(dialog)
    assert not is_window(inner)
    assert not is_window(QMenu())  # a popup
    assert not is_window(QObject())
    assert not is_window(object())


def test_an_object_lives_under_the_window_of_its_parent_chain(qapp: QApplication) -> None:
    main = QMainWindow()
    inner = QWidget(main)
    timer = QTimer(inner)
    assert window_of(main) is main
    assert window_of(inner) is main
    assert window_of(timer) is main
    assert window_of(QTimer()) is None
    assert window_of(QTimer(QObject())) is None


def test_rows_say_each_objects_state_now(qapp: QApplication) -> None:
    now = time.monotonic()
    active, stopped = QTimer(), QTimer()
    active.start(250)
    stopped.setInterval(40)
    thread = QThread()
    gone = QTimer()
    rows_of = [seen(hooks.TIMER, active, now - 2.0), seen(hooks.TIMER, stopped, now),
               seen(hooks.THREAD, thread, now), seen(hooks.TIMER, gone, now)]
    del gone  # its wrapper and C++ object go: the row says deleted
    shown = Window(lambda: None, "Editor", 1, "Editor#1", "app.py:3", now - 5.0)
    shown.shown_at, shown.title = now, "notes.txt"
    closed = Window(lambda: None, "Report", 1, "Report#1", "", now)
    closed.shown_at, closed.closed_at = now, now
    hidden = Window(lambda: None, "Report", 2, "Report#2", "", now)
    try:
        rows = object_rows(rows_of, [shown, closed, hidden], now)
    finally:
        active.stop()
    states = [(r.kind, r.class_name, r.state, r.interval_ms) for r in rows]
    assert states == [("timer", "QTimer", "active", 250), ("timer", "QTimer", "stopped", 40),
                      ("thread", "QThread", "not started", 0), ("timer", "QTimer", "deleted", 0),
                      ("window", "Editor", "shown", 0), ("window", "Report", "closed", 0),
                      ("window", "Report", "hidden", 0)]
    assert rows[0].age_s == 2.0
    assert (rows[4].name, rows[4].site, rows[4].age_s) == ("notes.txt", "app.py:3", 5.0)


def test_rows_are_the_newest_few(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "OBJECT_ROWS", 2)
    now = time.monotonic()
    windows = [Window(lambda: None, "Tab", n, f"Tab#{n}", "", now) for n in range(5)]
    assert [r.component_id for r in object_rows([], windows, now)] == ["Tab#3", "Tab#4"]


def test_track_records_the_qt_class_for_the_owner(service: ResourceManagementService) -> None:
    owner = records.ClassOwner("Loader")
    service.register_component(owner, "Loader", "class")
    timer = QTimer()
    rid = track(service, owner, ResourceType.TIMER, timer, name="poll", site="load (x.py:1)",
                qt_class="QTimer")
    (row,) = resource_page(service, 0, 10, "Loader").items
    assert row.resource_id == rid
    assert (row.name, row.site) == ("poll", "load (x.py:1)")
    assert row.metadata is not None
    assert row.metadata["qt_class"] == "QTimer"
