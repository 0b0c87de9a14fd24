"""Why is it still alive: the chain of references from a root to a leaked object.

:func:`reference_chain` is the one place the pytest plugin asks; it is the hook point for a
fuller ``why`` engine (docs/testing.md, "How it works"). What is here is a small, bounded search: a
breadth-first walk up ``gc.get_referrers`` from the object until it meets a root - a module
global, a class attribute, or an object nothing in Python refers to, which is held from native
code: a Qt signal connection holding a lambda, a C++ parent holding a widget. A function met
on the way is named with its definition site, so a lambda connected to a signal reads as
``<lambda> (app/tabs.py:42), held from native code (...)``.

It runs only once a test has failed on a leak, on the test's thread, and costs a few
``gc.get_referrers`` scans of the heap: it gives up after ``max_nodes`` objects or
``budget_s`` seconds and then returns None. Callers hold the object only in locals (frames
are never part of an answer), never in a container of their own.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import types
from collections import deque
from collections.abc import Callable
from typing import Any, cast

#: Referrers that are never part of an answer: frames (the walk's own, the caller's).
_SKIP_TYPES = (types.FrameType, types.GeneratorType, types.CoroutineType)

#: This package's directory: its frames hold what they explain, and are no answer.
_PACKAGE = os.path.dirname(os.path.abspath(__file__))

NATIVE = "held from native code (a Qt signal connection, a C++ parent)"


def reference_chain(obj: object, *, max_nodes: int = 80, budget_s: float = 1.0
                    ) -> list[str] | None:
    """The links from a root to ``obj``, root first and ``obj`` last, or None.

    Each link names what holds the next one: ``module app.cache global _SEEN``, ``list item
    3``, ``MainWindow .tabs``, ``closure cell``, ``<lambda> (app/tabs.py:42)``.
    """
    # Frozen objects (the pytest plugin freezes what the session starts with) are invisible
    # to gc.get_referrers, module dicts among them: thaw them for the walk, freeze after.
    frozen = gc.get_freeze_count()
    if frozen:
        gc.unfreeze()
    try:
        return _walk(obj, max_nodes, budget_s)
    finally:
        if frozen:
            gc.collect()
            gc.freeze()


def _walk(obj: object, max_nodes: int, budget_s: float) -> list[str] | None:
    deadline = time.monotonic() + budget_s
    modules = {id(vars(m)): name for name, m in list(sys.modules.items())
               if isinstance(m, types.ModuleType)}
    queue: deque[tuple[object, list[str]]] = deque([(obj, [describe(obj)])])
    seen: set[int] = {id(obj)}
    own: set[int] = {id(queue), id(seen), id(modules)}
    # Held from native code is an answer, but a named root (a global, a class, a local) at
    # about the same depth says more: a running QThread is held both by Qt, through the
    # bound method it runs, and by the list the application keeps it in.
    native: list[str] | None = None
    expanded = 0
    while queue and expanded < max_nodes and time.monotonic() < deadline:
        node, path = queue.popleft()
        if native is not None and len(path) > len(native) + 1:
            break
        expanded += 1
        referrers = gc.get_referrers(node)
        own.add(id(referrers))
        holders = [r for r in referrers if id(r) not in own and not isinstance(r, _SKIP_TYPES)]
        del referrers
        locals_ = _stack_locals(node, own) if expanded > 1 else []
        if not holders and locals_:
            return [f"{locals_[0]} → {path[0]}", *path[1:]]
        if native is None and (not holders or (
                expanded > 1 and _held_natively(node, holders, len(locals_)))):
            native = [f"{path[0]}, {NATIVE}", *path[1:]]
        for holder in holders:
            if id(holder) in modules:
                return [f"module {modules[id(holder)]} global {_key_of(holder, node)}", *path]
            if isinstance(holder, type):
                return [f"class {holder.__module__}.{holder.__qualname__}", *path]
            if id(holder) in seen:
                continue
            seen.add(id(holder))
            owner, link = _step(holder, node)
            if owner is not holder:
                if id(owner) in seen:
                    continue
                seen.add(id(owner))
            queue.append((owner, [link, *path]))
        # No reference of the walk's own may outlive the step: the counts above rely on it.
        holders, holder, owner, node = [], None, None, None
    return native


def _held_natively(node: object, holders: list[object], from_frames: int) -> bool:
    """Whether something outside Python also holds ``node``: a function or method that a Qt
    signal connection keeps (PySide holds the callable itself), even when it is also part of
    a Python cycle (a lambda stored on the object it captures)."""
    if not isinstance(node, types.FunctionType | types.MethodType):
        return False
    from_python = from_frames
    for holder in holders:  # a plain loop: a comprehension would hold ``node`` in a cell
        for referent in gc.get_referents(holder):
            if referent is node:
                from_python += 1
    # getrefcount's own argument, this frame's ``node`` and the walk's.
    return sys.getrefcount(node) - 3 - from_python > 0


def _stack_locals(node: object, own: set[int]) -> list[str]:
    """``local NAME of function (file:line)`` for each running frame (the walk's callers)
    holding ``node`` in a local variable: a root while a test still runs."""
    found = []
    frame: Any = sys._getframe(2)  # above this function and the walk
    while frame is not None:
        if frame.f_code.co_filename.startswith(_PACKAGE):  # the plugin's own frames
            frame = frame.f_back
            continue
        names = frame.f_locals  # a snapshot dict: the walk must not take it for a holder
        own.add(id(names))
        for name, value in names.items():
            if value is node:
                code = frame.f_code
                found.append(f"local {name} of {code.co_name} "
                             f"({code.co_filename}:{frame.f_lineno})")
        frame = frame.f_back
    return found


def describe(obj: object) -> str:
    """A short name for ``obj``: its class, with a Qt object's name where it has one."""
    if isinstance(obj, types.FunctionType):
        return function_site(obj)
    name = type(obj).__qualname__
    object_name = getattr(obj, "objectName", None)
    if callable(object_name):
        try:
            text = object_name()
        except RuntimeError:  # a wrapper whose C++ object is gone
            return f"{name} (deleted)"
        if isinstance(text, str) and text:
            return f"{name} {text!r}"
    return name


def function_site(fn: types.FunctionType) -> str:
    """``qualname (file:line)`` of a function's definition: a lambda's too."""
    code = fn.__code__
    return f"{fn.__qualname__} ({code.co_filename}:{code.co_firstlineno})"


def _step(holder: object, child: object) -> tuple[object, str]:
    """The next node up from ``child`` through ``holder``, and the link that says how.

    An instance's ``__dict__`` and a function's closure or defaults tuple are stepped over to
    their owner, which names the link better (``Tab .controller``, ``<lambda> (f.py:3)``).
    """
    if isinstance(holder, dict):
        owner = _owner_of(holder, lambda o: getattr(o, "__dict__", None) is holder)
        key = _key_of(holder, child)
        if owner is not None:
            return owner, f"{describe(owner)} .{key}"
        return holder, f"dict[{key}]"
    if isinstance(holder, tuple):
        fn = _owner_of(holder, lambda o: isinstance(o, types.FunctionType) and (
            o.__closure__ is holder or o.__defaults__ is holder))
        if isinstance(fn, types.FunctionType):
            if fn.__closure__ is holder:
                return fn, function_site(fn)
            return fn, f"{function_site(fn)} default argument"
    if isinstance(holder, types.FunctionType):
        return holder, function_site(holder)
    if isinstance(holder, types.MethodType):
        return holder, f"bound method {holder.__func__.__qualname__}"
    if isinstance(holder, types.CellType):
        return holder, "closure cell"
    if isinstance(holder, list | tuple | deque):
        for i, item in enumerate(holder):
            if item is child:
                return holder, f"{type(holder).__name__} item {i}"
    try:
        attributes = vars(holder)
    except TypeError:
        return holder, describe(holder)
    for name, value in attributes.items():
        if value is child:
            return holder, f"{describe(holder)} .{name}"
    return holder, describe(holder)


def _owner_of(value: object, test: Callable[[object], bool]) -> object | None:
    for owner in gc.get_referrers(value):
        if not isinstance(owner, _SKIP_TYPES) and test(owner):
            return cast(object, owner)
    return None


def _key_of(mapping: dict[object, object], child: object) -> str:
    for key, value in mapping.items():
        if value is child:
            return str(key)
    return "?"
