"""The census of live QObject wrappers by class, and of dangling ones (C++ object deleted).

Taken once a second by the tracker's tick on the GUI thread; ``Shiboken.getAllValidWrappers``
lists the live wrappers (about 2 ms at 10,000 objects). Nothing here holds a strong reference
to an object of the program.
"""

from __future__ import annotations

import atexit
import collections
import time
import weakref
from typing import Any

import shiboken6
from PySide6.QtCore import QObject
from shiboken6 import Shiboken

from inspector.metrics.snapshot import CensusEntry, QtCensus

#: Census classes reported in a snapshot (largest first); the rest are summed.
CENSUS_ROWS = 40


class _Ref(weakref.ref):  # type: ignore[type-arg]
    __slots__ = ("key",)
    key: int


class Census:
    """Live QObject wrappers by class and dangling ones (C++ object deleted) by class.

    Every census counts the live wrappers (``getAllValidWrappers`` and a count by type, in C);
    every ``sweep_every``-th one also finds the wrappers that left the valid set while their
    Python object lives on (the dangling ones), which costs a set of ids and a set difference.
    """

    def __init__(self, sweep_every: int = 10) -> None:
        self.sweep_every = max(1, sweep_every)
        self._qobject_types: dict[type, bool] = {}
        self._known: dict[int, _Ref] = {}
        self._dangling: dict[int, _Ref] = {}
        self._dead: collections.deque[_Ref] = collections.deque()
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
        self._dangling.clear()
        self._dead.clear()

    def take(self, now: float, t: float) -> QtCensus:
        """One census (GUI thread): O(wrappers), in C but for the periodic sweep."""
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
        if self._taken % self.sweep_every == 0:
            self._sweep(wrappers)
        self._taken += 1
        del wrappers
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

    def _sweep(self, wrappers: list[Any]) -> None:
        while self._dead:  # weak-reference callbacks only queue; forget them here
            ref = self._dead.popleft()
            if self._known.get(ref.key) is ref:
                del self._known[ref.key]
            if self._dangling.get(ref.key) is ref:
                del self._dangling[ref.key]
        # Built in C (a Python loop over 10,000 wrappers costs more than the listing).
        by_id = dict(zip(map(id, wrappers), wrappers, strict=True))
        known = self._known
        kinds = self._qobject_types
        on_dead = self._dead.append
        gone = known.keys() - by_id.keys()
        w = None
        for key in by_id.keys() - known.keys():
            w = by_id[key]
            if not kinds.get(type(w)):
                continue
            try:
                ref = _Ref(w, on_dead)
            except TypeError:
                continue
            ref.key = key
            known[key] = ref
        del by_id, w
        obj = None
        for key in gone:  # left the valid set: collected, or dangling if still here
            ref = known.pop(key)
            obj = ref()
            if obj is not None and not shiboken6.isValid(obj):
                self._dangling[key] = ref
        del obj


def _own_class(tp: type) -> bool:
    module = getattr(tp, "__module__", "") or ""
    return module.startswith("inspector.") and not module.startswith("inspector.demo")
