"""The retained-after-cleanup watch list: resources a cleanup released, watched for leaks.

LeakCanary's idea: what an owner's cleanup (or destruction) let go of should die soon; one
still alive later is a leak suspect (inspector.metrics.suspects). Entries hold the object
weakly (strongly only when it cannot be weakly referenced, and only while something else
holds it too), and the list is bounded: the oldest entries are forgotten first.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator

from .bridge import is_running
from .records import HELD_FLAG, Component, Record
from .sites import site_of
from .types import ResourceType, WatchedResource

_WORKER = ResourceType.WORKER

#: Released-by-cleanup resources watched for leaks at most (oldest forgotten first).
WATCH_LIMIT = 4096

#: Values the interpreter shares (small ints, interned strings): many references are normal.
_SHARED = (int, float, complex, str, bool, type(None))


class Watch:
    """One released resource under watch."""

    __slots__ = ("cid", "ckey", "dead", "name", "owner_dead", "qaddr", "ref", "released_at",
                 "rid", "rtype", "site", "size", "strong")
    cid: str
    name: str
    site: str
    strong: object  # a released object that cannot be weakly referenced (see WatchList.add)
    ckey: Component
    rid: str
    rtype: ResourceType
    size: int
    ref: Callable[[], object] | None
    qaddr: int
    released_at: float
    owner_dead: bool
    dead: bool

    def obj(self) -> object:
        """The watched object, or None once it is gone."""
        if self.strong is not None:
            return self.strong
        return None if self.ref is None else self.ref()


#: The store's own holders of released objects (a `why` walk looks past them).
WATCH_TYPES: tuple[type, ...] = (Watch,)


class WatchList:
    """The bounded list of watches, under the store's lock (``lock``), keyed also by the C++
    address of each watched QObject so its ``destroyed`` can mark it dead at once."""

    def __init__(self, lock: threading.RLock, is_valid: Callable[[object], bool],
                 limit: int = WATCH_LIMIT) -> None:
        self._lock = lock
        self._is_valid = is_valid
        self._watch: deque[Watch] = deque(maxlen=limit)
        self._qwatch: dict[int, Watch] = {}

    def __len__(self) -> int:
        return len(self._watch)

    def __iter__(self) -> Iterator[Watch]:
        return iter(self._watch)

    def add_locked(self, rec: Record, now: float, *, owner_dead: bool, qaddr: int = 0) -> None:
        """Watch a record a cleanup just released, if its object is still alive."""
        strong: object = None
        if rec.flags & HELD_FLAG:
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
            if obj is None or (qaddr and not self._is_valid(obj)):
                return
            ref = weakref.ref(obj)
        watch = Watch()
        watch.strong = strong
        del strong
        watch.name = rec.name or type(obj).__name__
        watch.site = site_of(rec)
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

    def owner_gone_locked(self, comp: Component) -> None:
        """Mark the watches of an unregistered owner's resources as orphaned."""
        for watch in self._watch:
            if watch.ckey is comp:
                watch.owner_dead = True

    def destroyed_locked(self, address: int) -> None:
        """The QObject at ``address`` was destroyed: its watch, if any, is dead."""
        watch = self._qwatch.pop(address, None)
        if watch is not None:
            watch.dead = True

    def find(self, resource_id: str) -> tuple[object, str, str, str] | None:
        """``(object, type value, name, site)`` of a watched resource still alive, else None."""
        with self._lock:
            watch = next((w for w in self._watch if w.rid == resource_id), None)
        if watch is None or watch.dead:
            return None
        obj = watch.obj()
        if obj is None or (watch.qaddr and not self._is_valid(obj)):
            return None
        return obj, watch.rtype.value, watch.name, watch.site

    def watched(self) -> list[WatchedResource]:
        """Watched resources still alive; dead ones are forgotten."""
        with self._lock:
            entries = list(self._watch)
        out = []
        dead = []
        for w in entries:
            if w.strong is not None and sys.getrefcount(w.strong) <= 2:
                w.strong = None  # only the watch held it (and getrefcount's argument): gone
                w.dead = True
            obj = None if w.dead else w.obj()
            if obj is not None and w.qaddr and not self._is_valid(obj):
                obj = None
            if obj is None:
                dead.append(w)
                continue
            running = w.rtype is _WORKER and is_running(obj)
            out.append(WatchedResource(w.cid, w.rid, w.rtype, w.released_at, w.owner_dead,
                                       w.size, True, running, w.name, w.site))
            del obj
        if dead:
            self._forget(dead)
        return out

    def _forget(self, dead: list[Watch]) -> None:
        with self._lock:
            gone = set(map(id, dead))
            kept = [w for w in self._watch if id(w) not in gone]
            self._watch.clear()
            self._watch.extend(kept)
            for w in dead:
                if w.qaddr:
                    self._qwatch.pop(w.qaddr, None)
