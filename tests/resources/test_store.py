"""The plain-Python store on its own: no Qt bridge, real weak references and collections."""

from __future__ import annotations

import ast
import gc
import itertools
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inspector.resources.bridge import PlainBridge
from inspector.resources.records import HeldResource, Resource
from inspector.resources.store import ResourceStore
from inspector.resources.types import EventKind, LifecycleEvent, ResourceType

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "inspector" / "resources"


class Owner:
    """A plain owner."""


class Thing:
    """A weakly referenceable resource."""


def tables(store: ResourceStore) -> dict[str, int]:
    """Sizes of every table a release must update."""
    return {name: len(getattr(store, name)) for name in
            ("_records", "_workers", "_metadata", "_qresources", "_qaddress")}


def counters(store: ResourceStore) -> tuple[object, ...]:
    agg = store.aggregate()
    return (agg.tracked_bytes, tuple(sorted((t.value, c) for t, c in agg.by_type.items())))


@pytest.mark.parametrize("kind", ["weak", "held", "metadata", "worker", "held+metadata"])
def test_the_inlined_release_and_release_locked_leave_the_same_state(kind: str) -> None:
    """release_resource inlines _release_locked for speed: both must undo a track alike,
    for every kind of record (the copies once drifted: ``if flags`` against ``& INDEXED``)."""
    rtype = ResourceType.WORKER if kind == "worker" else ResourceType.CACHE
    metadata = {"k": 1} if "metadata" in kind else None
    states = []
    for way in ("inline", "locked"):
        store = ResourceStore()
        owner = Owner()
        resource: object = [1] if kind.startswith("held") else Thing()
        before = tables(store)
        rid = store.track_resource(owner, rtype, resource, 10, metadata)
        assert tables(store) != before or kind in ("weak", "held")
        if way == "inline":
            assert store.release_resource(owner, rid)
        else:
            with store._lock:
                assert store._release_locked(rid) is not None
        states.append((tables(store), counters(store), store.is_tracked(rid)))
        assert tables(store) == before
    assert states[0] == states[1]


def test_the_store_works_without_qt_and_its_modules_import_none() -> None:
    """The store's own modules import neither PySide6 nor shiboken (nor the Qt bridge)."""
    store = ResourceStore()
    assert isinstance(store._qt, PlainBridge)
    owner, thing = Owner(), Thing()
    rid = store.track_resource(owner, ResourceType.CACHE, thing)
    assert store.resource_id_of(thing) is None  # no QObjects without Qt
    assert store.is_tracked(rid)
    qt_free = ["store", "records", "sites", "counts", "bridge", "liveness", "pending",
               "cleanup", "watchlist", "listings", "owners", "interfaces"]
    for name in qt_free:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                    for a in n.names}
        imported |= {f"{'.' * n.level}{n.module or ''}" for n in ast.walk(tree)
                     if isinstance(n, ast.ImportFrom)}
        bad = {m for m in imported if m.split(".")[0] in ("PySide6", "shiboken6")
               or m in ("._qt", ".service")}
        assert not bad, f"{name}.py imports {bad}"


def test_a_record_knows_its_type_and_the_newest_needs_no_id_parsing() -> None:
    store = ResourceStore(ids=iter([7, 3, 5, 9]))  # serials out of order: order is tracking's
    owner = Owner()
    store.register_component(owner, "O")
    things = [Thing() for _ in range(3)]
    rids = [store.track_resource(owner, t, x) for t, x in
            zip((ResourceType.CACHE, ResourceType.THUMBNAIL, ResourceType.CACHE), things,
                strict=True)]
    assert rids == ["cache-7", "thumbnail-3", "cache-5"]
    rec = store._records[rids[1]]
    assert isinstance(rec, Resource)
    assert rec.rtype is ResourceType.THUMBNAIL
    assert store.newest_resource("O")[0] == "cache-5"
    assert store.newest_resource("O", "thumbnail")[0] == "thumbnail-3"
    assert store.newest_resource("nobody") == ("", "", "", "")
    held = store._records[store.track_resource(owner, ResourceType.MEMORY, [0])]
    assert isinstance(held, HeldResource)
    assert held.rtype is ResourceType.MEMORY


def test_injected_ids_number_only_that_store() -> None:
    mine = ResourceStore(ids=itertools.count(1000))
    shared = ResourceStore()
    owner = Owner()
    assert mine.track_resource(owner, ResourceType.CACHE, Thing()) == "cache-1000"
    kept = Thing()
    shared.track_resource(owner, ResourceType.CACHE, kept)  # the process's counter
    assert mine.track_resource(owner, ResourceType.CACHE, Thing()) == "cache-1001"


def test_collected_resources_and_owners_release_and_clean_up() -> None:
    events: list[LifecycleEvent] = []
    store = ResourceStore(events.append)
    store.resource_events = True
    owner = Owner()
    ran: list[str] = []
    store.register_cleanup(owner, lambda: ran.append("cleanup"))
    thing = Thing()
    rid = store.track_resource(owner, ResourceType.CACHE, thing)
    del thing
    gc.collect()
    assert not store.is_tracked(rid)
    released = [e for e in events if e.kind is EventKind.RESOURCE_RELEASED]
    assert [(e.resource_id, e.reason) for e in released] == [(rid, "collected")]
    del owner
    gc.collect()
    assert ran == ["cleanup"]  # no Qt: the plain bridge runs the deferred cleanup at once
    assert store._deferred == {}
    assert store.aggregate().components == ()


def test_the_store_dies_by_reference_count() -> None:
    """Nothing it owns refers back to it strongly (Liveness holds it weakly)."""
    import weakref

    gc.disable()
    try:
        store = ResourceStore()
        owner, thing = Owner(), Thing()
        store.register_cleanup(owner, lambda: None)
        store.track_resource(owner, ResourceType.CACHE, thing)
        ref = weakref.ref(store)
        del store
        assert ref() is None
    finally:
        gc.enable()


class _InterruptedAfterAcquire:
    """The store's lock, with a KeyboardInterrupt delivered as its first acquire returns:
    where Python runs a signal handler, right after a call."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self.armed = True

    def acquire(self) -> bool:
        got = bool(self.lock.acquire())
        if self.armed:
            self.armed = False
            signal.raise_signal(signal.SIGUSR1)  # its handler runs as this call returns
        return got

    def release(self) -> None:
        self.lock.release()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("call", ["track", "release"])
def test_an_interrupt_as_the_lock_is_taken_still_releases_it(call: str) -> None:
    store = ResourceStore()
    owner, thing = Owner(), Thing()
    rid = store.track_resource(owner, ResourceType.CACHE, thing)
    calls: dict[str, Callable[[], object]] = {
        "track": lambda: store.track_resource(owner, ResourceType.CACHE, Thing()),
        "release": lambda: store.release_resource(owner, rid)}
    lock = store._lock
    store._lock = _InterruptedAfterAcquire(lock)  # type: ignore[assignment]
    previous = signal.signal(signal.SIGUSR1, _interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            calls[call]()
    finally:
        signal.signal(signal.SIGUSR1, previous)
        store._lock = lock
    assert not lock._is_owned()  # type: ignore[attr-defined]
    # The interrupted call changed nothing, and the store goes on (as another thread would).
    assert store.release_resource(owner, rid)
    assert store.aggregate().by_type[ResourceType.CACHE].live == 0
