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
"""

from __future__ import annotations

import gc
import linecache
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


class _Search:
    """State of one search (ids only, except ``nodes``, which holds each object once)."""

    def __init__(self, target: object) -> None:
        self.nodes: dict[int, object] = {id(target): target}
        self.dist: dict[int, int] = {id(target): 0}
        self.child: dict[int, int] = {}  # holder id -> id of what it holds, toward the target
        self.occurrences: dict[int, int] = {}  # id -> references from holders found
        self.pairs: set[tuple[int, int]] = set()
        self.roots: dict[int, tuple[int, str]] = {}  # root holder id -> (dist, kind)


def explain(target_box: list[object], resource_id: str, name: str, site: str, *,
            budget_s: float = 2.0) -> WhyResult:
    """The chain that keeps ``target_box[0]`` alive (the box is emptied: the caller keeps no
    reference of its own, so the object's reference count says who else holds it)."""
    deadline = time.perf_counter() + budget_s
    me = threading.get_ident()
    frame_dicts, fast_locals = _thread_frames(me)
    module_dicts = {id(m.__dict__): m.__name__ for m in list(sys.modules.values())
                    if isinstance(m, types.ModuleType)}
    search = _Search(target_box.pop())
    natives: dict[int, int] = {}
    level = [next(iter(search.nodes))]
    own = {id(search.nodes), id(target_box), id(frame_dicts)}
    complete = False
    while level and not complete and time.perf_counter() < deadline:
        following: list[int] = []
        for start in range(0, len(level), FRONTIER):
            ids = level[start:start + FRONTIER]
            _referrers_of(search, ids, own, module_dicts, frame_dicts, following)
            natives.update(_native_holders(search, ids, fast_locals))
            time.sleep(0)  # let the GUI thread have the GIL between two heap scans
            if time.perf_counter() >= deadline:
                break
        else:
            # Breadth first: once a level ends with a root found, none shorter can follow.
            complete = bool(search.roots or natives)
            level = following
    chain, found = _best_chain(search, natives, module_dicts, frame_dicts, name, site)
    return WhyResult(resource_id=resource_id, chain=chain, complete=found and complete)


def _thread_frames(me: int) -> tuple[dict[int, str], dict[int, int]]:
    """Other threads' frames: their locals dicts (id -> "function (file:line)") and how many
    fast-local slots of theirs hold each object (references no container shows)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    frame_dicts: dict[int, str] = {}
    fast: dict[int, int] = {}
    if thread_was_terminated():  # walking threads could crash the process (metrics/stacks)
        return frame_dicts, fast
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        current: types.FrameType | None = frame
        while current is not None:
            code = current.f_code
            where = (f"{code.co_qualname} ({code.co_filename}:{current.f_lineno}) "
                     f"in thread {names.get(ident, ident)}")
            local = current.f_locals  # the frame keeps this dict: a holder the scan sees
            frame_dicts[id(local)] = where
            for value in local.values():
                fast[id(value)] = fast.get(id(value), 0) + 1
            current = current.f_back
    return frame_dicts, fast


def _referrers_of(search: _Search, ids: list[int], own: set[int], module_dicts: dict[int, str],
                  frame_dicts: dict[int, str], following: list[int]) -> None:
    """Every holder of the objects ``ids``: one heap scan (one GIL hold) for all of them."""
    chunk = [search.nodes[i] for i in ids]
    wanted = set(ids)
    holders = gc.get_referrers(*chunk)
    skip = {*own, id(chunk), id(ids), id(following), id(search.__dict__)}
    del chunk
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


def _native_holders(search: _Search, ids: list[int], fast_locals: dict[int, int]
                    ) -> dict[int, int]:
    """Those of ``ids`` (every holder of theirs now found) that something outside Python's
    view holds too: id -> how many references nothing explains."""
    out: dict[int, int] = {}
    nodes = search.nodes
    for nid in ids:
        if nid in search.roots:
            continue
        # Ours: `search.nodes` and getrefcount's argument.
        unexplained = (sys.getrefcount(nodes[nid]) - 2 - search.occurrences.get(nid, 0)
                       - fast_locals.get(nid, 0))
        if unexplained <= 0:
            continue
        obj = nodes[nid]
        if isinstance(obj, _CALLABLES) or _qt_parent(obj) is not None or nid not in search.child:
            out[nid] = unexplained
        del obj
    return out


def _best_chain(search: _Search, natives: dict[int, int], module_dicts: dict[int, str],
                frame_dicts: dict[int, str], name: str, site: str
                ) -> tuple[list[WhyLink], bool]:
    candidates = [(dist, 0, rid) for rid, (dist, _) in search.roots.items()]
    candidates += [(search.dist[nid], 1, nid) for nid in natives]
    found = bool(candidates)
    if candidates:
        _, native, start = min(candidates)
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
        return WhyLink(kind="qt parent", name=f"child of {_describe_qobject(parent)}")
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


def _describe_qobject(obj: object) -> str:
    try:
        name = obj.objectName()  # type: ignore[attr-defined]
    except RuntimeError:
        name = ""
    return f"{type(obj).__name__} {name!r}" if name else type(obj).__name__
