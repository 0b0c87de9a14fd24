"""The resource store: the service's state, exact counters and hot paths, in plain Python.

Tracking is on the hot paths of real applications, so this module is written for speed:
plain ``__slots__`` records (inspector.resources.records), ids from a counter (uuid4 costs
60x), counters updated under the lock the store already holds, and no event object built
unless somebody listens. Counters live in one cell per (component, type): a track or
release touches its cell and the byte total, and the per-type and per-component figures
are sums over cells, made when read (inspector.resources.listings).

Its other jobs have modules of their own: liveness (weak references and ``destroyed``,
inspector.resources.liveness), running cleanups (inspector.resources.cleanup) and the
retained-after-cleanup watch list (inspector.resources.watchlist). It imports no Qt: the
service hands it a bridge (inspector.resources.bridge.QtLink).

Locking rules, which keep it free of deadlocks when callbacks re-enter:

* every read and write of the store's indexes happens under one ``RLock``;
* no user code runs under that lock: cleanup callbacks, signal emission and listeners run
  after it is released;
* a weak-reference callback or a QObject ``destroyed`` notification that arrives while this
  thread holds the lock (a garbage collection triggered inside a tracked call) is queued and
  applied as soon as the lock is released; from any other context it is applied at once.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from . import listings
from . import owners as owner_table
from .bridge import BridgeFactory, PlainBridge
from .counts import ComponentCounts, ResourceInfo, StoreAggregate, TypeCounts, WorkerState
from .events import EventSink
from .liveness import Liveness
from .pending import OwnerRegistered
from .records import (
    HELD_FLAG,
    INDEXED,
    META_FLAG,
    QOBJECT_FLAG,
    WORKER_FLAG,
    Cell,
    Component,
    HeldResource,
    Record,
    Resource,
    check_type,
    default_id,
)
from .sites import INTERNAL, OFFSET_LIMIT, OFFSETS, SITE_LIMIT, format_site
from .types import EventKind, LifecycleEvent, ResourceType, WatchedResource
from .watchlist import WATCH_LIMIT, WATCH_TYPES, WatchList

# Also the names that lived here before the split, for code that still imports them here.
__all__ = ["IDS", "SITE_LIMIT", "WATCH_LIMIT", "WATCH_TYPES", "ComponentCounts", "ResourceInfo",
           "ResourceStore", "StoreAggregate", "TypeCounts", "WorkerState", "format_site"]

_monotonic = time.monotonic
_get_ident = threading.get_ident
_THREAD = threading.local()
_TYPES = tuple(ResourceType)
_getframe = sys._getframe

#: The process's default id counter: ids stay unique across the services that share it
#: (``next`` is atomic). A store can be given its own (``ResourceStore(ids=...)``).
IDS: Iterator[int] = itertools.count(1)


class ResourceStore:
    """Thread-safe registry of components and their resources (see the module docstring).

    ``sink`` receives every lifecycle event that is built; events are built only for
    component-level changes (rare) and, while ``resource_events`` is true, for each
    resource tracked or released. ``bridge`` makes the Qt bridge (default: none, nothing is
    a QObject); ``ids`` numbers the resources (default: the process's counter, ``IDS``).
    """

    def __init__(self, sink: Callable[[LifecycleEvent], None] | None = None, *,
                 bridge: BridgeFactory = PlainBridge,
                 ids: Iterator[int] | None = None) -> None:
        self._lock = threading.RLock()
        self._owned = self._lock._is_owned  # type: ignore[attr-defined]
        self._ids = IDS if ids is None else ids
        self._records: dict[str, Record] = {}
        self._components: dict[int, Component] = {}
        self._qcomponents: dict[int, Component] = {}
        self._qresources: dict[int, str] = {}
        self._qaddress: dict[str, int] = {}
        self._workers: dict[str, Record] = {}
        self._metadata: dict[str, dict[str, Any]] = {}
        # Every cell not yet folded into _retired: live components' cells, and the cells of
        # gone components until their last resource is released (see listings.aggregate).
        self._cells: list[Cell] = []
        self._retired: dict[ResourceType, list[int]] = {t: [0, 0, 0] for t in _TYPES}
        # ^ created, destroyed, bytes of folded cells
        self._bytes = 0
        self._peak = 0
        self._deferred: dict[int, Component] = {}  # collected owners cleaned on their thread
        self._seq = itertools.count()
        # Nothing the store owns refers back to it strongly (Liveness holds it weakly, the
        # bridge's watcher QObject calls Liveness, the sink is held weakly): a store and its
        # service die by reference count in the thread that drops them. In a cycle, the
        # garbage collector would free their QObjects from whichever thread it happens to
        # run in, and Qt crashes on a timer deleted from a thread that does not own it.
        self._liveness = liveness = Liveness(self)
        self._pending = liveness.pending
        self._qt = bridge(liveness.qobject_destroyed)
        self._qtypes = self._qt.known_types
        self._watch = WatchList(self._lock, self._qt.is_valid)
        self._on_resource_collected = liveness.resource_collected
        self._on_component_collected = liveness.component_collected
        self._on_wrapper_collected = liveness.wrapper_collected
        self._events = EventSink(sink)
        self._resource_events = False
        self._slow = False
        self._sites = True

    # -- components (inspector.resources.owners) ----------------------------------------

    register_component = owner_table.register_component
    register_cleanup = owner_table.register_cleanup
    component_id = owner_table.component_id
    cleanup_component = owner_table.cleanup_component
    cleanup_all = owner_table.cleanup_all

    # -- resources: the hot paths ---------------------------------------------------------

    def track_resource(  # noqa: C901 - the hot path, inlined on purpose (bench_tracking.py)
        self,
        component: object,
        resource_type: ResourceType,
        resource: object,
        size_bytes: int | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        site: str | None = None,
    ) -> str:
        """Track ``resource`` as owned by ``component``; return its process-unique id.

        ``name`` is shown instead of the bare id (default: the object's class name).
        ``site`` is where it was made, ``"function (file:line)"``; by default the innermost
        frame outside the inspector package, unless :attr:`capture_sites` is off. Pass both
        by keyword, as the service's interface says: here they are not keyword-only only
        because CPython 3.11 cannot specialise a call to a function with keyword-only
        parameters, which costs every track 25-30 ns (docs/architecture.md, "Measured facts").
        """
        size = size_bytes or 0
        if size < 0:
            raise ValueError(f"size_bytes must not be negative, got {size_bytes}")
        try:  # a hit costs one lookup (try is free in 3.11); a new type is classified once
            qobject = self._qtypes[type(resource)]
        except KeyError:
            qobject = self._qt.is_qobject(resource)
        rec: Record
        if qobject:  # liveness by `destroyed`; the weak reference only reads the object
            rec = Resource(resource)
            flags = QOBJECT_FLAG
        else:
            try:
                rec = Resource(resource, self._on_resource_collected)
                flags = 0
            except TypeError:  # ints, dicts, lists...: held until released
                rec = HeldResource(resource)
                flags = HELD_FLAG
        if metadata:
            flags |= META_FLAG
        rec.size = size
        # Always written (an unset slot costs a listing an exception per row to read);
        # `site` stays unset when sites are off, the one case that must cost nothing more.
        rec.name = name
        if site is None:
            if self._sites:
                # The caller's frame, or the first outside the package (a coordinator's
                # track): code object and instruction offset; the line is read when shown.
                try:
                    frame = _getframe(1)
                    code = frame.f_code
                    while code.co_filename in INTERNAL:
                        frame = frame.f_back  # type: ignore[assignment]
                        code = frame.f_code
                    rec.site = code
                    lasti = frame.f_lasti
                    # A shared int for the offset: a new one per record costs 28 bytes.
                    rec.lasti = OFFSETS[lasti] if lasti < OFFSET_LIMIT else lasti
                except (ValueError, AttributeError):  # no Python caller outside the package
                    pass
        else:
            rec.site = site
        rec.created = _monotonic()
        try:  # the same int object per thread: 32 bytes a resource less than get_ident()
            rec.thread = _THREAD.ident
        except AttributeError:
            rec.thread = _THREAD.ident = _get_ident()
        # acquire/release rather than `with`: looking up __enter__ and __exit__ costs 50 ns
        # a use on 3.11 (docs/architecture.md, "Measured facts"); the same on release. The
        # acquire is inside the `try`: Python runs signal handlers as a call returns, and a
        # KeyboardInterrupt raised there must still release. acquire() itself raises only
        # while blocked on another thread's hold, and release() then says RuntimeError,
        # leaving the lock as it was.
        try:
            self._lock.acquire()
            # A TypeError (not a ResourceType) or an interrupt before the id is set leaves a
            # record that never made it in: its resource's death finds no id (liveness.py).
            try:  # every id in it is a live owner's; a subscript, not .get(): 25 ns less
                comp = self._components[id(component)]
            except KeyError:
                comp = self._owner_locked(component, resource_type)
            try:  # the str mix-in lets the value ("cache") find the member's cell too
                cell = comp.cells[resource_type]
            except (KeyError, TypeError):
                cell = self._cell_locked(comp, resource_type)
            rec.rid = rid = f"{cell.prefix}{next(self._ids)}"
            rec.comp = comp
            rec.cell = cell
            self._records[rid] = rec
            comp.rids[rid] = None
            cell.created += 1
            if size:
                cell.bytes += size
                total = self._bytes = self._bytes + size
                if total > self._peak:  # noqa: PLR1730 (a max() call costs 0.1 us here)
                    self._peak = total
            rec.flags = flags = flags | cell.flags
            if flags:  # side tables (rare); `flags & INDEXED` would cost a global lookup
                self._index_locked(rec, resource, metadata)
        finally:
            self._lock.release()
        if self._slow:  # events wanted, or deaths / registrations queued during the call
            self._slow_path(EventKind.RESOURCE_TRACKED, rec, "tracked")
        return rid

    def release_resource(self, component: object, resource_id: str) -> bool:
        """Stop tracking a resource; False for an unknown (or already released) id.

        Ids are unique in the process, so ``component`` is not needed to find the resource;
        it is part of the signature controllers and coordinators use.
        """
        # The body of _release_locked, inlined: a call costs as much as three counters.
        # tests/resources/test_store.py runs both on every kind of record and compares.
        try:  # not `with`, and the acquire inside the `try`: see track_resource
            self._lock.acquire()
            rec = self._records.pop(resource_id, None)
            if rec is None:
                return False
            del rec.comp.rids[resource_id]
            cell = rec.cell
            cell.destroyed += 1
            size = rec.size
            if size:
                cell.bytes -= size
                self._bytes -= size
            if rec.flags:  # `flags & INDEXED` would cost a global lookup; see _unindex_locked
                self._unindex_locked(rec)
        finally:
            self._lock.release()
        if self._slow:
            self._slow_path(EventKind.RESOURCE_RELEASED, rec, "released")
        return True

    def _release_locked(self, rid: str) -> Record | None:
        # release_resource inlines this for speed: keep the two in step (tested).
        rec = self._records.pop(rid, None)
        if rec is None:
            return None
        del rec.comp.rids[rid]
        cell = rec.cell
        cell.destroyed += 1
        size = rec.size
        if size:
            cell.bytes -= size
            self._bytes -= size
        if rec.flags:
            self._unindex_locked(rec)
        return rec

    def _index_locked(self, rec: Record, resource: object,
                      metadata: dict[str, Any] | None) -> None:
        if rec.flags & META_FLAG and metadata:
            self._metadata[rec.rid] = metadata
        if rec.flags & QOBJECT_FLAG:
            address = self._qt.watch(resource)
            self._qaddress[rec.rid] = address
            self._qresources[address] = rec.rid
        if rec.flags & WORKER_FLAG:
            self._workers[rec.rid] = rec

    def _unindex_locked(self, rec: Record) -> None:
        flags = rec.flags
        if not flags & INDEXED:  # held only (HELD_FLAG): no side table
            return
        if flags & META_FLAG:
            self._metadata.pop(rec.rid, None)
        if flags & QOBJECT_FLAG:
            address = self._qaddress.pop(rec.rid, 0)
            if self._qresources.get(address) == rec.rid:  # not a newcomer at a reused address
                del self._qresources[address]
        if flags & WORKER_FLAG:
            self._workers.pop(rec.rid, None)

    def _slow_path(self, kind: EventKind, rec: Record, reason: str) -> None:
        if self._resource_events:
            self._events.resource(kind, rec, reason)
        if self._pending:
            self._liveness.drain()

    def update_size(self, resource_id: str, size_bytes: int) -> bool:
        """Change a tracked resource's size (a cache that grows); False for an unknown id."""
        if size_bytes < 0:
            raise ValueError(f"size_bytes must not be negative, got {size_bytes}")
        with self._lock:
            rec = self._records.get(resource_id)
            if rec is None:
                return False
            delta = size_bytes - rec.size
            rec.size = size_bytes
            rec.cell.bytes += delta
            self._bytes += delta
            self._peak = max(self._peak, self._bytes)
        return True

    # -- settings ---------------------------------------------------------------------------

    @property
    def capture_sites(self) -> bool:
        """Whether a track without a ``site`` records where it was made (on by default)."""
        return self._sites

    @capture_sites.setter
    def capture_sites(self, value: bool) -> None:
        self._sites = bool(value)

    @property
    def resource_events(self) -> bool:
        """Whether an event is built for every resource tracked or released."""
        return self._resource_events

    @resource_events.setter
    def resource_events(self, value: bool) -> None:
        self._resource_events = value
        self._slow = value or bool(self._pending)

    # -- reading (inspector.resources.listings; the watch list's own) ------------------------

    aggregate = listings.aggregate
    workers = listings.workers
    tracked_workers = listings.tracked_workers
    worker_objects = listings.worker_objects
    owners = listings.owners
    resource_rows = listings.resource_rows
    resources = listings.resources
    newest_resource = listings.newest_resource
    find_resource = listings.find_resource
    resource_id_of = listings.resource_id_of

    def watched(self) -> list[WatchedResource]:
        """Resources released by a cleanup that may still be alive; dead ones are forgotten."""
        self._liveness.after()
        return self._watch.watched()

    def is_tracked(self, resource_id: str) -> bool:
        """Whether ``resource_id`` is tracked now."""
        return resource_id in self._records

    def prune(self) -> None:
        """Apply queued deaths and forget dead watch entries (the periodic cleanup)."""
        self._liveness.after()
        self._watch.watched()

    # -- internals ---------------------------------------------------------------------------

    def _owner_locked(self, component: object, resource_type: object) -> Component:
        comp = owner_table.find_locked(self, component)
        if comp is None:
            check_type(resource_type)  # a call that raises registers nobody
            comp = owner_table.add_locked(self, component, default_id(component), "component")
            self._liveness.queue(self, OwnerRegistered(comp))
        return comp

    def _cell_locked(self, comp: Component, resource_type: object) -> Cell:
        rtype = check_type(resource_type)
        cell = comp.cells[rtype] = Cell(comp, rtype)
        self._cells.append(cell)
        return cell
