"""The ``stacks`` reply: every thread's Python stack, each thread named, the GUI thread first.

Not a wrapper of :mod:`inspector.metrics.stacks` but the reply built on it: that module reads
raw stacks by ident; this one names each thread, tells its kind and finds the QThread and
tracked worker behind it, which needs the source (its probe and its service). Reading is done
by :mod:`inspector.metrics.stacks`, which asks the main thread for its own
stack when it can (a signal handler) and reads the others with ``sys._current_frames()``.
That is as safe as CPython allows, which is not entirely: after a QThread was
``terminate()``-d while running Python code, the interpreter's thread list keeps a dangling
thread state and anything that walks it (this, ``faulthandler``) can crash the process.

Naming: ``threading`` knows the threads Python started. A QThread running Python code is
found by its frames: the outermost one is the QThread's ``run`` (``self`` is the QThread), or
a slot of a worker object that lives in it (``self.thread()`` is the QThread). Such a thread
is named after the QThread's objectName, else its class, and, when the QThread (or the worker
object) is a tracked worker, carries the component that owns it.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any

from ..metrics.stacks import thread_names, thread_stacks
from ..resources.orphans import thread_was_terminated
from .source import MetricsSource, ProbedSource, ServicedSource

#: Frames from the outermost inward that are searched for the object running a thread.
_OWNER_DEPTH = 3


def stacks_reply(source: MetricsSource | None = None) -> dict[str, Any]:
    """``{"main_thread": ident, "gui_thread": ident, "threads": [{"id", "native_id", "name",
    "kind", "main", "gui", "daemon", "qthread", "component", "resource_id", "stack"}]}``.

    The GUI thread comes first, then the others by name; each stack is ``"function
    (file:line)"`` innermost last. ``kind`` is ``gui``, ``python`` (a ``threading`` thread),
    ``qthread`` or ``native`` (a thread Python did not start and no QThread was found for);
    ``qthread`` is the QThread's class, ``component``/``resource_id`` the tracked worker's.
    """
    probe = source.probe if isinstance(source, ProbedSource) else None
    stacks = thread_stacks(probe.main_stack if probe is not None else None)
    names = thread_names()
    known = {t.ident: t for t in threading.enumerate()}
    main_id = threading.main_thread().ident
    gui_id = (probe.gui_ident if probe is not None else None) or main_id
    owners = _qthread_owners(set(stacks) - {gui_id}, source)
    threads = []
    for ident, stack in stacks.items():
        thread = known.get(ident)
        owner = owners.get(ident, {})
        name = names.get(ident, "")
        dummy = isinstance(thread, threading._DummyThread)  # "Dummy-3": a name nobody gave
        if ident == gui_id:
            kind = "gui"
        elif owner:
            kind = "qthread"
        elif thread is not None and not dummy:
            kind = "python"
        else:
            kind = "native"
        if owner and (dummy or not name):
            name = owner["name"]
        if not name or (dummy and not owner):
            name = _unnamed(stack, thread)
        threads.append({
            "id": ident,
            "native_id": getattr(thread, "native_id", None),
            "name": name,
            "kind": kind,
            "main": ident == main_id,
            "gui": ident == gui_id,
            "daemon": bool(thread.daemon) if thread is not None else True,
            "qthread": owner.get("qthread", ""),
            "component": owner.get("component", ""),
            "resource_id": owner.get("resource_id", ""),
            "stack": stack,
        })
    threads.sort(key=lambda t: (not t["gui"], not t["main"], str(t["name"])))
    return {"main_thread": main_id, "gui_thread": gui_id, "threads": threads}


def _unnamed(stack: list[str], thread: threading.Thread | None) -> str:
    """A name for a thread nobody named: what it runs, never its bare ident."""
    if stack:
        outer = stack[0].split(" (", 1)[0]
        return f"unnamed thread in {outer}"
    if thread is not None:
        return thread.name
    return "unnamed thread"


def _qthread_owners(idents: set[int], source: MetricsSource | None
                    ) -> dict[int, dict[str, str]]:
    """``{ident: {"name", "qthread", "component", "resource_id"}}`` for threads found to be
    running a QThread's Python code."""
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is None or not idents or thread_was_terminated():
        return {}
    qthread_type = qtcore.QThread
    qobject_type = qtcore.QObject
    tracked = _tracked_workers(source)
    frames = sys._current_frames()
    found: dict[int, dict[str, str]] = {}
    try:
        for ident in idents:
            frame = frames.get(ident)
            if frame is None:
                continue
            thread_obj, worker = _runner(frame, qthread_type, qobject_type)
            if thread_obj is None:
                continue
            entry = {"name": _qt_name(thread_obj), "qthread": type(thread_obj).__name__,
                     "component": "", "resource_id": ""}
            for candidate in (thread_obj, worker):
                owner = tracked.get(id(candidate)) if candidate is not None else None
                if owner is not None:
                    entry["component"], entry["resource_id"] = owner
                    break
            found[ident] = entry
    finally:
        del frames
    return found


def _runner(frame: FrameType, qthread_type: Any, qobject_type: Any
            ) -> tuple[Any, Any]:
    """(the QThread, the worker object or None) a thread's outermost frames run for."""
    chain: list[FrameType] = []
    current: FrameType | None = frame
    while current is not None:
        chain.append(current)
        current = current.f_back
    for outer in reversed(chain[-_OWNER_DEPTH:]):
        if "self" not in outer.f_code.co_varnames[:1]:
            continue
        this = outer.f_locals.get("self")
        if isinstance(this, qthread_type):
            return this, None
        if isinstance(this, qobject_type):
            try:
                home = this.thread()
            except RuntimeError:  # its C++ object is gone
                continue
            if isinstance(home, qthread_type):
                return home, this
    return None, None


def _qt_name(thread_obj: Any) -> str:
    try:
        name = str(thread_obj.objectName())
    except RuntimeError:
        name = ""
    return name or type(thread_obj).__name__


def _tracked_workers(source: MetricsSource | None) -> dict[int, tuple[str, str]]:
    """``{id(worker): (component id, resource id)}`` of the source's tracked workers."""
    if not isinstance(source, ServicedSource):
        return {}
    return {id(obj): (cid, rid) for obj, cid, rid in source.service.store.tracked_workers()}
