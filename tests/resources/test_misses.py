"""Planted defects the inspector used to miss: each test here failed before it was fixed."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

from inspector.metrics import MetricsModel
from inspector.metrics.snapshot import LeakSuspect, WhyResult
from inspector.metrics.suspects import SuspectPolicy
from inspector.resources import (
    BaseResourceCoordinator,
    ResourceManagementService,
    ResourceType,
    WorkerResourceCoordinator,
)

FAST = SuspectPolicy(retained_after_s=0.2, orphan_grace_s=0.1)


def await_true(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def model(service: ResourceManagementService) -> Iterator[MetricsModel]:
    m = MetricsModel(service, app="misses", policy=FAST)
    yield m
    m.close()


class Stubborn(QThread):
    """A worker that ignores cancellation until ``release`` is set."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release

    def run(self) -> None:
        self.release.wait(30)


class Controller(QObject):
    def __init__(self, service: ResourceManagementService) -> None:
        super().__init__()
        self.resources = WorkerResourceCoordinator("Scanner#1", service).bind_to_component(self)


def _suspects(model: MetricsModel, reason: str) -> list[LeakSuspect]:
    return [s for s in model.leak_suspects() if s.reason == reason]


def test_a_worker_left_running_by_a_deleted_controller_is_an_orphan(
        service: ResourceManagementService, model: MetricsModel) -> None:
    release = threading.Event()
    worker = Stubborn(release)
    controller = Controller(service)
    rid = controller.resources.track_worker(worker, name="scan").resource_id
    worker.start()
    del worker
    try:
        del controller  # no cleanup(): the controller just goes
        gc.collect()
        assert await_true(lambda: bool(_suspects(model, "orphan_worker")))
        (orphan,) = _suspects(model, "orphan_worker")
        assert (orphan.component_id, orphan.resource_type, orphan.resource_id) == (
            "Scanner#1", "worker", rid)
        assert orphan.name == "scan"
        assert orphan.site.startswith("test_a_worker_left_running_by_a_deleted_controller")
        snap = model.snapshot()
        assert snap.active_workers == 1
        assert [(w.resource_id, w.running) for w in snap.workers] == [(rid, True)]
    finally:
        release.set()
    assert await_true(lambda: model.snapshot().active_workers == 0)
    assert _suspects(model, "orphan_worker") == []


_WRAPPERS: list[object] = []


def test_a_timer_whose_cpp_object_is_deleted_is_not_reported_alive(
        service: ResourceManagementService, model: MetricsModel) -> None:
    import shiboken6

    owner = QObject()
    service.register_component(owner, "Dialog#1")
    timer = QTimer()
    rid = service.track_resource(owner, ResourceType.TIMER, timer)
    _WRAPPERS.append(timer)  # the wrapper stays referenced; its C++ object will not
    service.register_cleanup(owner, lambda: shiboken6.delete(timer))
    try:
        service.cleanup_component(owner)
        assert not shiboken6.isValid(timer)
        later = time.monotonic() + 10  # well past the age at which a suspect would show
        assert [s for s in model.leak_suspects(later) if s.resource_id == rid] == []
    finally:
        _WRAPPERS.clear()


class Handle:
    def close(self) -> None:
        raise OSError("disk full")


def test_a_failing_resource_cleanup_is_in_the_audit_and_stays_there(
        service: ResourceManagementService) -> None:
    model = MetricsModel(service, app="misses", audit_size=5)
    try:
        owner = QObject()
        coordinator = BaseResourceCoordinator("Editor#1", service).bind_to_component(owner)
        handle = Handle()
        rid = coordinator.track(handle, ResourceType.FILE_HANDLE, name="log.txt").resource_id
        assert service.cleanup_component(owner) == 1  # released all the same
        for n in range(20):  # routine teardowns after it
            other = QObject()
            BaseResourceCoordinator(f"Tab#{n}", service).bind_to_component(other)
            service.cleanup_component(other)
        failing = [a for a in model.snapshot().audits
                   if any(c.error for c in a.callbacks)]
        assert [a.component_id for a in failing] == ["Editor#1"]
        (error,) = [c.error for c in failing[0].callbacks if c.error]
        assert rid in error
        assert "log.txt" in error
        assert "OSError: disk full" in error
    finally:
        model.close()


_MODULE_LIST: list[object] = []


