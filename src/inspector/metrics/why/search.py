"""The search: walk the heap backwards from the object, breadth first, to a root.

Computed off the GUI thread, on request, within a time budget. Each step is one
``gc.get_referrers`` call for up to :data:`FRONTIER` objects of the current level at once: one
scan of the heap, one hold of the GIL (21 ms on a 2M-object heap; a scan for 8 objects costs
about what a scan for one does), and the thread sleeps(0) between two scans so the GUI thread
gets the GIL. A chain of a few links takes a few scans. (Listing the heap once and scanning it
in Python chunks keeps each hold shorter, but costs 1.6 s a pass on 2M objects, and a chain
needs two or three passes.)

A holder that Python cannot see (native code) shows as references that no container explains:
``sys.getrefcount`` minus the holders found, the frames' fast locals, and our own. A function,
lambda or partial held that way is a Qt signal connection in a PySide application; its
definition site is named, and the signal when its source line says ``.<signal>.connect(``.
A QObject held that way with a parent is held by its Qt parent.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import types

from inspector.resources.watchlist import WATCH_TYPES

from ..snapshot import WhyResult
from .chain import best_chain
from .frozen import FrozenHeap
from .graph import HolderGraph
from .names import CALLABLES, qt_parent
from .threadframes import thread_frames

#: Objects whose holders one heap scan looks for: a scan for 8 costs about 1.1x one for 1.
FRONTIER = 8
#: How far up from the object the search goes, and how many objects it follows at most.
MAX_DEPTH = 24
MAX_NODES = 50_000
#: What the inspector itself holds a released object with, to watch it (see the store).
_OURS = WATCH_TYPES


def explain(target_box: list[object], resource_id: str, name: str, site: str, *,
            budget_s: float = 2.0) -> WhyResult:
    """The chain that keeps ``target_box[0]`` alive (the box is emptied: the caller keeps no
    reference of its own, so the object's reference count says who else holds it)."""
    deadline = time.perf_counter() + budget_s
    search = HolderGraph(target_box.pop())
    frames = thread_frames(threading.get_ident(), sys._getframe(1), search.callers)
    frame_dicts, fast_locals, skipped, locals_dicts = frames
    modules = [m for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)]
    module_dicts = {id(m.__dict__): m.__name__ for m in modules}
    # Where a walk of the frozen heap starts, if one is needed.
    seeds = [*(m.__dict__ for m in modules), *locals_dicts] if gc.get_freeze_count() else []
    del modules, locals_dicts
    frozen: FrozenHeap | None = None
    natives: dict[int, int] = {}
    level = [next(iter(search.nodes))]
    own = {id(search.nodes), id(target_box), id(frame_dicts), id(frames), id(seeds), *skipped}
    complete = False
    weak_levels = 0
    while level and not complete and time.perf_counter() < deadline:
        following: list[int] = []
        for start in range(0, len(level), FRONTIER):
            ids = level[start:start + FRONTIER]
            _referrers_of(search, ids, own, module_dicts, frame_dicts, following)
            time.sleep(0)  # let the GUI thread have the GIL between two heap scans
            if time.perf_counter() >= deadline:
                break
        else:
            # Only objects with references no holder found explains can have frozen holders:
            # the frozen heap is walked (once, when first needed) and scanned for theirs.
            pending = [nid for nid in level if seeds
                       and _unexplained(search, nid, fast_locals, frozen) > 0]
            if pending and frozen is None:
                frozen = FrozenHeap(seeds, deadline)
                own.add(id(frozen.objects))
            if frozen is not None and pending and not _frozen_referrers(
                    search, frozen, pending, own, module_dicts, frame_dicts, following,
                    deadline):
                break
            natives.update(_native_holders(search, level, fast_locals, frozen))
            # Breadth first: once a level ends with a root found, none shorter can follow.
            # A thread's frame or native code is a weaker answer (a running QThread is held
            # by its own `run` frame and, through that bound method, by Qt): one level more
            # is searched for a global or class that keeps it.
            level = following
            strong = any(kind != "thread frame" for _, kind in search.roots.values())
            weak_levels += bool(search.roots or natives or search.fallback) and not strong
            complete = strong or weak_levels > 1
    if not level and len(search.nodes) < MAX_NODES:
        # Every holder seen (not out of time or nodes): what was found is the answer.
        complete = bool(search.roots or natives or search.fallback)
    if frozen is not None and not frozen.complete:
        complete = False  # a frozen holder may have been missed
    del frozen
    chain, found = best_chain(search, natives, module_dicts, frame_dicts, name, site)
    return WhyResult(resource_id=resource_id, chain=chain, complete=found and complete)


