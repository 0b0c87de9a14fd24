"""The census of live QObject wrappers by class, and of dangling ones (C++ object deleted).

Taken once a second by the tracker's tick on the GUI thread; ``Shiboken.getAllValidWrappers``
lists the live wrappers (about 1.5 ms at 10,000 objects), and everything else a census does
costs about half as much again, the same at every census (bench/bench_run.py: 2.4 ms).
Nothing here holds a strong reference to an object of the program.
"""

from __future__ import annotations

import atexit
import collections
import time
import weakref
from bisect import bisect_left
from itertools import compress, islice
from operator import not_
from typing import Any

import shiboken6
from PySide6.QtCore import QObject
from shiboken6 import Shiboken

from inspector.metrics.snapshot import CensusEntry, QtCensus

#: Census classes reported in a snapshot (largest first); the rest are summed.
CENSUS_ROWS = 40
#: New wrappers given a weak reference per census at most (about 0.4 us each): a program
#: that makes 10,000 QObjects at once has them all followed within a few seconds, and no
#: census pays for all of them.
NEW_PER_CENSUS = 1000
#: The fewest known wrappers one census checks for dangling.
CHECK_AT_LEAST = 64


class _Ref(weakref.ref):  # type: ignore[type-arg]
    __slots__ = ("key",)
    key: int


