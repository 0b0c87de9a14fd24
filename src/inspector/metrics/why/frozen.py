"""Holders in the frozen heap, which ``gc.get_referrers`` cannot see.

A frozen heap (``gc.freeze``: an application that froze its start-up heap, the pytest plugin
that freezes the session's) is invisible to ``gc.get_referrers``, module dicts included, and
no Python API lists it (``gc.get_objects(generation=...)`` stops at the three young
generations). It is not thawed for the search: this runs on the server's helper thread
while the application runs, and ``gc.unfreeze()``/``gc.freeze()`` there would (1) re-freeze,
for good, every object the application made since its own freeze (its later cycles then
never collected), or need a full collection first, which would run finalizers of Qt
wrappers off the GUI thread; (2) let the GUI thread's collections traverse the thawed heap
meanwhile, the pause the application froze to avoid; (3) race the application's own
freeze/unfreeze calls. Instead, once a level has objects with references no holder found
explains, :class:`FrozenHeap` finds the frozen objects by walking forward (``gc.get_referents``)
from the module dicts and the threads' locals through objects that are tracked and not in a
young generation (once per search), and the level's unexplained objects are looked for in
them, in slices like the rest. It costs the young heap's ids (one ``gc.get_objects``), the
walk, and a pass over the frozen objects' references for such a level (23k frozen objects:
about 60 ms and 20-40 ms); nothing when nothing is frozen or every reference is explained.
A frozen container reachable only through objects made after the freeze is not found.
"""

from __future__ import annotations

import gc
import time

#: Objects one ``gc.get_referents`` call of the frozen heap's walk or scan takes.
SLICE = 1024


class FrozenHeap:
    """The frozen heap (see the module's docstring): found once, scanned for holders."""

    def __init__(self, seeds: list[object], deadline: float) -> None:
        young = set(map(id, gc.get_objects()))  # ids only: no reference kept
        self.objects: list[object] = []
        self.ids: set[int] = set()
        self.complete = True
        wanted = gc.get_freeze_count()
        frontier = [o for o in seeds if gc.is_tracked(o)]
        seen = {id(o) for o in frontier}
        for obj in frontier:
            if id(obj) not in young:
                self.add(obj)
        while frontier and len(self.objects) < wanted:
            if time.perf_counter() >= deadline:
                self.complete = False
                break
            following: list[object] = []
            for start in range(0, len(frontier), SLICE):
                for ref in gc.get_referents(*frontier[start:start + SLICE]):
                    rid = id(ref)
                    # Untracked objects hold nothing a search follows; young ones are seen
                    # by gc.get_referrers and not walked through.
                    if rid in seen or rid in young or not gc.is_tracked(ref):
                        continue
                    seen.add(rid)
                    self.add(ref)
                    following.append(ref)
                time.sleep(0)  # one slice at a time: the GUI thread gets the GIL between
            frontier = following
        del frontier

    def add(self, obj: object) -> None:
        """Note ``obj`` as frozen."""
        self.objects.append(obj)
        self.ids.add(id(obj))

    def holders(self, wanted: set[int], deadline: float) -> list[object] | None:
        """The frozen objects holding any of ``wanted``; None when out of time."""
        found: list[object] = []
        objs = self.objects
        for start in range(0, len(objs), SLICE):
            chunk = objs[start:start + SLICE]
            # One call for a slice; most hold none of the objects sought.
            if not wanted.isdisjoint(map(id, gc.get_referents(*chunk))):
                found.extend(o for o in chunk
                             if not wanted.isdisjoint(map(id, gc.get_referents(o))))
            del chunk
            if start % (16 * SLICE) == 0:
                time.sleep(0)
                if time.perf_counter() >= deadline:
                    return None
        return found