def _frozen_referrers(search: HolderGraph, frozen: FrozenHeap, level: list[int], own: set[int],
                      module_dicts: dict[int, str], frame_dicts: dict[int, str],
                      following: list[int], deadline: float) -> bool:
    """The frozen holders of a whole level (one pass over the frozen heap): False when out
    of time."""
    wanted = set(level)
    holders = frozen.holders(wanted, deadline)
    if holders is None:
        return False
    _take(search, holders, wanted, own, module_dicts, frame_dicts, following)
    return True


def _referrers_of(search: HolderGraph, ids: list[int], own: set[int], module_dicts: dict[int, str],
                  frame_dicts: dict[int, str], following: list[int]) -> None:
    """Every holder of the objects ``ids``: one heap scan (one GIL hold) for all of them."""
    chunk = [search.nodes[i] for i in ids]
    holders = gc.get_referrers(*chunk)
    skip = {id(chunk), id(ids)}
    del chunk
    _take(search, [h for h in holders if id(h) not in skip], set(ids), own, module_dicts,
          frame_dicts, following)


def _take(search: HolderGraph, holders: list[object], wanted: set[int], own: set[int],
          module_dicts: dict[int, str], frame_dicts: dict[int, str], following: list[int]
          ) -> None:
    """Record the holders of ``wanted`` found; those to follow go to ``following``."""
    skip = {*own, id(holders), id(following), id(search.__dict__)}
    for holder in holders:
        if id(holder) in skip:
            continue
        if isinstance(holder, _OURS):  # the leak watch's own hold: counted, never an answer
            for held in gc.get_referents(holder):
                if id(held) in wanted:
                    search.occurrences[id(held)] = search.occurrences.get(id(held), 0) + 1
            continue
        for held in gc.get_referents(holder):
            if id(held) in wanted and _link(search, holder, held, module_dicts, frame_dicts):
                following.append(id(holder))


def _link(search: HolderGraph, holder: object, held: object, module_dicts: dict[int, str],
          frame_dicts: dict[int, str]) -> bool:
    """Record that ``holder`` holds ``held``; True when ``holder`` is new and to be followed."""
    hid, nid = id(holder), id(held)
    if (hid, nid) not in search.pairs:
        search.pairs.add((hid, nid))
        search.occurrences[nid] = search.occurrences.get(nid, 0) + sum(
            1 for r in gc.get_referents(holder) if r is held)
    if hid in search.dist or len(search.nodes) >= MAX_NODES:
        return False  # breadth first: the first distance found is the shortest
    dist = search.dist[nid] + 1
    search.nodes[hid] = holder
    search.dist[hid] = dist
    search.child[hid] = nid
    kind = _root_kind(holder, module_dicts, frame_dicts)
    if kind and hid in search.callers:
        # The caller holding the very object it asks about is no answer; holding what holds
        # it is (ranked after the thread frames of the same level).
        if dist > 1:
            search.fallback[hid] = (dist, kind)
        return False
    if kind:
        search.roots[hid] = (dist, kind)
        return False  # a root: not followed further
    return dist < MAX_DEPTH


def _root_kind(holder: object, module_dicts: dict[int, str],
               frame_dicts: dict[int, str]) -> str:
    if id(holder) in module_dicts:
        return "module global"
    if id(holder) in frame_dicts or isinstance(holder, types.FrameType):
        return "thread frame"
    if isinstance(holder, type):
        return "class attribute"
    return ""


def _native_holders(search: HolderGraph, ids: list[int], fast_locals: dict[int, int],
                    frozen: FrozenHeap | None) -> dict[int, int]:
    """Those of ``ids`` (every holder of theirs now found) that something outside Python's
    view holds too: id -> how many references nothing explains."""
    out: dict[int, int] = {}
    nodes = search.nodes
    for nid in ids:
        if nid in search.roots or nid in search.fallback:
            continue
        unexplained = _unexplained(search, nid, fast_locals, frozen)
        if unexplained <= 0:
            continue
        obj = nodes[nid]
        if isinstance(obj, CALLABLES) or qt_parent(obj) is not None or nid not in search.child:
            out[nid] = unexplained
        del obj
    return out


def _unexplained(search: HolderGraph, nid: int, fast_locals: dict[int, int],
                 frozen: FrozenHeap | None) -> int:
    """How many references to a node no holder found, frame or list of ours accounts for."""
    # Ours: `search.nodes`, getrefcount's argument, and the frozen heap's list.
    ours = 2 + (frozen is not None and nid in frozen.ids)
    return (sys.getrefcount(search.nodes[nid]) - ours - search.occurrences.get(nid, 0)
            - fast_locals.get(nid, 0))
