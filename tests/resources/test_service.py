"""The service's public calls, with real QObjects, real garbage collection, real signals."""

from __future__ import annotations

import gc
import logging
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

from inspector.resources import (
    EventKind,
    IResourceManagementService,
    LifecycleEvent,
    ResourceManagementService,
    ResourceType,
    get_service,
    register_service,
)
from tests.conftest import pump


class Owner:
    """A plain (non-Qt) component."""


class Thing:
    """A weakly referenceable resource."""


def delete_later(obj: QObject) -> None:
    obj.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def test_track_and_release_counts(service: ResourceManagementService) -> None:
    owner = Owner()
    service.register_component(owner, "Owner", "controller")
    things = [Thing() for _ in range(3)]
    ids = [service.track_resource(owner, ResourceType.CACHE, t, 100) for t in things]
    assert len(set(ids)) == 3
    stats = service.get_statistics()
    assert stats["by_type"]["cache"] == {"live": 3, "created": 3, "destroyed": 0, "bytes": 300}
    assert stats["by_component"]["Owner"] == {"type": "controller", "live": 3, "bytes": 300}
    assert service.release_resource(owner, ids[0]) is True
    stats = service.get_statistics()
    assert (stats["live_resources"], stats["created_total"], stats["destroyed_total"]) == (2, 3, 1)
    assert stats["tracked_bytes"] == 200
    assert stats["peak_tracked_bytes"] == 300


def test_double_release_and_unknown_id_return_false(service: ResourceManagementService) -> None:
    owner = Owner()
    rid = service.track_resource(owner, ResourceType.CUSTOM, Thing())
    keep = service.track_resource(owner, ResourceType.CUSTOM, [1, 2])
    assert service.release_resource(owner, keep) is True
    assert service.release_resource(owner, keep) is False
    assert service.release_resource(owner, "no-such-id") is False
    gc.collect()
    assert service.release_resource(owner, rid) is False  # collected: released by itself


def test_ids_are_unique_across_services(qapp: Any) -> None:
    a, b = ResourceManagementService(), ResourceManagementService()
    owner = Owner()
    ids = {a.track_resource(owner, ResourceType.CUSTOM, 1) for _ in range(100)}
    ids |= {b.track_resource(owner, ResourceType.CUSTOM, 1) for _ in range(100)}
    assert len(ids) == 200


def test_collected_resource_releases_itself(service: ResourceManagementService) -> None:
    owner = Owner()
    thing = Thing()
    service.track_resource(owner, ResourceType.MEMORY, thing, 64)
    assert service.get_statistics()["live_resources"] == 1
    del thing
    gc.collect()
    stats = service.get_statistics()
    assert stats["live_resources"] == 0
    assert stats["tracked_bytes"] == 0


@pytest.mark.parametrize("resource", [42, {"a": 1}, [1, 2, 3], "text", (1, 2)])
def test_non_weakrefable_resource_is_held_until_released(
    service: ResourceManagementService, resource: object
) -> None:
    owner = Owner()
    rid = service.track_resource(owner, ResourceType.CUSTOM, resource)
    gc.collect()
    assert service.is_tracked(rid)
    assert service.release_resource(owner, rid)
    assert not service.is_tracked(rid)


def test_unregistered_component_is_registered_on_first_track(
    service: ResourceManagementService,
) -> None:
    owner = Owner()
    service.track_resource(owner, ResourceType.CUSTOM, 1)
    cid = service.component_id(owner)
    assert cid is not None
    assert cid.startswith("Owner@")


def test_plain_component_cleaned_up_when_collected(service: ResourceManagementService) -> None:
    ran: list[str] = []
    owner = Owner()
    service.register_component(owner, "Owner")
    service.register_cleanup(owner, lambda: ran.append("cb"))
    service.track_resource(owner, ResourceType.CUSTOM, [1])
    del owner
    gc.collect()
    assert ran == []  # nothing ran inside the collection
    pump(lambda: ran == ["cb"], 5.0)
    assert ran == ["cb"]
    stats = service.get_statistics()
    assert stats["components"] == 0
    assert stats["live_resources"] == 0