def test_a_released_object_that_cannot_be_weakly_referenced_is_watched(
        service: ResourceManagementService, model: MetricsModel) -> None:
    owner = QObject()
    service.register_component(owner, "Importer#1")
    kept = bytearray(1000)
    _MODULE_LIST.append(kept)
    kept_rid = service.track_resource(owner, ResourceType.MEMORY, kept, 1000)
    dropped_rid = service.track_resource(owner, ResourceType.MEMORY, {"rows": [1, 2]}, 10)
    del kept
    try:
        service.cleanup_component(owner)
        later = time.monotonic() + 10
        rids = {s.resource_id for s in model.leak_suspects(later)}
        assert kept_rid in rids
        assert dropped_rid not in rids
        _MODULE_LIST.clear()  # now only the watch holds it: the next read lets it go
        assert kept_rid not in {s.resource_id for s in model.leak_suspects(later)}
        assert service.watched() == []
    finally:
        _MODULE_LIST.clear()


def test_finished_runnables_are_not_kept_alive_or_counted(
        service: ResourceManagementService, model: MetricsModel) -> None:
    import weakref

    from PySide6.QtCore import QRunnable, QThreadPool

    class Job(QRunnable):
        def run(self) -> None:
            pass

    controller = Controller(service)
    pool = QThreadPool()
    refs = []
    for _ in range(20):
        job = Job()  # auto-deleted by the pool once it ran
        refs.append(weakref.ref(job))
        controller.resources.track_worker(job)
        pool.start(job)
        del job
    assert pool.waitForDone(10_000)
    del pool
    gc.collect()
    # PySide may still hold a finished runnable's wrapper for a while; no dict of ours may.
    for ref in refs:
        alive = ref()
        if alive is not None:
            assert [type(x).__name__ for x in gc.get_referrers(alive)
                    if isinstance(x, dict)] == []
        del alive
    assert controller.resources.active_workers() == []
    assert model.snapshot().active_workers == 0
    controller.deleteLater()


def test_cleaning_up_a_stuck_worker_does_not_block_the_gui_thread(
        service: ResourceManagementService, qapp: object) -> None:
    from inspector.resources import orphaned_workers

    release = threading.Event()
    owner = QObject()
    coord = WorkerResourceCoordinator("Scanner#2", service, stop_timeout_ms=5000)
    coord.bind_to_component(owner)
    worker = Stubborn(release)
    worker.start()
    coord.track_worker(worker)
    try:
        began = time.monotonic()
        service.cleanup_component(owner)  # on the main (GUI) thread
        assert time.monotonic() - began < 2.5  # not the 5 s stop timeout
        assert worker.isRunning()
        assert worker in orphaned_workers()  # held until it ends, never destroyed running
    finally:
        release.set()
    assert worker.wait(10_000)
    assert await_true(lambda: worker not in orphaned_workers())


def test_why_looks_past_the_watch_of_a_released_bytearray(
        service: ResourceManagementService, model: MetricsModel) -> None:
    owner = QObject()
    service.register_component(owner, "Importer#2")
    kept = bytearray(100)
    _MODULE_LIST.append(kept)
    rid = service.track_resource(owner, ResourceType.MEMORY, kept, 100)
    del kept
    try:
        service.cleanup_component(owner)
        chain = model.why(rid).chain
        assert (chain[0].kind, chain[0].name) == ("module global", f"{__name__}._MODULE_LIST")
        assert chain[-1].name == "bytearray"
    finally:
        _MODULE_LIST.clear()


def test_why_sees_holders_in_a_frozen_heap_and_never_thaws_it(
        service: ResourceManagementService, model: MetricsModel) -> None:
    """An application that froze its start-up heap: the module's list holding the object is
    frozen (invisible to gc.get_referrers), and the search, on another thread as the
    server's helper thread runs it, must neither miss it nor thaw the heap."""
    owner = QObject()
    service.register_component(owner, "Viewer#1")
    kept = bytearray(100)
    _MODULE_LIST.append(kept)
    rid = service.track_resource(owner, ResourceType.MEMORY, kept, 100)
    del kept
    results: list[object] = []
    gc.freeze()
    try:
        sentinel = object()
        probe = [sentinel]  # made after the freeze: young, seen by gc.get_referrers
        # A bound no working search meets (a loaded machine must not cut it short).
        helper = threading.Thread(target=lambda: results.append(model.why(rid, budget_s=30)))
        helper.start()
        helper.join(30)
        assert not helper.is_alive()
        # A thaw and re-freeze would have frozen the probe with everything made since.
        assert any(r is probe for r in gc.get_referrers(sentinel))
    finally:
        gc.unfreeze()
        _MODULE_LIST.clear()
    result = results[0]
    assert isinstance(result, WhyResult)
    assert result.complete
    chain = result.chain
    assert (chain[0].kind, chain[0].name) == ("module global", f"{__name__}._MODULE_LIST")
    assert [link.kind for link in chain[1:]] == ["list item", "object"]
