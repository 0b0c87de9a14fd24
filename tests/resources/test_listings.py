"""Reading the store: pages in tracking order, rows built by the caller, lookups."""

from __future__ import annotations

import threading

from inspector.resources.store import ResourceStore
from inspector.resources.types import ResourceType


class Owner:
    """A plain owner."""


class Thing:
    """A weakly referenceable resource."""


def test_pages_are_in_tracking_order_and_rows_are_made_by_the_caller() -> None:
    store = ResourceStore()
    a, b = Owner(), Owner()
    store.register_component(a, "A")
    store.register_component(b, "B")
    things = [Thing() for _ in range(6)]
    rids = [store.track_resource(a if i % 2 else b, ResourceType.CACHE, t, i,
                                 {"n": i, "obj": t} if i == 3 else None, name=f"t{i}")
            for i, t in enumerate(things)]
    total, rows = store.resource_rows(1, 2, make=lambda *f: f)
    assert total == 6
    assert [r[0] for r in rows] == rids[1:3]
    assert [r[11] for r in rows] == ["", ""]  # no thread names given
    me = threading.get_ident()
    _, named = store.resource_rows(0, 6, make=lambda *f: f, thread_names={me: "here"})
    assert [(r[5], r[11]) for r in named] == [(me, "here")] * 6
    total, infos = store.resources(component_id="A")
    assert total == 3
    assert [i.resource_id for i in infos] == [rids[1], rids[3], rids[5]]
    meta = infos[1].metadata
    assert meta is not None
    assert meta["n"] == 3
    assert meta["obj"].startswith("<")  # not a JSON scalar: its repr
    assert infos[0].name == "t1"
    assert infos[0].type_name == "Thing"


def test_find_resource_and_workers() -> None:
    store = ResourceStore()
    owner, thing = Owner(), Thing()
    rid = store.track_resource(owner, ResourceType.CACHE, thing, name="mine")
    found = store.find_resource(rid)
    assert found is not None
    assert found[0] is thing
    assert found[1:3] == ("cache", "mine")
    assert store.find_resource("cache-0") is None
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=True)
    wid = store.track_resource(owner, ResourceType.WORKER, worker)
    worker.start()
    try:
        (state,) = store.workers()
        assert (state.resource_id, state.running, state.type_name) == (wid, True, "Thread")
        assert store.worker_objects([wid, rid]) == {wid: worker}
        assert store.tracked_workers() == [(worker, state.component_id, wid)]
    finally:
        release.set()
        worker.join(5)
    assert [w.running for w in store.workers()] == [False]


def test_aggregate_counts_are_consistent() -> None:
    store = ResourceStore()
    owner = Owner()
    things = [Thing() for _ in range(3)]
    rids = [store.track_resource(owner, ResourceType.THUMBNAIL, t, 10) for t in things]
    store.release_resource(owner, rids[0])
    agg = store.aggregate()
    counts = agg.by_type[ResourceType.THUMBNAIL]
    assert (counts.created, counts.destroyed, counts.live, counts.bytes) == (3, 1, 2, 20)
    assert (agg.tracked_bytes, agg.peak_tracked_bytes) == (20, 30)
    (comp,) = agg.components
    assert (comp.created, comp.live) == (3, 2)