def test_qobject_component_cleaned_up_when_destroyed(service: ResourceManagementService) -> None:
    ran: list[str] = []
    owner = QObject()
    service.register_component(owner, "QOwner")
    service.register_cleanup(owner, lambda: ran.append("cb"))
    service.track_resource(owner, ResourceType.CUSTOM, {"k": 1})
    delete_later(owner)
    assert ran == []  # not inside the deletion: one loop turn later
    pump(lambda: ran == ["cb"], 5.0)
    assert ran == ["cb"]
    assert service.get_statistics()["components"] == 0
    assert service.get_statistics()["live_resources"] == 0


def test_qobject_resource_released_when_destroyed_not_when_wrapper_dropped(
    service: ResourceManagementService,
) -> None:
    owner = QObject()
    service.register_component(owner, "QOwner")
    child = QObject(owner)  # owned by its C++ parent
    service.track_resource(owner, ResourceType.QOBJECT, child)
    timer = QTimer()
    service.track_resource(owner, ResourceType.TIMER, timer)
    del child
    gc.collect()
    assert service.get_statistics()["by_type"]["qobject"]["live"] == 1  # parent keeps it
    del timer
    gc.collect()  # Python owned the timer: dropping it deletes it
    assert service.get_statistics()["by_type"]["timer"]["live"] == 0
    delete_later(owner)
    assert service.get_statistics()["live_resources"] == 0


def test_cleanup_callbacks_priority_order_ties_in_order_and_isolation(
    service: ResourceManagementService, caplog: pytest.LogCaptureFixture
) -> None:
    owner = Owner()
    order: list[str] = []
    service.register_cleanup(owner, lambda: order.append("low"), priority=1)
    service.register_cleanup(owner, lambda: order.append("high-1"), priority=50)

    def boom() -> None:
        raise RuntimeError("boom")

    service.register_cleanup(owner, boom, priority=50)
    service.register_cleanup(owner, lambda: order.append("high-2"), priority=50)
    service.register_cleanup(owner, lambda: order.append("default"))
    with caplog.at_level(logging.ERROR, logger="inspector.resources"):
        service.cleanup_component(owner)
    assert order == ["high-1", "high-2", "default", "low"]
    assert any("boom" in r.getMessage() or "boom" in str(r.exc_info) for r in caplog.records)


def test_cleanup_component_returns_released_count_and_emits_audit(
    service: ResourceManagementService,
) -> None:
    owner = Owner()
    events: list[LifecycleEvent] = []
    service.add_listener(events.append)
    service.register_component(owner, "Owner")
    for _ in range(4):
        service.track_resource(owner, ResourceType.CUSTOM, [0])
    service.register_cleanup(owner, lambda: None, priority=3)
    assert service.cleanup_component(owner) == 4
    assert service.cleanup_component(owner) == 0
    cleanup = [e for e in events if e.kind is EventKind.CLEANUP_PERFORMED]
    assert cleanup[0].released == 4
    assert [c.priority for c in cleanup[0].callbacks] == [3]
    assert cleanup[0].callbacks[0].error is None


def test_bound_method_callback_does_not_keep_component_alive(
    service: ResourceManagementService,
) -> None:
    import weakref

    class SelfCleaning:
        def __init__(self) -> None:
            self.cleaned = False

        def cleanup(self) -> None:
            self.cleaned = True

    owner = SelfCleaning()
    service.register_cleanup(owner, owner.cleanup)
    ref = weakref.ref(owner)
    del owner
    gc.collect()
    assert ref() is None


def test_cleanup_all_cleans_every_component(service: ResourceManagementService) -> None:
    owners = [Owner() for _ in range(3)]
    for i, o in enumerate(owners):
        service.register_component(o, f"O{i}")
        service.track_resource(o, ResourceType.CUSTOM, [i])
    assert service.cleanup_all() == 3
    assert service.get_statistics()["live_resources"] == 0


