"""Why is it still alive: the shortest chain of references from a root to an object.

LeakCanary's answer to "what keeps it": walk the heap backwards from the object, breadth
first, until a root is reached: a module global, a class attribute, a running thread's frame,
or something held from native code (a Qt signal connection holding a lambda, a C++ parent
holding a widget).

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
explains, :class:`_Frozen` finds the frozen objects by walking forward (``gc.get_referents``)
from the module dicts and the threads' locals through objects that are tracked and not in a
young generation (once per search), and the level's unexplained objects are looked for in
them, in slices like the rest. It costs the young heap's ids (one ``gc.get_objects``), the
walk, and a pass over the frozen objects' references for such a level (23k frozen objects:
about 60 ms and 20-40 ms); nothing when nothing is frozen or every reference is explained.
A frozen container reachable only through objects made after the freeze is not found.

The caller's own thread: its frames' locals (the pytest plugin's callers hold the object in
one) are counted as holders, never as native code; those outside this package are roots
("thread frame", ranked after other threads' frames and never for the object itself), as a
test still running holds what it made.
"""

from __future__ import annotations

import gc
import linecache
import os
import re
import sys
import threading
import time
import types
from collections.abc import Callable
from functools import partial
from typing import Any

from inspector.resources.orphans import thread_was_terminated
from inspector.resources.store import WATCH_TYPES

from .snapshot import WhyLink, WhyResult

#: Objects whose holders one heap scan looks for: a scan for 8 costs about 1.1x one for 1.
FRONTIER = 8
#: How far up from the object the search goes, and how many objects it follows at most.
MAX_DEPTH = 24
MAX_NODES = 50_000

_CONNECT = re.compile(r"\.(\w+)\.connect\s*\(")
_CALLABLES = (types.FunctionType, types.MethodType, partial, types.BuiltinMethodType)
#: What the inspector itself holds a released object with, to watch it (see the store).
_OURS = WATCH_TYPES
#: This package's directory: frames of its code hold what they ask about, and are no answer.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CO_OPTIMIZED = 0x0001  # inspect.CO_OPTIMIZED: a function's frame, locals in fast slots
#: Objects one ``gc.get_referents`` call of the frozen heap's walk or scan takes.
_SLICE = 1024


class _Search:
    """State of one search (ids only, except ``nodes``, which holds each object once)."""

    def __init__(self, target: object) -> None:
        self.nodes: dict[int, object] = {id(target): target}
        self.dist: dict[int, int] = {id(target): 0}
        self.child: dict[int, int] = {}  # holder id -> id of what it holds, toward the target
        self.occurrences: dict[int, int] = {}  # id -> references from holders found
        self.pairs: set[tuple[int, int]] = set()
        self.roots: dict[int, tuple[int, str]] = {}  # root holder id -> (dist, kind)
        # The caller's own frames outside this package: roots ranked after the others.
        self.callers: set[int] = set()
        self.fallback: dict[int, tuple[int, str]] = {}  # their root ids -> (dist, kind)


class _Frozen:
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
                self._add(obj)
        while frontier and len(self.objects) < wanted:
            if time.perf_counter() >= deadline:
                self.complete = False
                break
            following: list[object] = []
            for start in range(0, len(frontier), _SLICE):
                for ref in gc.get_referents(*frontier[start:start + _SLICE]):
                    rid = id(ref)
                    # Untracked objects hold nothing a search follows; young ones are seen
                    # by gc.get_referrers and not walked through.
                    if rid in seen or rid in young or not gc.is_tracked(ref):
                        continue
                    seen.add(rid)
                    self._add(ref)
                    following.append(ref)
                time.sleep(0)  # one slice at a time: the GUI thread gets the GIL between
            frontier = following
        del frontier

    def _add(self, obj: object) -> None:
        self.objects.append(obj)
        self.ids.add(id(obj))

    def holders(self, wanted: set[int], deadline: float) -> list[object] | None:
        """The frozen objects holding any of ``wanted``; None when out of time."""
        found: list[object] = []
        objs = self.objects
        for start in range(0, len(objs), _SLICE):
            chunk = objs[start:start + _SLICE]
            # One call for a slice; most hold none of the objects sought.
            if not wanted.isdisjoint(map(id, gc.get_referents(*chunk))):
                found.extend(o for o in chunk
                             if not wanted.isdisjoint(map(id, gc.get_referents(o))))
            del chunk
            if start % (16 * _SLICE) == 0:
                time.sleep(0)
                if time.perf_counter() >= deadline:
                    return None
        return found


