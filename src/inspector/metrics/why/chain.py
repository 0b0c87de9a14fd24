"""The chain a user reads: from the best root found, one link per reference, to the object."""

from __future__ import annotations

import types
from functools import partial

from ..snapshot import WhyLink
from .graph import HolderGraph
from .names import (
    CALLABLES,
    MISSING,
    attribute_of,
    callable_info,
    describe_object,
    instance_dict,
    key_of,
    qt_parent,
)


def best_chain(search: HolderGraph, natives: dict[int, int], module_dicts: dict[int, str],
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
        key = key_of(root, objs[1])
        return WhyLink(kind="module global", name=f"{module_dicts[id(root)]}.{key}"), objs[1:]
    if id(root) in frame_dicts:
        key = key_of(root, objs[1])
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
                           name=f"{where}.{key_of(objs[1], objs[2])}"), objs[2:]
        return WhyLink(kind="class attribute", name=where), objs[1:]
    return WhyLink(kind="reference", name=type(root).__name__), objs[1:]


def _native_link(obj: object) -> WhyLink:
    parent = qt_parent(obj)
    if parent is not None:
        return WhyLink(kind="qt parent", name=f"child of {describe_object(parent)}")
    if isinstance(obj, CALLABLES):
        fn_name, fn_site, signal = callable_info(obj)
        what = f"signal {signal} -> {fn_name}" if signal else f"native holder of {fn_name}"
        return WhyLink(kind="qt connection", name=what, site=fn_site)
    return WhyLink(kind="native", name=f"{type(obj).__name__} held outside Python")


def _edges(objs: list[object]) -> list[WhyLink]:
    """How each object holds the next, instance dicts and closure tuples folded in."""
    links: list[WhyLink] = []
    i = 0
    while i < len(objs) - 1:
        after = objs[i + 2] if i + 2 < len(objs) else None
        link, folded = _edge(objs[i], objs[i + 1], after)
        links.append(link)
        i += 1 + folded
    return links


def _edge(holder: object, held: object, after: object) -> tuple[WhyLink, int]:
    """The link by which ``holder`` holds ``held``, and how many objects after ``held`` it
    folds in (``after`` is the next one, None at the end): a reader thinks of an instance's
    ``__dict__`` or a function's closure tuple and cell as part of one reference."""
    if isinstance(holder, dict):
        return _dict_link(holder, held), 0
    if isinstance(held, dict) and after is not None and instance_dict(holder, held):
        key = key_of(held, after)
        return WhyLink(kind="attribute", name=f"{type(holder).__name__}.{key}"), 1
    if isinstance(holder, types.FunctionType):
        return _function_link(holder, held, after), _closure_folded(held, after)
    return _plain_link(holder, held), 0


def _dict_link(holder: dict[object, object], held: object) -> WhyLink:
    """A dict holding ``held`` as a value (named by its key) or as a key (shown itself)."""
    key = key_of(holder, held)
    kind = "dict key" if key is MISSING else "dict value"
    return WhyLink(kind=kind, name=f"[{key!r}]" if kind == "dict value" else repr(held)[:80])


def _closure_folded(held: object, after: object) -> int:
    """How many objects a function's link folds in after ``held``: its closure tuple and
    the cell in it are one link with the function."""
    if not isinstance(held, tuple) or after is None:
        return 0
    return 2 if isinstance(after, types.CellType) else 1


def _plain_link(holder: object, held: object) -> WhyLink:
    """The link from a holder that folds nothing in: a cell, a container, a bound method,
    a partial, or any object by the attribute that holds ``held`` (if one does)."""
    if isinstance(holder, types.CellType):
        return WhyLink(kind="closure", name="cell")
    if isinstance(holder, (list, tuple)):
        index = next((n for n, v in enumerate(holder) if v is held), -1)
        kind = "list item" if isinstance(holder, list) else "tuple item"
        return WhyLink(kind=kind, name=f"{type(holder).__name__}[{index}]")
    if isinstance(holder, (set, frozenset)):
        return WhyLink(kind="set item", name=type(holder).__name__)
    if isinstance(holder, types.MethodType):
        fn_name, fn_site, _ = callable_info(holder)
        return WhyLink(kind="bound method", name=fn_name, site=fn_site)
    if isinstance(holder, partial):
        fn_name, fn_site, _ = callable_info(holder)
        return WhyLink(kind="partial", name=fn_name, site=fn_site)
    attr = attribute_of(holder, held)
    if attr:
        return WhyLink(kind="attribute", name=f"{type(holder).__name__}.{attr}")
    return WhyLink(kind="reference", name=type(holder).__name__)


def _function_link(fn: types.FunctionType, held: object, after: object) -> WhyLink:
    fn_name, fn_site, _ = callable_info(fn)
    closure = fn.__closure__ or ()
    if held is closure and isinstance(after, types.CellType):
        index = next((n for n, c in enumerate(closure) if c is after), -1)
        var = fn.__code__.co_freevars[index] if 0 <= index < len(fn.__code__.co_freevars) \
            else "?"
        return WhyLink(kind="closure", name=f"{fn_name} captures {var}", site=fn_site)
    if held is fn.__defaults__ or held is fn.__kwdefaults__:
        return WhyLink(kind="function", name=f"{fn_name} default argument", site=fn_site)
    return WhyLink(kind="function", name=fn_name, site=fn_site)
