"""Liveness: deaths heard inside the store's own locked sections wait as typed entries."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject

from inspector.resources._qt import QtBridge
from inspector.resources.pending import (
    OwnerCollected,
    OwnerRegistered,
    QObjectDestroyed,
    ResourceCollected,
)
from inspector.resources.store import ResourceStore
from inspector.resources.types import EventKind, LifecycleEvent, ResourceType


class Owner:
    """A plain owner."""


class Thing:
    """A weakly referenceable resource."""


def test_a_collection_under_the_lock_is_queued_then_applied() -> None:
    events: list[LifecycleEvent] = []
    store = ResourceStore(events.append)
    store.resource_events = True
    owner, thing = Owner(), Thing()
    rid = store.track_resource(owner, ResourceType.CACHE, thing)
    with store._lock:  # stands in for a collection inside one of the store's calls
        del thing
        gc.collect()
        assert list(store._pending) == [ResourceCollected(rid)]
        assert store.is_tracked(rid)  # nothing applied while the lock is held
    store.prune()
    assert not store.is_tracked(rid)
    assert not store._pending
    assert store._slow  # resource events still wanted
    released = [e for e in events if e.kind is EventKind.RESOURCE_RELEASED]
    assert [(e.resource_id, e.reason) for e in released] == [(rid, "collected")]


def test_an_owner_collected_under_the_lock_is_cleaned_up_after() -> None:
    store = ResourceStore()
    ran: list[int] = []
    owner = Owner()
    store.register_cleanup(owner, lambda: ran.append(1))
    with store._lock:
        del owner
        gc.collect()
        (entry,) = store._pending
        assert isinstance(entry, OwnerCollected)
        assert ran == []
    store.prune()
    assert ran == [1]
    assert store.aggregate().components == ()


def test_an_implicit_registration_is_announced_after_the_lock() -> None:
    events: list[LifecycleEvent] = []
    store = ResourceStore(events.append)
    owner, thing = Owner(), Thing()
    with store._lock:
        store.track_resource(owner, ResourceType.CACHE, thing)  # re-entrant: drains after
    assert [e.kind for e in events] == [EventKind.COMPONENT_REGISTERED]
    store2 = ResourceStore()
    with store2._lock:
        store2._owner_locked(owner, ResourceType.CACHE)
        (entry,) = store2._pending
        assert isinstance(entry, OwnerRegistered)
        assert store2._slow
    store2.prune()
    assert not store2._slow


def test_a_qobject_destroyed_under_the_lock_is_resolved_at_once(qapp: object) -> None:
    store = ResourceStore(bridge=QtBridge)
    owner = Owner()
    obj = QObject()
    rid = store.track_resource(owner, ResourceType.QOBJECT, obj)
    with store._lock:
        del obj
        (entry,) = store._pending
        assert entry == QObjectDestroyed(rid, None)  # the address's id, taken as it died
    store.prune()
    assert not store.is_tracked(rid)
