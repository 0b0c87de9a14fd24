"""The metrics model against a real service, real QThreads and a real event loop."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThread

from inspector.metrics import (
    GROWTH,
    ORPHAN_WORKER,
    RETAINED_AFTER_CLEANUP,
    SCHEMA,
    MetricsModel,
    Snapshot,
)
from inspector.metrics.snapshot import json_schema
from inspector.resources import (
    BaseController,
    LifecycleEvent,
    ResourceManagementService,
    ResourceType,
    StoreAggregate,
    StoreReader,
    WatchedResource,
    WorkerResourceCoordinator,
    WorkerState,
)
from inspector.resources.interfaces import OrphanReader

from .helpers import FAST, Owner, Thing, pump

SCHEMA_FILE = (__import__("pathlib").Path(__file__).resolve().parents[2]
               / "src" / "inspector" / "metrics" / "snapshot.schema.json")


@pytest.fixture
def model(service: ResourceManagementService) -> Iterator[MetricsModel]:
    m = MetricsModel(service, app="test-app", policy=FAST)
    yield m
    m.close()


def validate(snapshot: Snapshot) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(snapshot.to_json())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    return data


def test_committed_schema_matches_the_structs() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_snapshot_counts_types_components_and_cache(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    cache_owner, ui = Owner(), Owner()
    service.register_component(cache_owner, "CacheOwner", "controller")
    service.register_component(ui, "UI", "tab")
    keep = [Thing() for _ in range(5)]
    for t in keep[:3]:
        service.track_resource(cache_owner, ResourceType.THUMBNAIL, t, 1000)
    service.track_resource(cache_owner, ResourceType.CACHE, keep[3], 5000)
    rid = service.track_resource(ui, ResourceType.WIDGET, keep[4], 10)
    service.release_resource(ui, rid)
    snap = model.snapshot()
    data = validate(snap)
    assert data["schema"] == SCHEMA
    assert (snap.created_total, snap.destroyed_total, snap.live_resources) == (5, 1, 4)
    assert snap.tracked_bytes == 8000
    assert snap.peak_tracked_bytes == 8010
    assert (snap.cache_bytes, snap.cache_entries) == (8000, 4)
    assert snap.by_type["thumbnail"].live == 3
    assert snap.by_type["widget"].destroyed == 1
    assert [c.id for c in snap.components] == ["CacheOwner", "UI"]  # by live bytes
    assert snap.components[0].live == 4
    assert snap.components[0].type == "controller"
    assert snap.rss_bytes > 0
    assert snap.peak_rss_bytes >= snap.rss_bytes
    assert snap.app == "test-app"
    assert snap.leak_suspects == []
    assert Snapshot.from_json(snap.to_json()) == snap


def test_snapshot_seq_rises(model: MetricsModel) -> None:
    seqs = [model.snapshot().seq for _ in range(3)]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3


def test_active_workers_counts_running_workers(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    owner = QObject()
    coord = WorkerResourceCoordinator("Workers", service).bind_to_component(owner)
    stop = threading.Event()

    class Waiting(QThread):
        def run(self) -> None:
            stop.wait(10)

    idle = Waiting()
    running = [Waiting(), Waiting()]
    for w in [idle, *running]:
        coord.track_worker(w)
    for w in running:
        w.start()
    deadline = time.monotonic() + 5
    while model.snapshot().active_workers < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    snap = model.snapshot()
    assert snap.active_workers == 2
    assert sorted(w.running for w in snap.workers) == [False, True, True]
    stop.set()
    for w in running:
        assert w.wait(5000)
    assert model.snapshot().active_workers == 0


def test_16_threads_exact_counts_and_consistent_snapshots_while_running(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    owners = [Owner() for _ in range(4)]
    for i, o in enumerate(owners):
        service.register_component(o, f"Owner{i}")
    done = threading.Event()
    inconsistent: list[str] = []
    snapshots = 0

    def reader() -> None:
        nonlocal snapshots
        while not done.is_set():
            s = model.snapshot()
            snapshots += 1
            if s.created_total - s.destroyed_total != s.live_resources:
                inconsistent.append("totals")
            if sum(t.live for t in s.by_type.values()) != s.live_resources:
                inconsistent.append("types")
            if sum(c.live for c in s.components if c.alive) != s.live_resources:
                inconsistent.append("components")
            if sum(t.bytes for t in s.by_type.values()) != s.tracked_bytes:
                inconsistent.append("bytes")

    barrier = threading.Barrier(16)

    def writer(n: int) -> None:
        owner = owners[n % 4]
        barrier.wait()
        kept = []
        for i in range(10_000):
            thing = Thing()
            rid = service.track_resource(owner, ResourceType.CACHE, thing, 3)
            if i % 100 == 0:
                kept.append(thing)
            else:
                service.release_resource(owner, rid)
        keep_alive.extend(kept)

    keep_alive: list[Thing] = []
    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert inconsistent == []
    assert snapshots > 10
    final = model.snapshot()
    assert final.created_total == 160_000
    assert final.live_resources == len(keep_alive) == 1600
    assert final.destroyed_total == 158_400
    assert final.tracked_bytes == 4800


def test_retained_after_cleanup_from_a_real_cleanup(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    owner = Owner()
    service.register_component(owner, "Leaky")
    leaked = Thing()  # someone else keeps this after the owner's cleanup
    service.track_resource(owner, ResourceType.CACHE, leaked, 64)
    service.track_resource(owner, ResourceType.CACHE, Thing(), 64)  # collected at once
    service.cleanup_component(owner)
    assert model.leak_suspects() == []  # not yet: LeakCanary waits before suspecting
    time.sleep(0.25)
    (suspect,) = model.snapshot().leak_suspects
    assert (suspect.component_id, suspect.resource_type, suspect.reason) == (
        "Leaky", "cache", RETAINED_AFTER_CLEANUP)
    assert suspect.resource_id.startswith("cache-")
    assert suspect.age_s >= 0.2
    del leaked
    assert model.leak_suspects() == []  # gone once it is gone, without a gc.collect()


def test_orphan_worker_when_a_qobject_owner_dies_while_its_qthread_runs(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    stop = threading.Event()

    class Stubborn(QThread):
        def cancel(self) -> None:
            pass  # ignores cancellation

        def run(self) -> None:
            stop.wait(10)

    class Controller(BaseController):
        def _create_resource_coordinator(self, cid: str, svc: Any) -> WorkerResourceCoordinator:
            return WorkerResourceCoordinator(cid, svc, stop_timeout_ms=50)

    ctl = Controller("Doomed", service=service)
    worker = Stubborn()
    assert isinstance(ctl.resources, WorkerResourceCoordinator)
    ctl.resources.track_worker(worker)
    worker.start()
    ctl.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    pump(lambda: any(s.reason == ORPHAN_WORKER for s in model.snapshot().leak_suspects), 5.0)
    snap = model.snapshot()
    orphans = [s for s in snap.leak_suspects if s.reason == ORPHAN_WORKER]
    assert [(s.component_id, s.resource_type) for s in orphans] == [("Doomed", "worker")]
    assert any(c.id == "Doomed" and not c.alive for c in snap.components)
    stop.set()
    assert worker.wait(5000)
    assert [s for s in model.leak_suspects() if s.reason == ORPHAN_WORKER] == []


def test_growth_from_a_cache_that_keeps_growing(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    owner = Owner()
    service.register_component(owner, "Gallery")
    cache = []
    for _ in range(5):  # one window per sample (window length 0 in this policy)
        for _ in range(10):
            t = Thing()
            cache.append(t)
            service.track_resource(owner, ResourceType.THUMBNAIL, t, 100)
        model.sample()
    growth = [s for s in model.leak_suspects() if s.reason == GROWTH]
    assert [(s.component_id, s.resource_type) for s in growth] == [("Gallery", "thumbnail")]
    listed = model.resources(component_id="Gallery", limit=100).items
    newest = max(listed, key=lambda r: int(r.resource_id.split("-")[1]))
    assert growth[0].resource_id == newest.resource_id
    model.sample()  # a window with no growth clears it
    assert [s for s in model.leak_suspects() if s.reason == GROWTH] == []


def test_no_suspects_on_a_clean_run(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    stop = threading.Event()

    class Polite(QThread):
        def cancel(self) -> None:
            stop.set()

        def run(self) -> None:
            stop.wait(10)

    class Controller(BaseController):
        def _create_resource_coordinator(self, cid: str, svc: Any) -> WorkerResourceCoordinator:
            return WorkerResourceCoordinator(cid, svc)

    for round_ in range(4):
        ctl = Controller(f"Clean{round_}", service=service)
        worker = Polite()
        assert isinstance(ctl.resources, WorkerResourceCoordinator)
        ctl.resources.track_worker(worker)
        worker.start()
        for _ in range(20):
            ctl.resources.track(Thing(), ResourceType.THUMBNAIL, size_bytes=10)
        model.sample()
        ctl.cleanup()
        stop.clear()
        del worker
        ctl.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        model.sample()
    gc.collect()
    time.sleep(0.25)
    model.sample()
    assert model.snapshot().leak_suspects == []


def test_history_rings_are_bounded_and_markers_recorded(
    service: ResourceManagementService,
) -> None:
    model = MetricsModel(service, history_size=10)
    owner = Owner()
    service.register_component(owner, "Marked")
    keep = []
    for _ in range(25):
        keep.append(Thing())
        service.track_resource(owner, ResourceType.MEMORY, keep[-1], 1)
        model.sample()
    service.cleanup_component(owner)
    del owner
    gc.collect()
    pump(lambda: not service.store._deferred, 5.0)  # its cleanup: at the next loop turn
    history = model.history()
    assert len(history.t) == 10
    assert history.live_resources[-1] == 25
    assert history.live_by_type["memory"][-1] == 25
    assert len(history.live_by_type["memory"]) == 10
    assert [m.kind for m in history.markers] == ["registered", "cleaned_up", "destroyed"]
    assert {m.component_id for m in history.markers} == {"Marked"}
    model.clear_history()
    assert model.history().t == []
    model.close()


def test_model_rejects_a_foreign_service() -> None:
    with pytest.raises(TypeError, match="InspectedService"):
        MetricsModel(object())  # type: ignore[arg-type]


class EmbeddersService:
    """An application's own service that keeps a ResourceManagementService inside and shows
    the inspector only the members ``InspectedService`` names: no inheritance."""

    def __init__(self, inner: ResourceManagementService) -> None:
        self._inner = inner

    @property
    def store(self) -> StoreReader:
        return self._inner.store

    @property
    def orphans(self) -> OrphanReader:
        return self._inner.orphans

    def add_listener(self, listener: Callable[[LifecycleEvent], None], *,
                     resource_events: bool = False) -> None:
        self._inner.add_listener(listener, resource_events=resource_events)

    def remove_listener(self, listener: Callable[[LifecycleEvent], None]) -> None:
        self._inner.remove_listener(listener)

    def aggregate(self) -> StoreAggregate:
        return self._inner.aggregate()

    def workers(self) -> list[WorkerState]:
        return self._inner.workers()

    def watched(self) -> list[WatchedResource]:
        return self._inner.watched()


def test_the_model_reads_any_inspected_service_through_the_protocol_alone(
        service: ResourceManagementService) -> None:
    owner = Owner()
    service.register_component(owner, "Embedded")
    kept = [Thing() for _ in range(3)]
    for thing in kept:
        service.track_resource(owner, ResourceType.CACHE, thing, 10, name="entry")
    embedded = EmbeddersService(service)
    assert not isinstance(embedded, ResourceManagementService)
    model = MetricsModel(embedded, app="embedded")
    try:
        model.sample()
        snap = model.snapshot()
        assert snap.live_resources == 3
        assert snap.by_type["cache"].bytes == 30
        assert [(c.id, c.live) for c in snap.components] == [("Embedded", 3)]
        page = model.resources(component_id="Embedded")
        assert page.total == 3
        assert {item.name for item in page.items} == {"entry"}
        service.cleanup_component(owner)  # the model hears it through the protocol's listener
        assert model.snapshot().live_resources == 0
        assert "Embedded" in [m.component_id for m in model.history().markers]
    finally:
        model.close()


def test_retained_after_a_coordinators_own_cleanup(
    service: ResourceManagementService, model: MetricsModel
) -> None:
    # The coordinator releases its resources inside its cleanup callback; they must be
    # watched like the ones the service releases itself.
    from inspector.resources import BaseResourceCoordinator

    owner = Owner()
    coord = BaseResourceCoordinator("Coordinated", service).bind_to_component(owner)
    kept = Thing()
    coord.track(kept, ResourceType.THUMBNAIL, size_bytes=5)
    service.cleanup_component(owner)
    time.sleep(0.25)
    suspects = model.leak_suspects()
    assert [(s.component_id, s.reason) for s in suspects] == [
        ("Coordinated", RETAINED_AFTER_CLEANUP)]


def test_service_and_model_die_by_reference_count(qapp: Any) -> None:
    # In a reference cycle, their QObjects (the service, its timer, the destroyed watcher)
    # would be freed by the garbage collector from whatever thread it runs in, and Qt
    # crashes on a timer deleted from a thread that does not own it.
    import weakref

    gc.disable()
    try:
        service = ResourceManagementService()
        model = MetricsModel(service)
        owner = Owner()
        kept = Thing()
        service.register_component(owner, "O")
        service.track_resource(owner, ResourceType.CACHE, kept, 1)
        service.track_resource(owner, ResourceType.QOBJECT, QObject())
        service.resource_tracked.connect(lambda e: None)
        refs: list[weakref.ref[Any]] = [weakref.ref(service), weakref.ref(model),
                                         weakref.ref(service.store)]
        del service, model
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


def test_gui_stack_is_taken_by_the_gui_thread_itself(qapp: Any,
                                                     service: ResourceManagementService
                                                     ) -> None:
    from inspector.metrics.stacks import STACK_SIGNAL, MainThreadStack, _dispatch

    main = MainThreadStack()
    assert main.install()
    try:
        import signal

        assert signal.getsignal(STACK_SIGNAL) is _dispatch
        got: list[list[str] | None] = []
        inside = threading.Event()

        def ask() -> None:
            inside.wait(5)
            got.append(main.read(timeout=2))

        asker = threading.Thread(target=ask)
        asker.start()

        def busy_in_python() -> None:
            # Waits on a list, not asker.is_alive(): that is a Python frame in threading.py,
            # and the signal may land inside it.
            inside.set()
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                time.sleep(0.01)

        busy_in_python()
        asker.join()
        (stack,) = got
        assert stack is not None
        assert stack[-1].startswith("busy_in_python (")
    finally:
        main.uninstall()
    # The handler stays, answering nobody: a request still pending at uninstall must not
    # become "Signal 23 ignored due to race condition" (or kill the process).
    assert not main.installed
    served = main.served
    signal.pthread_kill(threading.get_ident(), STACK_SIGNAL)
    assert main.served == served
    again = MainThreadStack()
    assert again.install()  # free for the next reader
    again.uninstall()