class Census:
    """Live QObject wrappers by class and dangling ones (C++ object deleted) by class.

    Every census counts the live wrappers (``getAllValidWrappers`` and a count by type, in C)
    and does a ``1/sweep_every`` share of the sweep for dangling ones: it gives the QObject
    wrappers of one address range that it has not seen a weak reference, and checks a share
    of those it knows (one still referenced whose C++ object is gone is dangling). So a
    wrapper is followed, and checked, within ``sweep_every`` censuses, and each census costs
    the same instead of every tenth paying for a whole sweep (18 ms at 10,000 QObjects).

    All of it runs on the GUI thread, in the tick. Another thread would not give that time
    back: the listing, the counts and the checks hold the GIL throughout (the listing is one C
    call), so the GUI thread would wait for them just the same. It would be safe, though:
    none of it touches a C++ object, only Python wrappers, whose validity flag shiboken keeps
    in the wrapper itself (``shiboken6.isValid`` reads that flag, never the object).
    """

    def __init__(self, sweep_every: int = 10) -> None:
        self.sweep_every = max(1, sweep_every)
        self._qobject_types: dict[type, bool] = {}
        #: ``id -> weak reference`` of every QObject wrapper seen and still alive.
        self._known: dict[int, _Ref] = {}
        #: The known references in the order the dangling check visits them, and where the
        #: current pass is.
        self._order: list[_Ref] = []
        self._checked = 0
        self._survivors: list[_Ref] = []
        self._dangling: dict[int, _Ref] = {}
        self._dead: collections.deque[_Ref] = collections.deque()
        #: Where the address ranges of this pass and the last split (``sweep_every - 1``
        #: addresses each).
        self._bounds: list[int] = []
        self._last_bounds: list[int] = []
        self._taken = 0
        self.last: QtCensus | None = None
        self.history: collections.deque[tuple[float, dict[str, int]]] = collections.deque(
            maxlen=600)
        # Weak references to thousands of wrappers still held when the interpreter tears its
        # modules down crash it (PySide6 6.11, seen at 10,000): forget them before that.
        atexit.register(self.clear)

    def clear(self) -> None:
        """Forget every weak reference (at exit, or when the tracker closes)."""
        self._known.clear()
        self._order = []
        self._checked = 0
        self._survivors = []
        self._dangling.clear()
        self._dead.clear()
        self._bounds = []
        self._last_bounds = []

    def take(self, now: float, t: float) -> QtCensus:
        """One census (GUI thread): the listing and counts in C, a bounded share in Python."""
        started = time.perf_counter()
        wrappers = Shiboken.getAllValidWrappers()
        by_type = collections.Counter(map(type, wrappers))
        kinds = self._qobject_types
        live: dict[str, int] = {}
        for tp, count in by_type.items():
            is_q = kinds.get(tp)
            if is_q is None:
                is_q = kinds[tp] = issubclass(tp, QObject) and not _own_class(tp)
            if is_q:
                live[tp.__name__] = live.get(tp.__name__, 0) + count
        self._forget_dead()
        self._follow_new(self._share_of(wrappers))
        del wrappers
        self._check_some()
        self._taken += 1
        dangling: dict[str, int] = {}
        obj = None
        for ref in list(self._dangling.values()):
            obj = ref()
            if obj is None:
                continue
            name = type(obj).__name__
            dangling[name] = dangling.get(name, 0) + 1
        del obj
        rows = sorted(live.items(), key=lambda kv: (-kv[1], kv[0]))
        entries = [CensusEntry(class_name=name, live=count, dangling=dangling.get(name, 0))
                   for name, count in rows[:CENSUS_ROWS]]
        shown = {e.class_name for e in entries}
        entries += [CensusEntry(class_name=name, live=0, dangling=count)
                    for name, count in sorted(dangling.items()) if name not in shown]
        census = QtCensus(t=round(t, 3), duration_ms=round((time.perf_counter() - started)
                                                           * 1000.0, 3),
                          live=sum(live.values()), dangling=sum(dangling.values()),
                          classes=entries)
        self.last = census
        self.history.append((now, live))
        return census

    def _forget_dead(self) -> None:
        """Drop the references whose wrapper was collected (their callbacks only queue)."""
        known, dangling = self._known, self._dangling
        while self._dead:
            ref = self._dead.popleft()
            if known.get(ref.key) is ref:
                del known[ref.key]
            if dangling.get(ref.key) is ref:
                del dangling[ref.key]

    def _share_of(self, wrappers: list[Any]) -> list[Any]:
        """This census's share of the listing: the wrappers in its address range.

        ``getAllValidWrappers`` lists the wrappers in address order (shiboken keeps them in
        a ``std::set`` of pointers; ``id`` is that address), so a range is two bisections.
        Each pass splits the addresses anew, into ranges of about as many wrappers. A range
        ends at the later of its new and its last pass's end: so any ``sweep_every``
        censuses in a row, across a new split too, see every address, and a wrapper is
        followed within ``sweep_every`` censuses of being made. A listing found out of
        order is taken whole.
        """
        k = self.sweep_every
        phase = self._taken % k
        if phase == 0:
            n = len(wrappers)
            self._last_bounds = self._bounds
            self._bounds = [id(wrappers[i * n // k]) for i in range(1, k)] if n else []
        bounds, last = self._bounds, self._last_bounds
        if len(bounds) != k - 1:
            return wrappers  # the listing was empty when the pass began: no ranges
        start = bisect_left(wrappers, bounds[phase - 1], key=id) if phase else 0
        if phase == k - 1:
            end = len(wrappers)
        else:
            until = max(bounds[phase], last[phase]) if len(last) == k - 1 else bounds[phase]
            end = bisect_left(wrappers, until, key=id)
        share = wrappers[start:end]
        ids = list(map(id, share))
        if ids != sorted(ids):
            return wrappers
        return share

    def _follow_new(self, wrappers: list[Any]) -> None:
        """Give the QObject wrappers among ``wrappers`` not seen before a weak reference (at
        most :data:`NEW_PER_CENSUS`); the rest wait for the next pass."""
        known = self._known
        kinds = self._qobject_types
        order = self._order
        on_dead = self._dead.append
        # Built in C: a Python loop over thousands of wrappers costs more than the listing.
        fresh = compress(wrappers, map(not_, map(known.__contains__, map(id, wrappers))))
        added = 0
        w = None
        for w in fresh:
            if not kinds.get(type(w)):
                continue  # not a QObject, or the inspector's own
            try:
                ref = _Ref(w, on_dead)
            except TypeError:
                continue
            ref.key = id(w)
            known[ref.key] = ref
            order.append(ref)  # checked in the current pass
            added += 1
            if added >= NEW_PER_CENSUS:
                break
        del w, fresh

    def _check_some(self) -> None:
        """Check the next share of the known wrappers: one alive whose C++ object is gone is
        dangling. A pass over all of them takes ``sweep_every`` censuses."""
        order = self._order
        share = max(CHECK_AT_LEAST, -(-len(order) // self.sweep_every))
        start = self._checked
        end = min(len(order), start + share)
        dangling, keep = self._dangling, self._survivors.append
        is_valid = shiboken6.isValid
        obj = None
        for ref in islice(order, start, end):
            obj = ref()
            if obj is None:
                continue  # collected: its callback has queued it for _forget_dead
            keep(ref)
            if not is_valid(obj):
                dangling[ref.key] = ref
        del obj
        self._checked = end
        if end >= len(order):  # the pass is over: the next one visits what is left
            self._order, self._survivors, self._checked = self._survivors, [], 0


def _own_class(tp: type) -> bool:
    module = getattr(tp, "__module__", "") or ""
    return module.startswith("inspector.") and not module.startswith("inspector.demo")
