"""Coordinators and the controller, with real QThreads, QTimers and QObject deletion."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThread, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QWidget

from inspector.resources import (
    BaseController,
    BaseResourceCoordinator,
    ResourceManagementService,
    ResourceType,
    UIResourceCoordinator,
    WorkerResourceCoordinator,
    orphaned_workers,
)
from inspector.resources.workers import request_stop, wait_for
from tests.conftest import pump, python_env


class Owner:
    pass


class Thing:
    pass


class CooperativeWorker(QThread):
    """Stops when cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def run(self) -> None:
        while not self.cancelled.wait(0.005):
            pass


class InterruptibleWorker(QThread):
    """No cancel(): honours requestInterruption()."""

    def run(self) -> None:
        while not self.isInterruptionRequested():
            self.msleep(5)


class StubbornWorker(QThread):
    """Ignores cancellation until released by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def cancel(self) -> None:
        pass  # ignores the request, as a buggy worker would

    def run(self) -> None:
        self.release.wait(10)


class EventLoopWorker(QThread):
    """Runs an event loop: quit() stops it."""

    def run(self) -> None:
        self.exec()


W = TypeVar("W", bound=QThread)


def started(worker: W) -> W:
    worker.start()
    deadline = time.monotonic() + 5
    while not worker.isRunning() and time.monotonic() < deadline:
        time.sleep(0.001)
    return worker


def process_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


# -- BaseResourceCoordinator -------------------------------------------------------------


def test_bind_registers_component_and_cleanup(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("OwnerX", service).bind_to_component(owner)
    assert service.component_id(owner) == "OwnerX"
    closed: list[Thing] = []
    thing = Thing()
    handle = coord.track(thing, ResourceType.CUSTOM, name="thing", cleanup=closed.append,
                         size_bytes=12, extra="yes")
    assert handle.resource_ref() is thing
    assert handle.name == "thing"
    assert handle.component_id == "OwnerX"
    assert handle.metadata["extra"] == "yes"
    assert service.get_statistics()["tracked_bytes"] == 12
    assert service.cleanup_component(owner) == 1
    assert closed == [thing]
    assert coord.handles() == []


def test_track_without_component_raises(service: ResourceManagementService) -> None:
    coord = BaseResourceCoordinator("Unbound", service)
    with pytest.raises(RuntimeError, match="Unbound"):
        coord.track(Thing())
    owner = Owner()
    coord.bind_to_component(owner)
    del owner
    gc.collect()
    with pytest.raises(RuntimeError, match="no longer exists"):
        coord.track(Thing())


def test_default_cleanups_close_files_and_stop_timers(
    service: ResourceManagementService, tmp_path: Any
) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("Files", service).bind_to_component(owner)
    f = open(tmp_path / "x.txt", "w")  # noqa: SIM115 (the coordinator closes it)
    timer = QTimer()
    timer.start(1000)
    coord.track(f, ResourceType.FILE_HANDLE)
    coord.track(timer, ResourceType.TIMER)
    coord.track(Thing(), ResourceType.CUSTOM, auto_cleanup=False)
    assert coord.cleanup_all() == 2  # the third was collected already
    assert f.closed
    assert not timer.isActive()


def test_release_one_with_and_without_cleanup(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("R", service).bind_to_component(owner)
    seen: list[object] = []
    a, b = Thing(), Thing()
    ha = coord.track(a, cleanup=seen.append)
    hb = coord.track(b, cleanup=seen.append)
    assert coord.release(ha.resource_id) is True
    assert coord.release(hb.resource_id, run_cleanup=True) is True
    assert coord.release(hb.resource_id) is False
    assert seen == [b]


def test_cleanup_handler_exception_is_isolated(
    service: ResourceManagementService, caplog: pytest.LogCaptureFixture
) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("E", service).bind_to_component(owner)
    seen: list[object] = []

    def bad(_: object) -> None:
        raise OSError("disk gone")

    things = [Thing(), Thing()]
    coord.track(things[0], cleanup=bad)
    coord.track(things[1], cleanup=seen.append)
    with caplog.at_level(logging.ERROR, logger="inspector.resources"):
        assert coord.cleanup_all() == 2
    assert seen == [things[1]]
    assert "E" in caplog.text


def test_statistics_and_pruning_of_collected_resources(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("S", service).bind_to_component(owner)
    keep = [Thing() for _ in range(3)]
    for k in keep:
        coord.track(k, ResourceType.CACHE)
    for _ in range(200):  # collected at once: the table must not grow without bound
        coord.track(Thing(), ResourceType.MEMORY)
    stats = coord.get_statistics()
    assert stats == {"component_id": "S", "tracked": 3, "by_type": {"cache": 3}}
    assert len(coord._entries) < 200


def test_coordinator_dies_with_its_component(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("D", service).bind_to_component(owner)
    ref = weakref.ref(coord)
    owner.coord = coord  # type: ignore[attr-defined]
    del coord
    del owner
    gc.collect()
    assert ref() is None


def test_a_coordinator_collected_on_a_worker_thread_cleans_up_on_the_main_thread(
        service: ResourceManagementService, caplog: pytest.LogCaptureFixture) -> None:
    """The last reference to an owner (and its coordinator) may drop on any thread; Qt
    lets a timer be stopped only from its own thread, so the cleanup is handed over."""
    owner = Owner()
    coord = BaseResourceCoordinator("X", service).bind_to_component(owner)
    owner.coord = coord  # type: ignore[attr-defined]
    timer = QTimer()
    timer.start(1000)
    ran_on: list[int] = []

    def stop(t: QTimer) -> None:
        ran_on.append(threading.get_ident())
        t.stop()

    coord.track(timer, ResourceType.TIMER, cleanup=stop)
    ref = weakref.ref(coord)
    box = [owner]
    del owner, coord
    dropper = threading.Thread(target=box.clear)  # the last references go on this thread
    dropper.start()
    dropper.join()
    assert ref() is not None  # held by the call queued to the main thread
    assert ran_on == []
    assert timer.isActive()
    QCoreApplication.sendPostedEvents()
    assert ran_on == [threading.get_ident()]
    assert not timer.isActive()
    assert ref() is None
    assert service.get_statistics()["live_resources"] == 0
    assert "another thread" not in caplog.text


def test_a_plain_owner_collected_on_a_worker_thread_is_cleaned_once_by_loop_or_exit(
        service: ResourceManagementService) -> None:
    """Its cleanup waits for the main loop; an exit-time cleanup_all() that comes first runs
    it instead, and the queued call then finds nothing to do."""
    ran_on: list[int] = []
    owner = Owner()
    service.register_cleanup(owner, lambda: ran_on.append(threading.get_ident()))
    service.track_resource(owner, ResourceType.CUSTOM, [1])
    box = [owner]
    del owner
    dropper = threading.Thread(target=box.clear)
    dropper.start()
    dropper.join()
    assert ran_on == []
    assert service.get_statistics()["live_resources"] == 1  # true until the cleanup runs
    assert service.cleanup_all() == 1
    QCoreApplication.sendPostedEvents()
    assert ran_on == [threading.get_ident()]
    assert service.get_statistics()["live_resources"] == 0
    assert service.store._deferred == {}


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
def test_a_failing_cleanup_at_collection_is_logged_never_raised(
        service: ResourceManagementService, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    owner = Owner()  # alive throughout: the coordinator dies alone, as with a Qt owner
    coord = BaseResourceCoordinator("F", service).bind_to_component(owner)
    coord.track([1], ResourceType.CUSTOM)

    def broken(component: object, resource_id: str) -> bool:
        raise RuntimeError("the service is gone")

    monkeypatch.setattr(service, "release_resource", broken)
    box = [coord]
    del coord
    with caplog.at_level(logging.ERROR, logger="inspector.resources"):
        if where == "main thread":
            box.clear()
        else:
            dropper = threading.Thread(target=box.clear)
            dropper.start()
            dropper.join()
        assert "the service is gone" not in caplog.text  # not run inside the drop: queued
        pump(lambda: "the service is gone" in caplog.text, 5.0)
    assert "the service is gone" in caplog.text
    assert "a call handed to the main thread failed" in caplog.text


def test_a_coordinator_collected_on_the_main_thread_cleans_up_at_the_next_loop_turn(
        service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("Y", service).bind_to_component(owner)
    owner.coord = coord  # type: ignore[attr-defined]
    timer = QTimer()
    timer.start(1000)
    coord.track(timer, ResourceType.TIMER)
    del owner, coord
    assert timer.isActive()  # nothing ran inside the frame that dropped them
    pump(lambda: not timer.isActive(), 5.0)
    assert not timer.isActive()
    assert service.get_statistics()["live_resources"] == 0


# -- WorkerResourceCoordinator -------------------------------------------------------------


def test_cancel_all_workers_really_stops_them(service: ResourceManagementService) -> None:
    owner = QObject()
    coord = WorkerResourceCoordinator("W", service).bind_to_component(owner)
    workers = [started(CooperativeWorker()), started(InterruptibleWorker()),
               started(EventLoopWorker())]
    for w in workers:
        coord.track_worker(w)
    assert len(coord.active_workers()) == 3
    began = time.monotonic()
    assert coord.cancel_all_workers(timeout_ms=3000) is True
    assert time.monotonic() - began < 1.0
    assert not any(w.isRunning() for w in workers)
    assert coord.active_workers() == []


def test_cancel_all_workers_times_out_on_a_stubborn_worker(
    service: ResourceManagementService,
) -> None:
    owner = QObject()
    coord = WorkerResourceCoordinator("W2", service).bind_to_component(owner)
    stubborn = started(StubbornWorker())
    coord.track_worker(stubborn)
    began = time.monotonic()
    assert coord.cancel_all_workers(timeout_ms=200) is False
    assert 0.15 < time.monotonic() - began < 2.0
    stubborn.release.set()
    assert stubborn.wait(5000)


def test_cleanup_orphans_a_stubborn_worker_instead_of_terminating(
    service: ResourceManagementService, caplog: pytest.LogCaptureFixture
) -> None:
    owner = QObject()
    coord = WorkerResourceCoordinator("W3", service, stop_timeout_ms=100)
    coord.bind_to_component(owner)
    stubborn = started(StubbornWorker())
    coord.track_worker(stubborn)
    with caplog.at_level(logging.WARNING, logger="inspector.resources"):
        service.cleanup_component(owner)
    assert stubborn.isRunning()  # not terminated
    assert stubborn in orphaned_workers()
    assert "orphaned" in caplog.text
    del stubborn  # the holding area keeps it alive while it runs: no "destroyed while running"
    gc.collect()
    (worker,) = [w for w in orphaned_workers() if isinstance(w, StubbornWorker)]
    worker.release.set()
    assert worker.wait(5000)
    assert worker not in orphaned_workers()


def test_terminate_only_when_allowed_and_logged() -> None:
    # terminate() on a thread running Python code leaves a dangling thread state that crashes
    # whatever walks the thread list later, so this runs in a process of its own. It also
    # checks that the inspector then refuses to read other threads' stacks instead.
    # The worker ignores cancellation in one long C++ sleep with the GIL released: a worker
    # cancelled while it waits for the GIL (a loop of short sleeps) dies holding the GIL's
    # mutex and hangs the process (seen here: 2 runs in 3 under load).
    script = textwrap.dedent("""
        import logging, sys
        from PySide6.QtCore import QCoreApplication, QObject, QThread
        from inspector.resources import ResourceManagementService, WorkerResourceCoordinator
        from inspector.resources.orphans import thread_was_terminated
        from inspector.metrics.stacks import UNREADABLE, thread_stacks
        logging.basicConfig(level=logging.ERROR, stream=sys.stdout)
        app = QCoreApplication([])
        service = ResourceManagementService()
        owner = QObject()
        coord = WorkerResourceCoordinator("W4", service, stop_timeout_ms=50,
                                          allow_terminate=True).bind_to_component(owner)

        class Spin(QThread):
            def run(self):
                QThread.setTerminationEnabled(True)
                self.sleep(3600)

        spin = Spin()
        spin.start()
        while not spin.isRunning():
            pass
        coord.track_worker(spin)
        assert not thread_was_terminated()
        coord.cleanup_all()
        assert spin.wait(5000)
        assert thread_was_terminated()
        assert all(stack == UNREADABLE for stack in thread_stacks().values())
        print("DONE")
    """)
    done = subprocess.run(  # noqa: PLW1510 (the exit status is asserted)
        [sys.executable, "-c", script], env=python_env(), capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "terminating" in done.stdout
    assert done.stdout.strip().endswith("DONE")


def test_worker_coordinator_dropped_without_cleanup_hands_running_workers_over(
    service: ResourceManagementService,
) -> None:
    owner = Owner()
    coord = WorkerResourceCoordinator("W5", service).bind_to_component(owner)
    worker = started(StubbornWorker())
    coord.track_worker(worker)
    release = worker.release
    del worker, coord
    gc.collect()
    pump(lambda: any(isinstance(w, StubbornWorker) for w in orphaned_workers()), 5.0)
    held = [w for w in orphaned_workers() if isinstance(w, StubbornWorker)]
    assert len(held) == 1
    release.set()
    assert held[0].wait(5000)


class LockedCancelWorker(QThread):
    """A worker whose cancel() takes a lock of the application's; runs until cancelled."""

    def __init__(self, lock: Any) -> None:
        super().__init__()
        self.lock = lock
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        with self.lock:
            self.cancelled.set()

    def run(self) -> None:
        self.cancelled.wait(10)