def explain(target_box: list[object], resource_id: str, name: str, site: str, *,
            budget_s: float = 2.0) -> WhyResult:
    """The chain that keeps ``target_box[0]`` alive (the box is emptied: the caller keeps no
    reference of its own, so the object's reference count says who else holds it)."""
    deadline = time.perf_counter() + budget_s
    search = _Search(target_box.pop())
    frames = _thread_frames(threading.get_ident(), sys._getframe(1), search.callers)
    frame_dicts, fast_locals, skipped, locals_dicts = frames
    modules = [m for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)]
    module_dicts = {id(m.__dict__): m.__name__ for m in modules}
    # Where a walk of the frozen heap starts, if one is needed.
    seeds = [*(m.__dict__ for m in modules), *locals_dicts] if gc.get_freeze_count() else []
    del modules, locals_dicts
    frozen: _Frozen | None = None
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
                frozen = _Frozen(seeds, deadline)
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
    chain, found = _best_chain(search, natives, module_dicts, frame_dicts, name, site)
    return WhyResult(resource_id=resource_id, chain=chain, complete=found and complete)


def _thread_frames(me: int, caller: types.FrameType | None, callers: set[int]
                   ) -> tuple[dict[int, str], dict[int, int], set[int], list[object]]:
    """The threads' frames: their locals dicts (id -> "function (file:line) in thread T"),
    how many references no container shows each object has from them (fast-local slots;
    with the locals dict too for this package's own frames, whose dicts are skipped: their
    ids are the third item), and the locals dicts themselves (where the frozen heap's walk
    starts). ``callers`` gets the ids of the caller's frames' dicts outside this package."""
    names = {t.ident: t.name for t in threading.enumerate()}
    frame_dicts: dict[int, str] = {}
    fast: dict[int, int] = {}
    skipped: set[int] = set()
    dicts: list[object] = []
    if thread_was_terminated():  # walking threads could crash the process (metrics/stacks)
        return frame_dicts, fast, skipped, dicts
    stacks: dict[int, types.FrameType | None] = {**sys._current_frames()}
    stacks[me] = caller  # the caller's stack: not this function's own frames
    for ident, frame in stacks.items():
        current: types.FrameType | None = frame
        while current is not None:
            code = current.f_code
            if current.f_locals is current.f_globals:  # module level: a module global
                current = current.f_back
                continue
            local = current.f_locals  # the frame keeps this dict: a holder the scan sees
            # A class body's or exec's locals are that dict alone: no fast slots.
            cells = {*code.co_cellvars, *code.co_freevars} \
                if code.co_flags & _CO_OPTIMIZED else local.keys()
            ours = ident == me and code.co_filename.startswith(_PACKAGE)
            if ours:
                skipped.add(id(local))
            else:
                frame_dicts[id(local)] = (f"{code.co_qualname} ({code.co_filename}:"
                                          f"{current.f_lineno}) in thread "
                                          f"{names.get(ident, ident)}")
                dicts.append(local)
                if ident == me:
                    callers.add(id(local))
            for key, value in local.items():
                # A cell variable's slot holds its cell, not the value; a skipped dict's own
                # reference is one no holder found accounts for.
                count = (key not in cells) + ours
                fast[id(value)] = fast.get(id(value), 0) + count
            current = current.f_back
    return frame_dicts, fast, skipped, dicts


