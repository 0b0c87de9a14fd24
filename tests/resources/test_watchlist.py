"""The retained-after-cleanup watch list, through the store's cleanups."""

from __future__ import annotations

import gc

from inspector.resources.store import ResourceStore
from inspector.resources.types import ResourceType
from inspector.resources.watchlist import WatchList


class Owner:
    """A plain owner."""


class Thing:
    """A weakly referenceable resource."""


def test_what_a_cleanup_released_is_watched_while_it_lives() -> None:
    store = ResourceStore()
    owner, kept, dropped = Owner(), Thing(), Thing()
    kept_id = store.track_resource(owner, ResourceType.CACHE, kept, 5, name="kept")
    store.track_resource(owner, ResourceType.CACHE, dropped)
    assert store.cleanup_component(owner) == 2
    del dropped
    gc.collect()
    (watched,) = store.watched()
    assert (watched.resource_id, watched.name, watched.size_bytes) == (kept_id, "kept", 5)
    assert not watched.owner_dead
    found = store.find_resource(kept_id)
    assert found is not None
    assert found[0] is kept
    del kept, found
    gc.collect()
    assert store.watched() == []
    assert len(store._watch) == 0  # dead entries are forgotten when read
    assert store.find_resource(kept_id) is None


def test_a_held_object_is_watched_only_while_something_else_holds_it() -> None:
    store = ResourceStore()
    owner = Owner()
    shared: list[int] = [1]
    store.track_resource(owner, ResourceType.CUSTOM, shared)
    store.track_resource(owner, ResourceType.CUSTOM, [2])  # only the store holds it
    store.cleanup_component(owner)
    assert [w.resource_type for w in store.watched()] == [ResourceType.CUSTOM]
    del shared
    assert store.watched() == []


def test_an_owner_collected_marks_its_watches_orphaned() -> None:
    store = ResourceStore()
    owner, kept = Owner(), Thing()
    store.track_resource(owner, ResourceType.CACHE, kept)
    del owner
    gc.collect()
    (watched,) = store.watched()
    assert watched.owner_dead


def test_the_list_is_bounded_oldest_first() -> None:
    store = ResourceStore()
    store._watch = small = WatchList(store._lock, store._qt.is_valid, limit=3)
    owner = Owner()
    things = [Thing() for _ in range(5)]
    rids = [store.track_resource(owner, ResourceType.CACHE, t) for t in things]
    store.cleanup_component(owner)
    assert [w.rid for w in small] == rids[2:]
    assert [w.resource_id for w in store.watched()] == rids[2:]