def test_a_dropped_worker_coordinator_cancels_its_workers_after_the_dropping_frame(
    service: ResourceManagementService,
) -> None:
    lock = threading.Lock()
    owner = Owner()
    coord = WorkerResourceCoordinator("W7", service).bind_to_component(owner)
    worker = started(LockedCancelWorker(lock))
    coord.track_worker(worker)
    cancelled = worker.cancelled
    ref = weakref.ref(worker)
    with lock:  # the dropping frame holds the lock the worker's cancel() needs
        del worker, coord
        gc.collect()  # called inside the finaliser, cancel() would wait here for ever
        assert not cancelled.is_set()
    pump(cancelled.is_set, 5.0)
    assert cancelled.is_set()

    def ended() -> bool:
        alive = ref()
        return alive is None or alive.isFinished()

    pump(ended, 5.0)  # held while it ran: a QThread destroyed running would abort us
    assert ended()


def test_finished_workers_are_let_go(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = WorkerResourceCoordinator("W6", service).bind_to_component(owner)

    class Quick(QThread):
        def run(self) -> None:
            pass

    quick = Quick()
    ref = weakref.ref(quick)
    coord.track_worker(quick)
    quick.start()
    assert quick.wait(5000)
    del quick
    coord.active_workers()  # lets go of finished workers
    gc.collect()
    assert ref() is None
    assert service.get_statistics()["by_type"]["worker"]["live"] == 0


def test_python_threads_are_workers_too(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = WorkerResourceCoordinator("W7", service).bind_to_component(owner)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, args=(10,))
    thread.cancel = stop.set  # type: ignore[attr-defined]
    thread.start()
    coord.track_worker(thread)
    assert len(coord.active_workers()) == 1
    assert coord.cancel_all_workers(2000)
    assert not thread.is_alive()


def test_request_stop_and_wait_on_deleted_qthread_do_not_raise(qapp: Any) -> None:
    worker = QThread()
    worker.deleteLater()
    process_deletes()
    request_stop(worker)
    assert wait_for(worker, 0.1) is True


# -- UIResourceCoordinator -------------------------------------------------------------------


def test_ui_coordinator_tracks_sizes_and_closes(service: ResourceManagementService) -> None:
    owner = QObject()
    coord = UIResourceCoordinator("Tab", service).bind_to_component(owner)
    widget = QWidget()
    widget.show()
    timer = QTimer()
    timer.start(50)
    image = QImage(64, 32, QImage.Format.Format_ARGB32)
    pixmap = QPixmap(10, 10)
    coord.track_widget(widget, "panel")
    coord.track_timer(timer)
    coord.track_pixmap(pixmap, "px")
    thumb = coord.track_thumbnail("a.jpg", image)
    coord.track_cache({}, "lru", size_bytes=100)
    stats = service.get_statistics()["by_type"]
    assert stats["thumbnail"]["bytes"] == 64 * 32 * 4
    assert stats["memory"]["bytes"] == 10 * 10 * pixmap.depth() // 8
    assert stats["cache"]["bytes"] == 100
    assert thumb.metadata["name"] == "a.jpg"
    coord.cleanup_all()
    assert not widget.isVisible()
    assert not timer.isActive()
    process_deletes()
    assert service.get_statistics()["live_resources"] == 0


# -- BaseController ----------------------------------------------------------------------------


class AnalysisController(BaseController):
    def _create_resource_coordinator(
        self, component_id: str, service: Any
    ) -> WorkerResourceCoordinator:
        return WorkerResourceCoordinator(component_id, service)


def test_controller_ids_and_cleanup(service: ResourceManagementService) -> None:
    a = AnalysisController(service=service)
    b = AnalysisController(service=service)
    assert a.component_id.startswith("AnalysisController#")
    assert a.component_id != b.component_id
    assert isinstance(a.resources, WorkerResourceCoordinator)
    worker = started(CooperativeWorker())
    a.resources.track_worker(worker)
    assert a.cleanup() == 1
    assert not worker.isRunning()


def test_controller_destroyed_cleans_up(service: ResourceManagementService) -> None:
    ctl = BaseController("Named", service=service)
    ctl.resources.track([1, 2, 3], ResourceType.CUSTOM)
    assert service.get_statistics()["by_component"]["Named"]["live"] == 1
    ctl.deleteLater()
    process_deletes()
    pump(lambda: service.get_statistics()["live_resources"] == 0, 5.0)
    assert service.get_statistics()["components"] == 0
    assert service.get_statistics()["live_resources"] == 0


def test_coordinator_rearms_after_cleanup(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("Again", service).bind_to_component(owner)
    closed: list[object] = []
    first, second = Thing(), Thing()
    coord.track(first, cleanup=closed.append)
    assert service.cleanup_component(owner) == 1
    assert service.cleanup_component(owner) == 0  # nothing left, callback consumed
    coord.track(second, cleanup=closed.append)  # owns something again: re-armed
    del owner
    gc.collect()
    pump(lambda: len(closed) == 2, 5.0)
    assert closed == [first, second]


def test_cleanup_skips_resources_already_gone(service: ResourceManagementService) -> None:
    owner = Owner()
    coord = BaseResourceCoordinator("Gone", service).bind_to_component(owner)
    seen: list[object] = []
    coord.track(Thing(), cleanup=seen.append)  # collected at once; its entry stays a while
    gc.collect()
    coord.cleanup_all()
    assert seen == []


def test_finished_python_threads_and_deleted_qthreads_are_let_go(
    service: ResourceManagementService,
) -> None:
    owner = Owner()
    coord = WorkerResourceCoordinator("W8", service).bind_to_component(owner)
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    qthread = QThread()
    coord.track_worker(thread)
    coord.track_worker(qthread)
    qthread.deleteLater()
    process_deletes()  # its wrapper now raises RuntimeError when asked
    coord.active_workers()
    assert coord._workers == {}
