"""The resource store: the service's state, exact counters and hot paths, in plain Python.

Tracking is on the hot paths of real applications, so this module is written for speed:
plain ``__slots__`` objects (an attribute write on a QObject subclass costs 15x), ids from a
counter (uuid4 costs 60x), counters updated under the lock the store already holds, and no
event object built unless somebody listens. Counters live in one cell per (component, type):
a track or release touches its cell and the byte total, and the per-type and per-component
figures are sums over cells, made when read.

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
import logging
import os
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any, TypeVar

import msgspec

from ._qt import QtBridge, call_at_home, is_running
from .types import CallbackRun, EventKind, LifecycleEvent, ResourceType, WatchedResource

log = logging.getLogger("inspector.resources")

_WORKER = ResourceType.WORKER
_monotonic = time.monotonic
_get_ident = threading.get_ident
_THREAD = threading.local()
_TYPES = tuple(ResourceType)
_getframe = sys._getframe


def _internal_files() -> frozenset[str]:
    """The source files of the inspector package that sit between an application's call
    and the store (service, coordinators, controllers, ...): a creation site skips them.

    The demo is an application built on the package, so its files are sites like any
    other. A set of exact file names, made once: the hot path tests one frame with one hash
    lookup (the name's hash is cached on the string) instead of a prefix test per frame.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    demo = os.path.join(root, "demo")
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        if folder == demo or folder.startswith(demo + os.sep):
            dirs[:] = []
            continue
        found.update(os.path.join(folder, f) for f in files if f.endswith(".py"))
    return frozenset(found)


_INTERNAL = _internal_files()

#: One counter for the process: ids stay unique across services (``next`` is atomic).
_IDS = itertools.count(1)

#: Released-by-cleanup resources watched for leaks at most (oldest forgotten first).
WATCH_LIMIT = 4096


class _KeyedRef(weakref.ref):  # type: ignore[type-arg]
    """A weak reference that remembers the key it was filed under.

    No Python ``__new__``/``__init__``: construction stays in C (about 220 ns, where
    WeakValueDictionary's KeyedRef costs 600 ns), and the key is set right after.
    The slot costs 8 bytes; a bound-method callback per record would cost 72.
    """

    __slots__ = ("key",)
    key: Any


class _WeakCall:
    """A callback into a store that does not keep the store alive (see ResourceStore)."""

    __slots__ = ("_method", "_store")

    def __init__(self, store: weakref.ref[ResourceStore],
                 method: Callable[[ResourceStore, Any], None]) -> None:
        self._store = store
        self._method = method

    def __call__(self, arg: Any) -> None:
        store = self._store()
        if store is not None:
            self._method(store, arg)


def _weak_callable(fn: Callable[[LifecycleEvent], None]
                   ) -> Callable[[], Callable[[LifecycleEvent], None] | None]:
    if hasattr(fn, "__self__") and hasattr(fn, "__func__"):
        return weakref.WeakMethod(fn)  # type: ignore[arg-type]
    return lambda: fn


class _Cell:
    """One component's counters for one resource type: the only counters a track bumps.

    A component holds a cell per type it owns; the store's totals by type and by component
    are sums over cells, made when read. The type's constants are copied in, so the hot
    path reads everything it needs from the one object a lookup gives it.
    """

    __slots__ = ("bytes", "comp", "created", "destroyed", "flags", "name", "prefix", "rtype")

    def __init__(self, comp: _Component, rtype: ResourceType) -> None:
        self.comp = comp
        self.rtype = rtype
        self.name = rtype.value  # Enum.value is a descriptor: 100 ns a read
        self.prefix = rtype.value + "-"
        self.flags = _WORKER_FLAG if rtype is _WORKER else 0
        self.created = 0
        self.destroyed = 0
        self.bytes = 0


class _Callback:
    __slots__ = ("fn", "name", "priority", "seq", "weak")

    def __init__(self, fn: Callable[[], object], priority: int, seq: int) -> None:
        # A bound method is held weakly: a component that registers its own method must
        # still be collectable (a bound method is held weakly). Plain functions are held strongly.
        self.weak = hasattr(fn, "__self__") and hasattr(fn, "__func__")
        self.fn: Any = weakref.WeakMethod(fn) if self.weak else fn  # type: ignore[arg-type]
        self.priority = priority
        self.seq = seq
        self.name = getattr(fn, "__qualname__", None) or repr(fn)

    def resolve(self) -> Callable[[], object] | None:
        return self.fn() if self.weak else self.fn  # type: ignore[no-any-return]


class _Component:
    __slots__ = (
        "callbacks",
        "cells",
        "cid",
        "cleaned_at",
        "cleaning",
        "ctype",
        "gone",
        "home",
        "key",
        "qaddr",
        "ref",
        "registered_at",
        "rids",
        "strong",
    )

    def __init__(self, key: int, cid: str, ctype: str, now: float) -> None:
        self.key = key
        self.cid = cid
        self.ctype = ctype
        self.ref: Callable[[], object] | None = None
        self.strong: object = None  # only for owners that cannot be weakly referenced
        self.qaddr = 0
        self.rids: set[str] = set()
        self.callbacks: list[_Callback] = []
        self.cells: dict[ResourceType, _Cell] = {}
        self.gone = False  # unregistered: its settled cells may be folded away
        self.home = _get_ident()  # the thread that registered it
        self.registered_at = now
        self.cleaned_at = 0.0
        self.cleaning = False

    def obj(self) -> object:
        return None if self.ref is None else self.ref()

    @property
    def created(self) -> int:
        return sum(cell.created for cell in self.cells.values())


class _Strong:
    """A callable like a weak reference, for owners that cannot be weakly referenced."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj: object = obj

    def __call__(self) -> object:
        return self.obj


_QOBJECT_FLAG = 1
_WORKER_FLAG = 2
_HELD_FLAG = 4
_META_FLAG = 8
_INDEXED = _QOBJECT_FLAG | _WORKER_FLAG | _META_FLAG  # a release has side tables to update

_RECORD_SLOTS = ("rid", "comp", "cell", "size", "flags", "created", "thread", "name", "site",
                 "lasti")


class _Resource(weakref.ref):  # type: ignore[type-arg]
    """A tracked resource's record, which is also its weak reference.

    One object instead of a record plus a weak reference: a track allocates once, the
    collection callback receives the record itself, and each resource costs ~50 bytes less.
    Calling the record returns the resource, or None once it is gone. ``flags`` tells in one
    test whether a release has side tables to update (_QOBJECT_FLAG: a C++ address;
    _WORKER_FLAG: in the worker index; _META_FLAG: metadata, which is rare, lives in a side
    table so the common track stores nothing for it). ``stats`` is the type's counters,
    kept on the record to spare the release a lookup. ``name`` is the name the caller gave
    (None: the object's class name, read when shown). ``site`` is where it was tracked: the
    caller's code object, with ``lasti`` its instruction offset (a shared int: see
    ``_OFFSETS``), made into ``"function (file:line)"`` when read, or a string the caller
    gave; unset when sites are off.
    """

    __slots__ = _RECORD_SLOTS
    rid: str
    comp: _Component
    cell: _Cell
    size: int
    flags: int
    created: float
    thread: int
    name: str | None
    site: CodeType | str | None
    lasti: int


class _HeldResource:
    """The record of a resource that cannot be weakly referenced: held until released."""

    __slots__ = (*_RECORD_SLOTS, "strong")
    rid: str
    comp: _Component
    cell: _Cell
    size: int
    flags: int
    created: float
    thread: int
    name: str | None
    site: CodeType | str | None
    lasti: int

    def __init__(self, strong: object) -> None:
        self.strong = strong

    def __call__(self) -> object:
        return self.strong


Record = _Resource | _HeldResource


class _Watch:
    __slots__ = (
        "cid",
        "ckey",
        "dead",
        "name",
        "owner_dead",
        "qaddr",
        "ref",
        "released_at",
        "rid",
        "rtype",
        "site",
        "size",
        "strong",
    )
    cid: str
    name: str
    site: str
    strong: object  # a released object that cannot be weakly referenced (see _watch_locked)
    ckey: _Component
    rid: str
    rtype: ResourceType
    size: int
    ref: Callable[[], object] | None
    qaddr: int
    released_at: float
    owner_dead: bool
    dead: bool

    def obj(self) -> object:
        if self.strong is not None:
            return self.strong
        return None if self.ref is None else self.ref()


#: The store's own holders of released objects (a `why` walk looks past them).
WATCH_TYPES: tuple[type, ...] = (_Watch,)


class TypeCounts(msgspec.Struct, frozen=True):
    """Counters of one resource type."""

    created: int
    destroyed: int
    bytes: int

    @property
    def live(self) -> int:
        return self.created - self.destroyed


class ComponentCounts(msgspec.Struct, frozen=True):
    """Counters of one registered component (a Struct: a snapshot builds one per component,
    and a frozen dataclass costs 1 us to build where a Struct costs 0.1)."""

    component_id: str
    component_type: str
    created: int
    destroyed: int
    bytes: int
    registered_at: float

    @property
    def live(self) -> int:
        return self.created - self.destroyed


@dataclass(frozen=True, slots=True)
class WorkerState:
    """A tracked worker and whether it runs now."""

    resource_id: str
    component_id: str
    running: bool
    tracked_at: float
    type_name: str


R = TypeVar("R")


def _row(*fields: Any) -> tuple[Any, ...]:
    return fields


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One tracked resource, for listings (never used on hot paths)."""

    resource_id: str
    component_id: str
    resource_type: ResourceType
    size_bytes: int
    age_s: float
    thread_id: int
    type_name: str
    alive: bool
    metadata: dict[str, Any] | None
    name: str = ""
    site: str = ""


@dataclass(frozen=True, slots=True)
class StoreAggregate:
    """A consistent copy of every counter, taken under one lock: O(types + components)."""

    by_type: dict[ResourceType, TypeCounts]
    components: tuple[ComponentCounts, ...]
    tracked_bytes: int
    peak_tracked_bytes: int
    #: ``(component id, type value, live, bytes)`` of every live component's types: growth
    #: is judged per owner and type, so one type's churn cannot hide another's rise.
    cells: tuple[tuple[str, str, int, int], ...] = ()

    @property
    def created_total(self) -> int:
        return sum(c.created for c in self.by_type.values())

    @property
    def destroyed_total(self) -> int:
        return sum(c.destroyed for c in self.by_type.values())

    @property
    def live_total(self) -> int:
        return self.created_total - self.destroyed_total


class ResourceStore:
    """Thread-safe registry of components and their resources (see the module docstring).

    ``sink`` receives every lifecycle event that is built; events are built only for
    component-level changes (rare) and, while ``resource_events`` is true, for each
    resource tracked or released.
    """

    def __init__(self, sink: Callable[[LifecycleEvent], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._owned = self._lock._is_owned  # type: ignore[attr-defined]
        self._ids = _IDS
        self._records: dict[str, Record] = {}
        self._components: dict[int, _Component] = {}
        self._qcomponents: dict[int, _Component] = {}
        self._qresources: dict[int, str] = {}
        self._qaddress: dict[str, int] = {}
        self._workers: dict[str, Record] = {}
        self._metadata: dict[str, dict[str, Any]] = {}
        # Every cell not yet folded into _retired: live components' cells, and the cells of
        # gone components until their last resource is released (see aggregate()).
        self._cells: list[_Cell] = []
        self._retired: dict[ResourceType, list[int]] = {t: [0, 0, 0] for t in _TYPES}
        # ^ created, destroyed, bytes of folded cells
        self._bytes = 0
        self._peak = 0
        self._watch: deque[_Watch] = deque(maxlen=WATCH_LIMIT)
        self._qwatch: dict[int, _Watch] = {}
        self._pending: deque[tuple[str, Any]] = deque()
        self._deferred: dict[int, _Component] = {}  # collected owners cleaned on the main thread
        self._draining = threading.local()
        self._seq = itertools.count()
        # Nothing the store owns refers back to it strongly (weak-reference callbacks, the
        # watcher QObject, the sink): a store and its service die by reference count in the
        # thread that drops them. In a cycle, the garbage collector would free their QObjects
        # from whichever thread it happens to run in, and Qt crashes on a timer deleted from
        # a thread that does not own it (seen here, inside processEvents).
        me = weakref.ref(self)
        self._qt = QtBridge(_WeakCall(me, ResourceStore._on_qobject_destroyed))
        self._qtypes = self._qt.known_types
        self._on_resource_collected = _WeakCall(me, ResourceStore._resource_collected)
        self._on_component_collected = _WeakCall(me, ResourceStore._component_collected)
        self._on_wrapper_collected = _WeakCall(me, ResourceStore._wrapper_collected)
        self._sink = None if sink is None else _weak_callable(sink)
        self._resource_events = False
        self._slow = False
        self._sites = True

    # -- components ---------------------------------------------------------------------

    def register_component(
        self, component: object, component_id: str, component_type: str = "component"
    ) -> None:
        """Start tracking ``component`` as an owner (re-registering renames it)."""
        with self._lock:
            comp = self._find_locked(component)
            if comp is not None:
                comp.cid = component_id
                comp.ctype = component_type
                return
            comp = self._add_component_locked(component, component_id, component_type)
        self._emit_component(EventKind.COMPONENT_REGISTERED, comp)
        self._after()

    def register_cleanup(
        self, component: object, callback: Callable[[], object], priority: int = 10
    ) -> None:
        """Run ``callback`` when ``component`` is cleaned up (higher priority first)."""
        if not callable(callback):
            raise TypeError(f"cleanup callback must be callable, got {callback!r}")
        registered = None
        with self._lock:
            comp = self._find_locked(component)
            if comp is None:
                comp = registered = self._add_component_locked(
                    component, _default_id(component), "component")
            comp.callbacks.append(_Callback(callback, priority, next(self._seq)))
        if registered is not None:
            self._emit_component(EventKind.COMPONENT_REGISTERED, registered)
        self._after()

    def component_id(self, component: object) -> str | None:
        """The id ``component`` is registered under, or None."""
        with self._lock:
            comp = self._find_locked(component)
            return None if comp is None else comp.cid

    def cleanup_component(self, component: object) -> int:
        """Run the component's callbacks and release its resources; return how many."""
        with self._lock:
            comp = self._find_locked(component)
        if comp is None:
            return 0
        return self._cleanup(comp, reason="cleanup", unregister=False)

    def cleanup_all(self) -> int:
        """Clean up every registered component; return how many resources were released."""
        with self._lock:
            comps = list(self._components.values())
            deferred = list(self._deferred.values())
        return (sum(self._clean_deferred(c) for c in deferred)
                + sum(self._cleanup(c, reason="cleanup_all", unregister=False) for c in comps))

    # -- resources: the hot paths ---------------------------------------------------------

    def track_resource(
        self,
        component: object,
        resource_type: ResourceType,
        resource: object,
        size_bytes: int | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        site: str | None = None,
    ) -> str:
        """Track ``resource`` as owned by ``component``; return its process-unique id.

        ``name`` is shown instead of the bare id (default: the object's class name).
        ``site`` is where it was made, ``"function (file:line)"``; by default the innermost
        frame outside the inspector package, unless :attr:`capture_sites` is off.
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
            rec = _Resource(resource)
            flags = _QOBJECT_FLAG
        else:
            try:
                rec = _Resource(resource, self._on_resource_collected)
                flags = 0
            except TypeError:  # ints, dicts, lists...: held until released
                rec = _HeldResource(resource)
                flags = _HELD_FLAG
        if metadata:
            flags |= _META_FLAG
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
                    while code.co_filename in _INTERNAL:
                        frame = frame.f_back  # type: ignore[assignment]
                        code = frame.f_code
                    rec.site = code
                    lasti = frame.f_lasti
                    # A shared int for the offset: a new one per record costs 28 bytes.
                    rec.lasti = _OFFSETS[lasti] if lasti < _OFFSET_LIMIT else lasti
                except (ValueError, AttributeError):  # no Python caller outside the package
                    pass
        else:
            rec.site = site
        rec.created = _monotonic()
        try:  # the same int object per thread: 32 bytes a resource less than get_ident()
            rec.thread = _THREAD.ident
        except AttributeError:
            rec.thread = _THREAD.ident = _get_ident()
        with self._lock:
            try:  # free in 3.11 unless raised
                comp = self._components.get(id(component))  # every id in it is a live owner's
                if comp is None:
                    comp = self._owner_locked(component, resource_type)
                try:  # the str mix-in lets the value ("cache") find the member's cell too
                    cell = comp.cells[resource_type]
                except (KeyError, TypeError):
                    cell = self._cell_locked(comp, resource_type)
            except TypeError:  # not a ResourceType: the record never made it in, and
                rec.rid = ""  # its resource's death, if the record outlives it, finds nothing
                raise
            rec.rid = rid = f"{cell.prefix}{next(_IDS)}"
            rec.comp = comp
            rec.cell = cell
            self._records[rid] = rec
            comp.rids.add(rid)
            cell.created += 1
            if size:
                cell.bytes += size
                total = self._bytes = self._bytes + size
                if total > self._peak:  # noqa: PLR1730 (a max() call costs 0.1 us here)
                    self._peak = total
            rec.flags = flags = flags | cell.flags
            if flags:  # side tables (rare); `flags & _INDEXED` would cost a global lookup
                self._index_locked(rec, resource, metadata)
        if self._slow:  # events wanted, or deaths / registrations queued during the call
            self._slow_path(EventKind.RESOURCE_TRACKED, rec, "tracked")
        return rid

    def release_resource(self, component: object, resource_id: str) -> bool:
        """Stop tracking a resource; False for an unknown (or already released) id.

        Ids are unique in the process, so ``component`` is not needed to find the resource;
        it is part of the signature controllers and coordinators use.
        """
        # The body of _release_locked, inlined: a call costs as much as three counters.
        with self._lock:
            rec = self._records.pop(resource_id, None)
            if rec is None:
                return False
            rec.comp.rids.discard(resource_id)
            cell = rec.cell
            cell.destroyed += 1
            size = rec.size
            if size:
                cell.bytes -= size
                self._bytes -= size
            if rec.flags:
                self._unindex_locked(rec)
        if self._slow:
            self._slow_path(EventKind.RESOURCE_RELEASED, rec, "released")
        return True

    def _index_locked(self, rec: Record, resource: object,
                      metadata: dict[str, Any] | None) -> None:
        if rec.flags & _META_FLAG and metadata:
            self._metadata[rec.rid] = metadata
        if rec.flags & _QOBJECT_FLAG:
            address = self._qt.watch(resource)  # type: ignore[arg-type]
            self._qaddress[rec.rid] = address
            self._qresources[address] = rec.rid
        if rec.flags & _WORKER_FLAG:
            self._workers[rec.rid] = rec

    def _slow_path(self, kind: EventKind, rec: Record, reason: str) -> None:
        if self._resource_events:
            self._emit_resource(kind, rec, reason)
        if self._pending:
            self._drain()

    @property
    def capture_sites(self) -> bool:
        """Whether a track without a ``site`` records where it was made (on by default)."""
        return self._sites

    @capture_sites.setter
    def capture_sites(self, value: bool) -> None:
        self._sites = bool(value)

    def site_of(self, rec: Record) -> str:
        """A record's creation site as ``"function (file:line)"`` ("" when none)."""
        try:
            site: CodeType | str | None = rec.site
        except AttributeError:  # sites were off when it was tracked
            return ""
        if site is None or isinstance(site, str):
            return site or ""
        # Keyed by address plus offset (hashing a code object costs 0.2 us): two codes less
        # than an offset apart may share a key, so a hit is checked and a clash not cached.
        key = id(site) + rec.lasti
        known = _SITE_TEXT.get(key)
        if known is not None and known[0] is site and known[1] == rec.lasti:
            return known[2]
        text = format_site(site, rec.lasti)
        if known is None:
            if len(_SITE_TEXT) >= SITE_LIMIT:  # code made by exec() in a loop: stay bounded
                _SITE_TEXT.clear()
            # The code is kept with its text, so its address names no other code meanwhile.
            _SITE_TEXT[key] = (site, rec.lasti, text)
        return text

    @property
    def resource_events(self) -> bool:
        """Whether an event is built for every resource tracked or released."""
        return self._resource_events

    @resource_events.setter
    def resource_events(self, value: bool) -> None:
        self._resource_events = value
        self._slow = value or bool(self._pending)

    def _queue(self, item: tuple[str, Any]) -> None:
        # Every append to the queue goes through here so the hot paths' one flag sees it.
        self._pending.append(item)
        self._slow = True

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

    def _release_locked(self, rid: str) -> Record | None:
        # Keep in step with release_resource, which inlines this for speed.
        rec = self._records.pop(rid, None)
        if rec is None:
            return None
        rec.comp.rids.discard(rid)
        cell = rec.cell
        cell.destroyed += 1
        size = rec.size
        if size:
            cell.bytes -= size
            self._bytes -= size
        if rec.flags & _INDEXED:
            self._unindex_locked(rec)
        return rec

    def _unindex_locked(self, rec: Record) -> None:
        if rec.flags & _META_FLAG:
            self._metadata.pop(rec.rid, None)
        if rec.flags & _QOBJECT_FLAG:
            address = self._qaddress.pop(rec.rid, 0)
            if self._qresources.get(address) == rec.rid:  # not a newcomer at a reused address
                del self._qresources[address]
        if rec.flags & _WORKER_FLAG:
            self._workers.pop(rec.rid, None)

    # -- death notifications --------------------------------------------------------------

    def _resource_collected(self, rec: _Resource) -> None:
        rid = rec.rid
        if self._owned():
            self._queue(("resource", rid))
            return
        with self._lock:
            released = self._release_locked(rid)
        if released is not None and self.resource_events:
            self._emit_resource(EventKind.RESOURCE_RELEASED, released, "collected")

    def _component_collected(self, ref: _KeyedRef) -> None:
        comp = self._forget_owner(ref)
        if comp is None:
            return
        if self._owned():  # a collection inside one of our own calls: clean up after it
            self._queue(("stale", comp))
        else:
            self._clean_collected(comp)

    def _clean_collected(self, comp: _Component) -> None:
        # A garbage-collected owner's cleanup runs on the thread that registered it when
        # that is the main thread: its callbacks stop timers and close widgets. Until the
        # main loop runs it, cleanup_all() (at exit, say) may run it instead; once either way.
        with self._lock:
            self._deferred[id(comp)] = comp
        call_at_home(comp.home, lambda: self._clean_deferred(comp))

    def _clean_deferred(self, comp: _Component) -> int:
        with self._lock:
            if self._deferred.pop(id(comp), None) is None:
                return 0
        return self._cleanup(comp, reason="collected", unregister=True)

    def _wrapper_collected(self, ref: _KeyedRef) -> None:
        # A QObject owner's Python wrapper went; its C++ object may live on (a Qt parent
        # owns it) and is still known by address. Only its id is freed.
        self._forget_owner(ref)

    def _forget_owner(self, ref: _KeyedRef) -> _Component | None:
        """Drop a dead owner's id at once, so every id in the table is a live object's.

        That invariant lets the hot path trust an id hit without calling the reference.
        Popping one entry is safe even inside this thread's own locked section (nothing
        iterates the live table; readers copy it first).
        """
        if self._owned():
            return self._pop_owner(ref)
        with self._lock:
            return self._pop_owner(ref)

    def _pop_owner(self, ref: _KeyedRef) -> _Component | None:
        key = ref.key
        comp = self._components.get(key)
        if comp is None or comp.ref is not ref:
            return None
        del self._components[key]
        return comp

    def _on_qobject_destroyed(self, address: int) -> None:
        if self._owned():
            # Resolve the address now, while it still names the dying object: malloc may
            # hand it to a new QObject, tracked before the queue is applied. We hold the
            # lock already (re-entrantly), and nothing iterates these tables.
            self._queue(("qobject", self._forget_address_locked(address)))
            return
        with self._lock:
            dead = self._forget_address_locked(address)
        self._qobject_gone(dead)

    def _forget_address_locked(self, address: int) -> tuple[str | None, _Component | None]:
        watch = self._qwatch.pop(address, None)
        if watch is not None:
            watch.dead = True
        return self._qresources.get(address), self._qcomponents.get(address)

    def _qobject_gone(self, dead: tuple[str | None, _Component | None]) -> None:
        rid, comp = dead
        with self._lock:
            rec = None if rid is None else self._release_locked(rid)
        if rec is not None and self.resource_events:
            self._emit_resource(EventKind.RESOURCE_RELEASED, rec, "destroyed")
        if comp is not None:
            self._cleanup(comp, reason="destroyed", unregister=True)

    def _drain(self) -> None:
        """Apply the deaths that arrived while this thread held the lock.

        Not re-entered on one thread: a cleanup applied here ends by draining again, and
        a chain of collections would otherwise recurse one level per owner (a
        RecursionError in a finaliser, which loses that owner's cleanup). The outer loop
        takes what the inner call would have.
        """
        state = self._draining
        if getattr(state, "active", False):
            return
        state.active = True
        try:
            self._drain_queue()
        finally:
            state.active = False

    def _drain_queue(self) -> None:
        while True:
            try:
                kind, key = self._pending.popleft()
            except IndexError:
                self._slow = self._resource_events or bool(self._pending)
                return
            if kind == "resource":
                with self._lock:
                    rec = self._release_locked(key)
                if rec is not None and self.resource_events:
                    self._emit_resource(EventKind.RESOURCE_RELEASED, rec, "collected")
            elif kind == "registered":
                self._emit_component(EventKind.COMPONENT_REGISTERED, key)
            elif kind == "stale":
                self._clean_collected(key)
            else:
                self._qobject_gone(key)

    def _after(self) -> None:
        if self._pending:
            self._drain()

    # -- cleanup ----------------------------------------------------------------------------

    def _cleanup(self, comp: _Component, *, reason: str, unregister: bool) -> int:
        with self._lock:
            if comp.cleaning:  # a callback re-entered, or another thread is cleaning it
                if unregister:
                    self._unregister_locked(comp)
                return 0
            comp.cleaning = True
            created_before, live_before = comp.created, len(comp.rids)
            # Whoever releases them during this cleanup (a coordinator's callback, or the
            # loop below), these are watched afterwards for leaks.
            owned = [self._records[rid] for rid in comp.rids if rid in self._records]
            # Their C++ addresses now: a release drops the address from the index, and the
            # watch needs it to tell a live QObject from a wrapper whose object is deleted.
            qaddrs = {rec.rid: self._qaddress.get(rec.rid, 0) for rec in owned
                      if rec.flags & _QOBJECT_FLAG}
            # One-shot: each callback runs at one cleanup. What registers during this
            # cleanup (a coordinator re-arming) runs at the next one.
            callbacks = sorted(comp.callbacks, key=lambda c: (-c.priority, c.seq))
            comp.callbacks = []
        runs: list[CallbackRun] = []
        released: list[Record] = []
        try:
            for cb in callbacks:
                fn = cb.resolve()
                if fn is None:  # its owner was collected: nothing left to clean
                    continue
                started = time.perf_counter()
                error = None
                try:
                    fn()
                except Exception as exc:  # one bad callback must not stop the others
                    error = f"{type(exc).__name__}: {exc}"
                    log.exception("cleanup callback %s of %s raised", cb.name, comp.cid)
                runs.append(CallbackRun(cb.name, cb.priority, len(runs),
                                        (time.perf_counter() - started) * 1000.0, error))
        finally:
            with self._lock:
                now = time.monotonic()
                for rid in list(comp.rids):
                    rec = self._release_locked(rid)
                    if rec is not None:
                        released.append(rec)
                for rec in owned:
                    if rec.rid not in self._records:
                        self._watch_locked(rec, now, owner_dead=unregister,
                                           qaddr=qaddrs.get(rec.rid, 0))
                # Released during this cleanup, by callbacks or here, counting any tracked
                # while the callbacks ran.
                count = comp.created - created_before + live_before - len(comp.rids)
                comp.cleaning = False
                comp.cleaned_at = now
                if unregister:
                    self._unregister_locked(comp)
        if self.resource_events:
            for rec in released:
                self._emit_resource(EventKind.RESOURCE_RELEASED, rec, "cleanup")
        self._emit_component(EventKind.CLEANUP_PERFORMED, comp, reason=reason,
                             released=count, callbacks=tuple(runs))
        if unregister:
            self._emit_component(EventKind.COMPONENT_UNREGISTERED, comp, reason=reason)
        self._after()
        return count

    def _unregister_locked(self, comp: _Component) -> None:
        comp.gone = True
        if self._components.get(comp.key) is comp:
            del self._components[comp.key]
        if comp.qaddr and self._qcomponents.get(comp.qaddr) is comp:
            del self._qcomponents[comp.qaddr]
        comp.callbacks.clear()
        if comp.strong is not None:
            comp.strong = None
            comp.ref = None
        for watch in self._watch:
            if watch.ckey is comp:
                watch.owner_dead = True

    def _watch_locked(self, rec: Record, now: float, *, owner_dead: bool, qaddr: int = 0
                      ) -> None:
        strong: object = None
        if rec.flags & _HELD_FLAG:
            # No weak reference to it: count what holds it. Ours are the record's, `held`
            # and getrefcount's argument; any more and something else keeps it, so it is
            # watched (held, and let go at the first read that finds only our reference).
            held = rec()
            if isinstance(held, _SHARED) or sys.getrefcount(held) <= 3:
                return
            obj = strong = held
            del held
            ref = None
        else:
            obj = rec()
            if obj is None or (qaddr and not self._qt.is_valid(obj)):
                return
            ref = weakref.ref(obj)
        watch = _Watch()
        watch.strong = strong
        del strong
        watch.name = rec.name or type(obj).__name__
        watch.site = self.site_of(rec)
        watch.cid = rec.comp.cid
        watch.ckey = rec.comp
        watch.rid = rec.rid
        watch.rtype = rec.cell.rtype
        watch.size = rec.size
        watch.ref = ref
        watch.qaddr = qaddr
        watch.released_at = now
        watch.owner_dead = owner_dead
        watch.dead = False
        del obj
        if len(self._watch) == self._watch.maxlen:
            oldest = self._watch[0]
            if oldest.qaddr:
                self._qwatch.pop(oldest.qaddr, None)
        self._watch.append(watch)
        if qaddr:
            self._qwatch[qaddr] = watch

    # -- reading ----------------------------------------------------------------------------

    def aggregate(self) -> StoreAggregate:
        """Every counter, consistent with each other: created - destroyed = live, always."""
        self._after()
        # Plain tuples under the lock (the app's tracking waits while it is held); the
        # frozen values are built after it is released.
        with self._lock:
            self._fold_settled_locked()
            cells = [(c.rtype, c.created, c.destroyed, c.bytes) for c in self._cells]
            by_type = {t: list(counts) for t, counts in self._retired.items()}
            comps = []
            per_cell = []
            # A copy first: a collection inside this loop may drop a dead owner's entry.
            for comp in list(self._components.values()):
                created = destroyed = size = 0
                for cell in comp.cells.values():
                    created += cell.created
                    destroyed += cell.destroyed
                    size += cell.bytes
                    per_cell.append((comp.cid, cell.name, cell.created - cell.destroyed,
                                     cell.bytes))
                comps.append((comp.cid, comp.ctype, created, destroyed, size,
                              comp.registered_at))
            tracked, peak = self._bytes, self._peak
        for t, created, destroyed, size in cells:
            sums = by_type[t]
            sums[0] += created
            sums[1] += destroyed
            sums[2] += size
        return StoreAggregate(
            {t: TypeCounts(*sums) for t, sums in by_type.items()},
            tuple(ComponentCounts(*counts) for counts in comps),
            tracked, peak, tuple(per_cell))

    def _fold_settled_locked(self) -> None:
        """Fold the cells of unregistered components that nothing can change any more into
        the per-type totals, so the cell list follows the live components, not history."""
        kept = []
        for cell in self._cells:
            comp = cell.comp
            if comp.gone and cell.created == cell.destroyed:
                retired = self._retired[cell.rtype]
                retired[0] += cell.created
                retired[1] += cell.destroyed
                retired[2] += cell.bytes
                comp.cells.pop(cell.rtype, None)
            else:
                kept.append(cell)
        if len(kept) != len(self._cells):
            self._cells = kept

    def workers(self) -> list[WorkerState]:
        """Tracked workers and whether each runs (asked outside the lock)."""
        self._after()
        with self._lock:
            recs = list(self._workers.values())
        out = []
        for rec in recs:
            obj = rec()
            out.append(WorkerState(rec.rid, rec.comp.cid, obj is not None and is_running(obj),
                                   rec.created, type(obj).__name__ if obj is not None else ""))
        return out

    def tracked_workers(self) -> list[tuple[object, str, str]]:
        """``(worker, component id, resource id)`` of each tracked worker still alive: the
        all-thread stack listing names a thread after the worker that runs it."""
        with self._lock:
            recs = list(self._workers.values())
        return [(obj, rec.comp.cid, rec.rid) for rec in recs if (obj := rec()) is not None]

    def worker_objects(self, resource_ids: list[str]) -> dict[str, object]:
        """The live worker objects among ``resource_ids`` (others are left out)."""
        with self._lock:
            recs = [self._workers.get(rid) for rid in resource_ids]
        out: dict[str, object] = {}
        for rec in recs:
            obj = rec() if rec is not None else None
            if obj is not None:
                out[rec.rid] = obj  # type: ignore[union-attr]
        return out

    def owners(self) -> list[tuple[str, object]]:
        """``(component id, owner)`` of every registered component whose owner is still
        reachable, oldest first: for explaining a leak (the pytest plugin), never a hot path."""
        with self._lock:
            comps = sorted(self._components.values(), key=lambda c: c.registered_at)
        found = []
        for comp in comps:
            owner = comp.obj()
            if owner is not None and not (comp.qaddr and not self._qt.is_valid(owner)):
                found.append((comp.cid, owner))
        return found

    def watched(self) -> list[WatchedResource]:
        """Resources released by a cleanup that may still be alive; dead ones are forgotten."""
        self._after()
        with self._lock:
            entries = list(self._watch)
        out = []
        dead = []
        for w in entries:
            if w.strong is not None and sys.getrefcount(w.strong) <= 2:
                w.strong = None  # only the watch held it (and getrefcount's argument): gone
                w.dead = True
            obj = None if w.dead else w.obj()
            if obj is not None and w.qaddr and not self._qt.is_valid(obj):
                obj = None
            if obj is None:
                dead.append(w)
                continue
            running = w.rtype is _WORKER and is_running(obj)
            out.append(WatchedResource(w.cid, w.rid, w.rtype, w.released_at, w.owner_dead,
                                       w.size, True, running, w.name, w.site))
            del obj
        if dead:
            with self._lock:
                gone = set(map(id, dead))
                kept = [w for w in self._watch if id(w) not in gone]
                self._watch.clear()
                self._watch.extend(kept)
                for w in dead:
                    if w.qaddr:
                        self._qwatch.pop(w.qaddr, None)
        return out

    def resource_rows(
        self,
        offset: int = 0,
        limit: int = 500,
        component_id: str | None = None,
        make: Callable[..., R] = _row,  # type: ignore[assignment]
    ) -> tuple[int, list[R]]:
        """One page of the tracked resources, oldest first, and how many there are in all.

        Each row is ``make(resource_id, component_id, type value, size_bytes, age_s,
        thread_id, type name, alive, metadata or None, name, site)``; metadata values that are not
        JSON scalars come as their ``repr``. Rows are built in one pass under the lock with
        the caller's constructor: an export of 100k resources must cost about what building
        and encoding them does.
        """
        self._after()
        meta_flag = _META_FLAG
        with self._lock:
            now = _monotonic()
            if component_id is None:
                total = len(self._records)
                page = list(itertools.islice(self._records.values(), offset, offset + limit))
            else:
                matching = [r for r in self._records.values() if r.comp.cid == component_id]
                total = len(matching)
                page = matching[offset:offset + limit]
            metadata = self._metadata
            site_of = self.site_of
            texts = _SITE_TEXT
            code_type = CodeType
            rows: list[R] = [
                make(rec.rid, rec.comp.cid, rec.cell.name, rec.size,
                     round(now - rec.created, 3), rec.thread,
                     type_name := "" if (obj := rec()) is None else type(obj).__name__,
                     obj is not None,
                     _plain(metadata.get(rec.rid)) if rec.flags & meta_flag else None,
                     rec.name or type_name,
                     # site_of's common case inline (a site seen before): a call per row
                     # would cost this listing a third more
                     known[2] if type(code := getattr(rec, "site", None)) is code_type
                     and (known := texts.get(id(code) + rec.lasti)) is not None
                     and known[0] is code and known[1] == rec.lasti else site_of(rec))
                for rec in page]
            obj = None
        return total, rows

    def resources(
        self, offset: int = 0, limit: int = 500, component_id: str | None = None
    ) -> tuple[int, list[ResourceInfo]]:
        """One page of the tracked resources, oldest first, and how many there are in all."""
        rows: list[tuple[Any, ...]]
        total, rows = self.resource_rows(offset, limit, component_id)
        return total, [ResourceInfo(r[0], r[1], ResourceType(r[2]), *r[3:]) for r in rows]



    def newest_resource_id(self, component_id: str) -> str:
        """The most recently tracked resource of a component ("" when none): O(its size)."""
        return self.newest_resource(component_id)[0]

    def newest_resource(self, component_id: str, resource_type: str | None = None
                        ) -> tuple[str, str, str, str]:
        """``(resource_id, type value, name, site)`` of the most recently tracked resource of
        a component (of one type when given); empty strings when none. O(its size)."""
        with self._lock:
            recs = [self._records[rid] for c in list(self._components.values())
                    if c.cid == component_id for rid in c.rids if rid in self._records]
            if resource_type is not None:
                recs = [r for r in recs if r.cell.name == resource_type]
            if not recs:
                return "", "", "", ""
            rec = max(recs, key=lambda r: (r.created, int(r.rid.rsplit("-", 1)[1])))
            obj = rec()
            name = rec.name or ("" if obj is None else type(obj).__name__)
            del obj
            return rec.rid, rec.cell.name, name, self.site_of(rec)

    def find_resource(self, resource_id: str) -> tuple[object, str, str, str] | None:
        """``(object, type value, name, site)`` of a resource that is tracked now, or that a
        cleanup released and is still alive; None when the id is unknown or gone."""
        self._after()
        with self._lock:
            rec = self._records.get(resource_id)
            if rec is not None:
                obj = rec()
                if obj is None:
                    return None
                return (obj, rec.cell.name, rec.name or type(obj).__name__,
                        self.site_of(rec))
            watch = next((w for w in self._watch if w.rid == resource_id), None)
        if watch is None or watch.dead:
            return None
        obj = watch.obj()
        if obj is None or (watch.qaddr and not self._qt.is_valid(obj)):
            return None
        return obj, watch.rtype.value, watch.name, watch.site

    def is_tracked(self, resource_id: str) -> bool:
        """Whether ``resource_id`` is tracked now."""
        return resource_id in self._records

    def resource_id_of(self, obj: object) -> str | None:
        """The id a QObject is tracked under now (the newest, if tracked twice), else None."""
        if not self._qt.is_qobject(obj) or not self._qt.is_valid(obj):
            return None
        import shiboken6

        address = int(shiboken6.getCppPointer(obj)[0])  # type: ignore[arg-type]
        with self._lock:
            return self._qresources.get(address)

    def prune(self) -> None:
        """Apply queued deaths and forget dead watch entries (the periodic cleanup)."""
        self._after()
        self.watched()

    # -- internals ---------------------------------------------------------------------------

    def _owner_locked(self, component: object, resource_type: object) -> _Component:
        comp = self._find_locked(component)
        if comp is None:
            _check_type(resource_type)  # a call that raises registers nobody
            comp = self._add_component_locked(component, _default_id(component), "component")
            self._queue(("registered", comp))
        return comp

    def _cell_locked(self, comp: _Component, resource_type: object) -> _Cell:
        rtype = _check_type(resource_type)
        cell = comp.cells[rtype] = _Cell(comp, rtype)
        self._cells.append(cell)
        return cell

    def _find_locked(self, component: object) -> _Component | None:
        comp = self._components.get(id(component))
        if comp is not None and comp.obj() is component:
            return comp
        if self._qt.is_qobject(component) and self._qt.is_valid(component):
            import shiboken6

            address = int(shiboken6.getCppPointer(component)[0])  # type: ignore[arg-type]
            comp = self._qcomponents.get(address)
            if comp is not None:  # a new wrapper for a QObject we know: re-key it
                if self._components.get(comp.key) is comp:
                    del self._components[comp.key]
                comp.key = id(component)
                comp.ref = ref = _KeyedRef(component, self._on_wrapper_collected)
                ref.key = comp.key
                self._components[comp.key] = comp
                return comp
        return None

    def _add_component_locked(self, component: object, cid: str, ctype: str) -> _Component:
        key = id(component)
        comp = _Component(key, cid, ctype, time.monotonic())
        if self._qt.is_qobject(component):
            comp.ref = ref = _KeyedRef(component, self._on_wrapper_collected)
            ref.key = key
            comp.qaddr = self._qt.watch(component)  # type: ignore[arg-type]
            self._qcomponents[comp.qaddr] = comp
        else:
            try:
                comp.ref = ref = _KeyedRef(component, self._on_component_collected)
                ref.key = key
            except TypeError:  # not weakly referenceable: owned until cleaned up explicitly
                comp.strong = component
                comp.ref = _Strong(component)
        self._components[key] = comp
        return comp

    def _emit_resource(self, kind: EventKind, rec: Record, reason: str) -> None:
        sink = None if self._sink is None else self._sink()
        if sink is not None:
            sink(LifecycleEvent(kind, rec.comp.cid, time.monotonic(), rec.rid,
                                      rec.cell.rtype, rec.size, rec.comp.ctype, reason))

    def _emit_component(self, kind: EventKind, comp: _Component, *, reason: str = "",
                        released: int = 0, callbacks: tuple[CallbackRun, ...] = ()) -> None:
        sink = None if self._sink is None else self._sink()
        if sink is not None:
            sink(LifecycleEvent(kind, comp.cid, time.monotonic(),
                                      component_type=comp.ctype, reason=reason,
                                      released=released, callbacks=callbacks))


_BY_VALUE: dict[object, ResourceType] = {t: t for t in _TYPES}

#: Values the interpreter shares (small ints, interned strings): many references are normal.
_SHARED = (int, float, complex, str, bool, type(None))


def _check_type(resource_type: object) -> ResourceType:
    """The member ``resource_type`` names (a member or its value), or TypeError."""
    try:
        return _BY_VALUE[resource_type]
    except (KeyError, TypeError):
        raise TypeError(f"resource_type must be a ResourceType, got {resource_type!r}"
                        ) from None


#: Offsets below this come from one shared table of ints (112 KiB, made at import).
_OFFSET_LIMIT = 4096
_OFFSETS = list(range(_OFFSET_LIMIT))

#: ``id(code) + offset -> (code, offset, "function (file:line)")``, made when first read.
_SITE_TEXT: dict[int, tuple[CodeType, int, str]] = {}
SITE_LIMIT = 100_000


def format_site(code: CodeType, lasti: int) -> str:
    """``"function (file:line)"`` for instruction offset ``lasti`` of ``code``."""
    line = code.co_firstlineno
    for start, end, lineno in code.co_lines():
        if start <= lasti < end:
            if lineno is not None:
                line = lineno
            break
    return f"{code.co_qualname} ({code.co_filename}:{line})"


def _default_id(component: object) -> str:
    return f"{type(component).__name__}@{id(component):x}"


def _plain(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    # Metadata may hold any object; a listing carries only JSON-safe values.
    if not metadata:
        return None
    return {str(k): v if isinstance(v, (str, int, float, bool)) or v is None else repr(v)
            for k, v in metadata.items()}