def test_totals_by_type_outlive_the_components_that_made_them(
        service: ResourceManagementService) -> None:
    """Counters live per (component, type); a gone component's counters are folded into
    the per-type totals once nothing of it is tracked, and the store forgets it."""
    store = service.store
    cells_before = len(store._cells)
    kept = []
    for i in range(200):
        owner = Owner()
        for rtype in (ResourceType.CACHE, ResourceType.THUMBNAIL):
            service.track_resource(owner, rtype, [i], 10)  # held: released only by a cleanup
        if i % 2:  # cleaned up and kept (still registered); the others are collected
            service.cleanup_component(owner)
            kept.append(owner)
        del owner
    gc.collect()
    pump(lambda: not store._deferred, 5.0)  # the collected owners' cleanups
    survivor = Owner()
    held = service.track_resource(survivor, ResourceType.CACHE, [0], 7)
    stats = service.get_statistics()
    assert stats["by_type"]["cache"] == {"live": 1, "created": 201, "destroyed": 200,
                                         "bytes": 7}
    assert stats["by_type"]["thumbnail"] == {"live": 0, "created": 200, "destroyed": 200,
                                             "bytes": 0}
    # The collected owners' cells are folded away; the registered owners keep theirs.
    assert len(store._cells) == cells_before + 100 * 2 + 1
    components = {c.component_id: c for c in store.aggregate().components}
    assert len(components) == 101
    assert all((c.created, c.destroyed, c.bytes) == (2, 2, 0)
               for c in components.values() if c.component_id != service.component_id(survivor))
    del kept
    gc.collect()
    pump(lambda: not store._deferred, 5.0)
    assert service.release_resource(survivor, held)
    stats = service.get_statistics()
    assert stats["by_type"]["cache"] == {"live": 0, "created": 201, "destroyed": 201,
                                         "bytes": 0}
    assert len(store._cells) == cells_before + 1


def test_update_resource_size_moves_bytes_and_peak(service: ResourceManagementService) -> None:
    owner = Owner()
    cache = Thing()
    rid = service.track_resource(owner, ResourceType.CACHE, cache, 10)
    assert service.update_resource_size(rid, 5000)
    assert service.update_resource_size(rid, 100)
    stats = service.get_statistics()
    assert stats["tracked_bytes"] == 100
    assert stats["peak_tracked_bytes"] == 5000
    assert not service.update_resource_size("nope", 1)
    with pytest.raises(ValueError, match="negative"):
        service.update_resource_size(rid, -1)


def test_bad_arguments_raise_clearly(service: ResourceManagementService) -> None:
    owner = Owner()
    with pytest.raises(TypeError, match="ResourceType"):
        service.track_resource(owner, "no-such-type", Thing())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ResourceType"):
        service.track_resource(owner, ["worker"], Thing())  # type: ignore[arg-type]
    # The value string is accepted and stored as its member.
    worker = Thing()
    service.track_resource(owner, "worker", worker)  # type: ignore[arg-type]
    assert [w.resource_id.startswith("worker-") for w in service.workers()] == [True]
    with pytest.raises(ValueError, match="negative"):
        service.track_resource(owner, ResourceType.CACHE, Thing(), -5)
    with pytest.raises(TypeError, match="callable"):
        service.register_cleanup(owner, "not callable")  # type: ignore[arg-type]


def test_signals_emitted_only_while_connected(service: ResourceManagementService) -> None:
    owner = Owner()
    got: list[LifecycleEvent] = []
    service.track_resource(owner, ResourceType.CUSTOM, 1)  # nothing connected: nothing built
    assert service.store.resource_events is False
    service.resource_tracked.connect(got.append)
    assert service.store.resource_events is True
    rid = service.track_resource(owner, ResourceType.CACHE, [1], 7)
    assert len(got) == 1
    event = got[0]
    assert (event.kind, event.resource_id, event.resource_type, event.size_bytes) == (
        EventKind.RESOURCE_TRACKED, rid, ResourceType.CACHE, 7)
    assert event.component_id == service.component_id(owner)
    service.resource_tracked.disconnect(got.append)
    service.periodic_cleanup()
    assert service.store.resource_events is False


def test_every_lifecycle_signal_fires(qapp: Any) -> None:
    service = ResourceManagementService(memory_threshold_bytes=1)
    kinds: list[str] = []
    for name in ("component_registered", "component_unregistered", "resource_tracked",
                 "resource_released", "cleanup_performed", "memory_warning"):
        getattr(service, name).connect(lambda e, n=name: kinds.append(n))
    owner = Owner()
    service.register_component(owner, "O")
    rid = service.track_resource(owner, ResourceType.CUSTOM, [1])
    service.release_resource(owner, rid)
    del owner
    gc.collect()
    pump(lambda: "component_unregistered" in kinds, 5.0)
    service.periodic_cleanup()
    assert kinds == ["component_registered", "resource_tracked", "resource_released",
                     "cleanup_performed", "component_unregistered", "memory_warning"]


