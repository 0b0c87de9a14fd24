"""The event-loop probe on a real QCoreApplication: its QTimer heartbeat, the lag read from
other threads, and the GUI thread's stack while it is blocked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QTimer

from inspector.metrics import MetricsModel, Snapshot
from inspector.metrics import probe as probe_module
from inspector.metrics.probe import LoopProbe
from inspector.resources import ResourceManagementService

from .helpers import pump


@pytest.fixture
def probe(qapp: Any) -> Iterator[LoopProbe]:
    p = LoopProbe(interval_ms=20, threshold_ms=100.0)
    yield p
    p.stop()


def test_the_heartbeat_installs_only_on_the_applications_thread(probe: LoopProbe) -> None:
    answers: list[bool] = []
    other = threading.Thread(target=lambda: answers.append(probe.start()))
    other.start()
    other.join(5)
    assert answers == [False]
    assert not probe.running
    assert probe.gui_ident is None
    assert probe.start()
    assert probe.running
    assert probe.gui_ident == threading.get_ident()
    assert probe.start()  # idempotent


def test_the_beat_follows_the_turning_loop_and_lag_is_zero_on_time(probe: LoopProbe) -> None:
    assert probe.lag_ms() == 0.0  # no heartbeat: no lag
    probe.start()
    pump(lambda: probe.beat.base is not None, 5)
    assert probe.beat.base is not None
    first = probe.beat.last
    pump(lambda: probe.beat.last > first, 5)
    assert probe.beat.last > first
    last = probe.beat.last
    # Within one and a half intervals the loop is on time; past that, lag is the time since.
    assert probe.lag_ms(last + 0.025) == 0.0
    assert probe.lag_ms(last + 1.0) == pytest.approx(1000.0)


def stuck_in_a_named_function(read: list[Any]) -> None:
    # The GUI thread does not turn its loop until the reader has what it came for. It checks
    # a list, not an Event: Event.is_set() is a Python frame, and a sample taken inside it
    # would (rightly) name threading.py as the innermost frame.
    deadline = time.monotonic() + 10
    while not read and time.monotonic() < deadline:
        pass


def test_a_blocked_loop_is_read_from_another_thread_with_its_stack(probe: LoopProbe) -> None:
    probe.start()
    pump(lambda: probe.beat.base is not None, 5)
    assert probe.read() == (0.0, False, [])  # on time: no stack is taken
    read: list[tuple[float, bool, list[str]]] = []

    def reader() -> None:
        deadline = time.monotonic() + 10
        while probe.lag_ms() <= 150 and time.monotonic() < deadline:
            time.sleep(0.005)
        read.append(probe.read())

    thread = threading.Thread(target=reader)
    thread.start()
    stuck_in_a_named_function(read)
    thread.join(5)
    ((lag, blocked, stack),) = read
    assert lag > 100.0
    assert blocked
    assert stack[-1].startswith("stuck_in_a_named_function (")  # innermost last
    assert not any(probe_module.__file__ in frame for frame in stack)  # not the heartbeat
    pump(lambda: probe.lag_ms() == 0.0, 5)
    assert probe.read() == (0.0, False, [])


def test_stop_removes_the_heartbeat(probe: LoopProbe) -> None:
    probe.start()
    pump(lambda: probe.beat.base is not None, 5)
    probe.stop()
    assert not probe.running
    # The timer goes with deleteLater() (stop may run on any thread); a running loop
    # deletes it on its next turn, as this does.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    last = probe.beat.last
    pump(lambda: False, 0.2)  # ten intervals: a live timer would have beaten
    assert probe.beat.last == last
    assert probe.lag_ms() == 0.0
    assert probe.read() == (0.0, False, [])
    assert probe.start()  # and it can be installed again
    pump(lambda: probe.beat.last > last, 5)
    assert probe.beat.last > last


def test_lag_and_gui_stack_while_the_gui_thread_sleeps(
    qapp: Any, service: ResourceManagementService
) -> None:
    model = MetricsModel(service, probe_interval_ms=20, lag_threshold_ms=200)
    model.start()
    seen: list[Snapshot] = []

    def freeze_for_a_while() -> None:
        time.sleep(0.8)

    def watch() -> None:
        time.sleep(0.5)
        seen.append(model.snapshot())

    try:
        app = QCoreApplication.instance()
        assert app is not None
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:  # let the heartbeat run
            app.processEvents()
        assert model.snapshot().event_loop_lag_ms == 0.0
        watcher = threading.Thread(target=watch)
        watcher.start()
        QTimer.singleShot(0, freeze_for_a_while)
        deadline = time.monotonic() + 2
        while watcher.is_alive() and time.monotonic() < deadline:
            app.processEvents()
        watcher.join()
        (frozen,) = seen
        assert frozen.event_loop_lag_ms > 200
        assert frozen.event_loop_blocked
        assert any(frame.startswith("freeze_for_a_while (") for frame in frozen.gui_stack)
        assert frozen.gui_stack[-1].startswith("freeze_for_a_while")  # innermost last
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            app.processEvents()
        after = model.snapshot()
        assert after.event_loop_lag_ms == 0.0
        assert after.gui_stack == []
    finally:
        model.close()
