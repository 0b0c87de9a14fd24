"""Reading the store: counters, pages of resources, workers, owners and single lookups.

Never on the application's hot paths. Each reader copies what it needs under the store's
lock (the application's tracking waits while it is held) and builds its values after.
These functions are the store's reading methods (ResourceStore assigns them in its body).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from types import CodeType
from typing import TYPE_CHECKING, Any, TypeVar

from .bridge import is_running
from .counts import ComponentCounts, ResourceInfo, StoreAggregate, TypeCounts, WorkerState
from .records import META_FLAG, Record
from .sites import site_of
from .types import ResourceType

if TYPE_CHECKING:
    from .store import ResourceStore

R = TypeVar("R")
_monotonic = time.monotonic


def _row(*fields: Any) -> tuple[Any, ...]:
    return fields


def aggregate(store: ResourceStore) -> StoreAggregate:
    """Every counter, consistent with each other: created - destroyed = live, always."""
    store._liveness.after()
    # Plain tuples under the lock (the app's tracking waits while it is held); the
    # frozen values are built after it is released.
    with store._lock:
        _fold_settled_locked(store)
        cells = [(c.rtype, c.created, c.destroyed, c.bytes) for c in store._cells]
        by_type = {t: list(counts) for t, counts in store._retired.items()}
        comps = []
        per_cell = []
        # A copy first: a collection inside this loop may drop a dead owner's entry.
        for comp in list(store._components.values()):
            created = destroyed = size = 0
            for cell in comp.cells.values():
                created += cell.created
                destroyed += cell.destroyed
                size += cell.bytes
                per_cell.append((comp.cid, cell.name, cell.created - cell.destroyed,
                                 cell.bytes))
            comps.append((comp.cid, comp.ctype, created, destroyed, size,
                          comp.registered_at))
        tracked, peak = store._bytes, store._peak
    for t, created, destroyed, size in cells:
        sums = by_type[t]
        sums[0] += created
        sums[1] += destroyed
        sums[2] += size
    return StoreAggregate(
        {t: TypeCounts(*sums) for t, sums in by_type.items()},
        tuple(ComponentCounts(*counts) for counts in comps),
        tracked, peak, tuple(per_cell))


def _fold_settled_locked(store: ResourceStore) -> None:
    """Fold the cells of unregistered components that nothing can change any more into
    the per-type totals, so the cell list follows the live components, not history."""
    kept = []
    for cell in store._cells:
        comp = cell.comp
        if comp.gone and cell.created == cell.destroyed:
            retired = store._retired[cell.rtype]
            retired[0] += cell.created
            retired[1] += cell.destroyed
            retired[2] += cell.bytes
            comp.cells.pop(cell.rtype, None)
        else:
            kept.append(cell)
    if len(kept) != len(store._cells):
        store._cells = kept


def workers(store: ResourceStore) -> list[WorkerState]:
    """Tracked workers and whether each runs (asked outside the lock)."""
    store._liveness.after()
    with store._lock:
        recs = list(store._workers.values())
    out = []
    for rec in recs:
        obj = rec()
        out.append(WorkerState(rec.rid, rec.comp.cid, obj is not None and is_running(obj),
                               rec.created, type(obj).__name__ if obj is not None else ""))
    return out


def tracked_workers(store: ResourceStore) -> list[tuple[object, str, str]]:
    """``(worker, component id, resource id)`` of each tracked worker still alive: the
    all-thread stack listing names a thread after the worker that runs it."""
    with store._lock:
        recs = list(store._workers.values())
    return [(obj, rec.comp.cid, rec.rid) for rec in recs if (obj := rec()) is not None]


def worker_objects(store: ResourceStore, resource_ids: list[str]) -> dict[str, object]:
    """The live worker objects among ``resource_ids`` (others are left out)."""
    with store._lock:
        recs = [store._workers.get(rid) for rid in resource_ids]
    out: dict[str, object] = {}
    for rec in recs:
        obj = rec() if rec is not None else None
        if obj is not None:
            out[rec.rid] = obj  # type: ignore[union-attr]
    return out


def owners(store: ResourceStore) -> list[tuple[str, object]]:
    """``(component id, owner)`` of every registered component whose owner is still
    reachable, oldest first: for explaining a leak (the pytest plugin), never a hot path."""
    with store._lock:
        comps = sorted(store._components.values(), key=lambda c: c.registered_at)
    found = []
    for comp in comps:
        owner = comp.obj()
        if owner is not None and not (comp.qaddr and not store._qt.is_valid(owner)):
            found.append((comp.cid, owner))
    return found


def resource_rows(
    store: ResourceStore,
    offset: int = 0,
    limit: int = 500,
    component_id: str | None = None,
    make: Callable[..., R] = _row,  # type: ignore[assignment]
    thread_names: Mapping[int, str] | None = None,
) -> tuple[int, list[R]]:
    """One page of the tracked resources, oldest first, and how many there are in all.

    Each row is ``make(resource_id, component_id, type value, size_bytes, age_s,
    thread_id, type name, alive, metadata or None, name, site, thread name)``; metadata
    values that are not JSON scalars come as their ``repr``; the thread name is
    ``thread_names[thread_id]`` ("" when not given). Rows are built in one pass under the
    lock with the caller's constructor: an export of 100k resources must cost about what
    building and encoding them does (a second pass that copied each row to add its thread's
    name cost the export as much again as the rows themselves).
    """
    store._liveness.after()
    meta_flag = META_FLAG
    thread_name = ({} if thread_names is None else thread_names).get
    with store._lock:
        now = _monotonic()
        if component_id is None:
            total = len(store._records)
            page = list(itertools.islice(store._records.values(), offset, offset + limit))
        else:
            matching = [r for r in store._records.values() if r.comp.cid == component_id]
            total = len(matching)
            page = matching[offset:offset + limit]
        metadata = store._metadata
        any_metadata = bool(metadata)  # most stores have none: one test a row, not two
        # A code site's text replaces the code on its record the first time it is listed
        # (under the lock; every reader goes through site_of, which takes either), so a
        # listing after the first reads one attribute a row.
        # The first listing finds each code's text by instruction offset, a small int that
        # hashes for free (site_of's shared cache costs an id() call and a big int a row).
        str_type = str
        by_offset: dict[int, tuple[CodeType, str]] = {}

        def remember(rec: Record) -> str:
            code = getattr(rec, "site", None)
            known = by_offset.get(rec.lasti) if type(code) is CodeType else None
            if known is not None and known[0] is code:
                text = known[1]
            else:
                text = site_of(rec)
                if type(code) is CodeType:
                    by_offset[rec.lasti] = (code, text)
            rec.site = text
            return text

        rows: list[R] = [
            make(rec.rid, rec.comp.cid, rec.cell.name, rec.size,
                 round(now - rec.created, 3), rec.thread,
                 type_name := "" if (obj := rec()) is None else type(obj).__name__,
                 obj is not None,
                 _plain(metadata.get(rec.rid)) if any_metadata and rec.flags & meta_flag
                 else None,
                 rec.name or type_name,
                 site if type(site := getattr(rec, "site", None)) is str_type
                 else remember(rec),
                 thread_name(rec.thread, ""))
            for rec in page]
        obj = None
    return total, rows


def resources(store: ResourceStore, offset: int = 0, limit: int = 500,
              component_id: str | None = None) -> tuple[int, list[ResourceInfo]]:
    """One page of the tracked resources, oldest first, and how many there are in all."""
    rows: list[tuple[Any, ...]]
    total, rows = resource_rows(store, offset, limit, component_id)
    return total, [ResourceInfo(r[0], r[1], ResourceType(r[2]), *r[3:11]) for r in rows]


def newest_resource(store: ResourceStore, component_id: str,
                    resource_type: str | None = None) -> tuple[str, str, str, str]:
    """``(resource_id, type value, name, site)`` of the most recently tracked resource of
    a component (of one type when given); empty strings when none. O(its size).

    A component's ``rids`` are in tracking order, so the newest is the last one listed:
    nothing is parsed out of the id.
    """
    with store._lock:
        records = store._records
        newest = []  # each component's newest (several may share an id)
        for comp in list(store._components.values()):
            if comp.cid != component_id:
                continue
            for rid in reversed(comp.rids):
                rec = records.get(rid)
                if rec is not None and (resource_type is None
                                        or rec.cell.name == resource_type):
                    newest.append(rec)
                    break
        if not newest:
            return "", "", "", ""
        rec = max(newest, key=lambda r: r.created)
        obj = rec()
        name = rec.name or ("" if obj is None else type(obj).__name__)
        del obj
        return rec.rid, rec.cell.name, name, site_of(rec)


def find_resource(store: ResourceStore, resource_id: str
                  ) -> tuple[object, str, str, str] | None:
    """``(object, type value, name, site)`` of a resource that is tracked now, or that a
    cleanup released and is still alive; None when the id is unknown or gone."""
    store._liveness.after()
    with store._lock:
        rec = store._records.get(resource_id)
        if rec is not None:
            obj = rec()
            if obj is None:
                return None
            return obj, rec.cell.name, rec.name or type(obj).__name__, site_of(rec)
    return store._watch.find(resource_id)


def resource_id_of(store: ResourceStore, obj: object) -> str | None:
    """The id a QObject is tracked under now (the newest, if tracked twice), else None."""
    bridge = store._qt
    if not bridge.is_qobject(obj) or not bridge.is_valid(obj):
        return None
    address = bridge.address(obj)
    with store._lock:
        return store._qresources.get(address)


def _plain(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    # Metadata may hold any object; a listing carries only JSON-safe values.
    if not metadata:
        return None
    return {str(k): v if isinstance(v, (str, int, float, bool)) or v is None else repr(v)
            for k, v in metadata.items()}