def test_memory_warning_rearms_only_after_falling_below(qapp: Any) -> None:
    service = ResourceManagementService(memory_threshold_bytes=1)
    warnings: list[LifecycleEvent] = []
    service.add_listener(lambda e: warnings.append(e) if e.kind is EventKind.MEMORY_WARNING
                         else None)
    service.periodic_cleanup()
    service.periodic_cleanup()
    assert len(warnings) == 1
    assert warnings[0].size_bytes > 1


def test_locator_shared_instance_and_replacement(qapp: Any) -> None:
    previous = register_service(IResourceManagementService, None)
    try:
        shared = get_service(IResourceManagementService)
        assert get_service(IResourceManagementService) is shared
        mine = ResourceManagementService()
        assert register_service(IResourceManagementService, mine) is shared
        assert get_service(IResourceManagementService) is mine
        with pytest.raises(TypeError):
            register_service(IResourceManagementService, object())
        with pytest.raises(LookupError):
            get_service(int)
    finally:
        register_service(IResourceManagementService, previous)


def test_resources_listing_pages(service: ResourceManagementService) -> None:
    owner, other = Owner(), Owner()
    service.register_component(owner, "A")
    service.register_component(other, "B")
    for i in range(10):
        service.track_resource(owner, ResourceType.CUSTOM, [i], i, {"n": i})
    service.track_resource(other, ResourceType.CACHE, [0])
    total, page = service.store.resources(offset=8, limit=5)
    assert total == 11
    assert [r.component_id for r in page] == ["A", "A", "B"]
    total, page = service.store.resources(component_id="A", limit=3)
    assert total == 10
    assert [r.metadata for r in page] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_service_is_registered_as_the_interface(service: ResourceManagementService) -> None:
    assert isinstance(service, IResourceManagementService)


def test_callbacks_run_once_each(service: ResourceManagementService) -> None:
    owner = Owner()
    ran: list[int] = []
    service.register_cleanup(owner, lambda: ran.append(1))
    service.cleanup_component(owner)
    service.cleanup_all()
    del owner
    gc.collect()
    assert ran == [1]


def test_periodic_cleanup_runs_without_the_gui_thread(qapp: Any) -> None:
    import time

    service = ResourceManagementService(memory_threshold_bytes=1, cleanup_interval_ms=50)
    warnings: list[LifecycleEvent] = []
    service.add_listener(lambda e: warnings.append(e) if e.kind is EventKind.MEMORY_WARNING
                         else None)
    deadline = time.monotonic() + 5
    while not warnings and time.monotonic() < deadline:  # no event loop turns meanwhile
        time.sleep(0.02)
    assert len(warnings) == 1


def test_dropping_a_service_and_model_on_another_thread_is_safe() -> None:
    # The last reference often goes away on a server's or sampler's thread; no Qt timer of
    # ours may be deleted there (Qt prints "Timers cannot be stopped from another thread"
    # and crashes at the next event-loop turn).
    import subprocess
    import sys
    import textwrap

    from tests.conftest import python_env

    script = textwrap.dedent("""
        import threading, time
        from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
        from inspector.resources import ResourceManagementService, ResourceType
        from inspector.metrics import MetricsModel
        app = QCoreApplication([])
        for _ in range(20):
            service = ResourceManagementService(cleanup_interval_ms=10)
            model = MetricsModel(service, sample_interval_s=0.01)
            model.start()
            class Owner: pass
            owner = Owner()
            service.track_resource(owner, ResourceType.CACHE, owner, 1)
            holder = [model]
            del service, model, owner
            t = threading.Thread(target=holder.clear)  # the last reference dies there
            t.start(); t.join()
            loop = QEventLoop()
            QTimer.singleShot(30, loop.quit)
            loop.exec()
        print("OK")
    """)
    done = subprocess.run(  # noqa: PLW1510 (the exit status is asserted)
        [sys.executable, "-c", script], env=python_env(), capture_output=True, text=True,
        timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "another thread" not in done.stderr, done.stderr[-2000:]
    assert done.stdout.strip() == "OK"