def _frozen_referrers(search: _Search, frozen: _Frozen, level: list[int], own: set[int],
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


def _referrers_of(search: _Search, ids: list[int], own: set[int], module_dicts: dict[int, str],
                  frame_dicts: dict[int, str], following: list[int]) -> None:
    """Every holder of the objects ``ids``: one heap scan (one GIL hold) for all of them."""
    chunk = [search.nodes[i] for i in ids]
    holders = gc.get_referrers(*chunk)
    skip = {id(chunk), id(ids)}
    del chunk
    _take(search, [h for h in holders if id(h) not in skip], set(ids), own, module_dicts,
          frame_dicts, following)


def _take(search: _Search, holders: list[object], wanted: set[int], own: set[int],
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


def _link(search: _Search, holder: object, held: object, module_dicts: dict[int, str],
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


def _native_holders(search: _Search, ids: list[int], fast_locals: dict[int, int],
                    frozen: _Frozen | None) -> dict[int, int]:
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
        if isinstance(obj, _CALLABLES) or _qt_parent(obj) is not None or nid not in search.child:
            out[nid] = unexplained
        del obj
    return out


def _unexplained(search: _Search, nid: int, fast_locals: dict[int, int],
                 frozen: _Frozen | None) -> int:
    """How many references to a node no holder found, frame or list of ours accounts for."""
    # Ours: `search.nodes`, getrefcount's argument, and the frozen heap's list.
    ours = 2 + (frozen is not None and nid in frozen.ids)
    return (sys.getrefcount(search.nodes[nid]) - ours - search.occurrences.get(nid, 0)
            - fast_locals.get(nid, 0))


def _best_chain(search: _Search, natives: dict[int, int], module_dicts: dict[int, str],
                frame_dicts: dict[int, str], name: str, site: str
                ) -> tuple[list[WhyLink], bool]:
    # (rank, native, frame, id): a thread's frame and native code rank with a global or
    # class one level further, which names where the application keeps it.
    candidates = [(dist + (kind == "thread frame"), 0, kind == "thread frame", rid)
                  for rid, (dist, kind) in search.roots.items()]
    candidates += [(search.dist[nid] + 1, 1, False, nid) for nid in natives]
    # The caller's own frames (a test still running) rank as thread frames, after them.
    candidates += [(dist + 1, 0, True, rid) for rid, (dist, _) in search.fallback.items()]
    found = bool(candidates)
    if candidates:
        _, native, _, start = min(candidates)
    else:  # no root within budget: the longest chain found
        start = max(search.dist, key=lambda k: search.dist[k])
        native = 0
    path = [start]
    while path[-1] in search.child:
        path.append(search.child[path[-1]])
    objs = [search.nodes[i] for i in path]
    links: list[WhyLink] = []
    if native and found:
        links.append(_native_link(objs[0]))
    elif found:
        root, objs = _root_link(objs, module_dicts, frame_dicts)
        links.append(root)
    links.extend(_edges(objs))
    target = objs[-1]
    label = name or type(target).__name__
    if label != type(target).__name__:
        label = f"{type(target).__name__} {label!r}"
    links.append(WhyLink(kind="object", name=label, site=site))
    return links, found


def _root_link(objs: list[object], module_dicts: dict[int, str],
               frame_dicts: dict[int, str]) -> tuple[WhyLink, list[object]]:
    """The root's link and the objects after it (a class and its namespace are one)."""
    root = objs[0]
    if id(root) in module_dicts:
        key = _key_of(root, objs[1])
        return WhyLink(kind="module global", name=f"{module_dicts[id(root)]}.{key}"), objs[1:]
    if id(root) in frame_dicts:
        key = _key_of(root, objs[1])
        return WhyLink(kind="thread frame", name=f"local {key}",
                       site=frame_dicts[id(root)]), objs[1:]
    if isinstance(root, types.FrameType):
        code = root.f_code
        return WhyLink(kind="thread frame", name=code.co_qualname,
                       site=f"{code.co_qualname} ({code.co_filename}:{root.f_lineno})"
                       ), objs[1:]
    if isinstance(root, type):
        where = f"{root.__module__}.{root.__qualname__}"
        if len(objs) > 2 and isinstance(objs[1], dict):
            return WhyLink(kind="class attribute",
                           name=f"{where}.{_key_of(objs[1], objs[2])}"), objs[2:]
        return WhyLink(kind="class attribute", name=where), objs[1:]
    return WhyLink(kind="reference", name=type(root).__name__), objs[1:]


def _native_link(obj: object) -> WhyLink:
    parent = _qt_parent(obj)
    if parent is not None:
        return WhyLink(kind="qt parent", name=f"child of {describe_object(parent)}")
    if isinstance(obj, _CALLABLES):
        fn_name, fn_site, signal = _callable_info(obj)
        what = f"signal {signal} -> {fn_name}" if signal else f"native holder of {fn_name}"
        return WhyLink(kind="qt connection", name=what, site=fn_site)
    return WhyLink(kind="native", name=f"{type(obj).__name__} held outside Python")


def _edges(objs: list[object]) -> list[WhyLink]:
    """How each object holds the next, instance dicts and closure tuples folded in."""
    links: list[WhyLink] = []
    i = 0
    while i < len(objs) - 1:
        holder, held = objs[i], objs[i + 1]
        after = objs[i + 2] if i + 2 < len(objs) else None
        if isinstance(holder, dict):
            key = _key_of(holder, held)
            kind = "dict key" if key is _MISSING else "dict value"
            links.append(WhyLink(kind=kind, name=f"[{key!r}]" if kind == "dict value"
                                 else repr(held)[:80]))
        elif isinstance(held, dict) and after is not None and _instance_dict(holder, held):
            key = _key_of(held, after)
            links.append(WhyLink(kind="attribute", name=f"{type(holder).__name__}.{key}"))
            i += 1
        elif isinstance(holder, types.FunctionType):
            links.append(_function_link(holder, held, after))
            if isinstance(held, tuple) and after is not None:
                i += 1  # the closure tuple and its cell are one link
                if isinstance(after, types.CellType):
                    i += 1
        elif isinstance(holder, types.CellType):
            links.append(WhyLink(kind="closure", name="cell"))
        elif isinstance(holder, (list, tuple)):
            index = next((n for n, v in enumerate(holder) if v is held), -1)
            kind = "list item" if isinstance(holder, list) else "tuple item"
            links.append(WhyLink(kind=kind, name=f"{type(holder).__name__}[{index}]"))
        elif isinstance(holder, (set, frozenset)):
            links.append(WhyLink(kind="set item", name=type(holder).__name__))
        elif isinstance(holder, types.MethodType):
            fn_name, fn_site, _ = _callable_info(holder)
            links.append(WhyLink(kind="bound method", name=fn_name, site=fn_site))
        elif isinstance(holder, partial):
            fn_name, fn_site, _ = _callable_info(holder)
            links.append(WhyLink(kind="partial", name=fn_name, site=fn_site))
        else:
            attr = _attribute_of(holder, held)
            if attr:
                links.append(WhyLink(kind="attribute", name=f"{type(holder).__name__}.{attr}"))
            else:
                links.append(WhyLink(kind="reference", name=type(holder).__name__))
        i += 1
    return links


def _function_link(fn: types.FunctionType, held: object, after: object) -> WhyLink:
    fn_name, fn_site, _ = _callable_info(fn)
    closure = fn.__closure__ or ()
    if held is closure and isinstance(after, types.CellType):
        index = next((n for n, c in enumerate(closure) if c is after), -1)
        var = fn.__code__.co_freevars[index] if 0 <= index < len(fn.__code__.co_freevars) \
            else "?"
        return WhyLink(kind="closure", name=f"{fn_name} captures {var}", site=fn_site)
    if held is fn.__defaults__ or held is fn.__kwdefaults__:
        return WhyLink(kind="function", name=f"{fn_name} default argument", site=fn_site)
    return WhyLink(kind="function", name=fn_name, site=fn_site)


def _callable_info(obj: object) -> tuple[str, str, str]:
    """``(name, definition site, signal named on that line or "")`` of a callable."""
    fn: Any = obj
    prefix = ""
    if isinstance(obj, partial):
        prefix, fn = "functools.partial of ", obj.func
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    code = getattr(fn, "__code__", None)
    if code is None:
        return prefix + getattr(fn, "__qualname__", type(fn).__name__), "", ""
    line = code.co_firstlineno
    site = f"{code.co_qualname} ({code.co_filename}:{line})"
    # Read off the GUI thread, on request only: the line that defined a lambda usually
    # connects it too (`self.sig.connect(lambda: ...)`).
    source = linecache.getline(code.co_filename, line)
    found = _CONNECT.search(source)
    return prefix + code.co_qualname, site, found.group(1) if found else ""


_MISSING = object()


def _key_of(mapping: object, value: object) -> Any:
    if not isinstance(mapping, dict):
        return _MISSING
    for key, v in list(mapping.items()):
        if v is value:
            return key
    return _MISSING


def _instance_dict(holder: object, d: dict[Any, Any]) -> bool:
    try:
        return object.__getattribute__(holder, "__dict__") is d
    except (AttributeError, TypeError):
        return False


def _attribute_of(holder: object, held: object) -> str:
    try:
        attrs = object.__getattribute__(holder, "__dict__")
    except (AttributeError, TypeError):
        attrs = {}
    for key, value in list(attrs.items()):
        if value is held:
            return str(key)
    for cls in type(holder).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            try:
                if object.__getattribute__(holder, slot) is held:
                    return str(slot)
            except (AttributeError, TypeError):
                continue
    return ""


def _qt_parent(obj: object) -> object:
    parent: Callable[[], object] | None = None
    qobject = sys.modules.get("PySide6.QtCore")
    if qobject is None or not isinstance(obj, qobject.QObject):
        return None
    try:
        parent = obj.parent
        return parent()
    except RuntimeError:  # its C++ object is gone
        return None


def describe_object(obj: object) -> str:
    """A short name for ``obj``: its class, with a Qt object's name where it has one."""
    name = type(obj).__qualname__
    get = getattr(obj, "objectName", None)
    if not callable(get):
        return name
    try:
        text = get()
    except RuntimeError:  # a wrapper whose C++ object is gone
        return f"{name} (deleted)"
    return f"{name} {text!r}" if isinstance(text, str) and text else name
