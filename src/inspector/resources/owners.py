"""The store's owner table: registering owners and their cleanups, finding and adding them.

The first five functions are ResourceStore's methods (it assigns them in its body).

Owners are keyed by ``id()`` for the hot path's one dict hit; a QObject owner also by its
C++ address, because PySide6 may hand out a new Python wrapper for the same object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import cleanup
from .records import Callback, Component, KeyedRef, Strong, default_id
from .types import EventKind

if TYPE_CHECKING:
    from .store import ResourceStore


def find_locked(store: ResourceStore, component: object) -> Component | None:
    """The owner record of ``component``, re-keyed if it is a new wrapper of a known QObject."""
    comp = store._components.get(id(component))
    if comp is not None and comp.obj() is component:
        return comp
    if store._qt.is_qobject(component) and store._qt.is_valid(component):
        comp = store._qcomponents.get(store._qt.address(component))
        if comp is not None:  # a new wrapper for a QObject we know: re-key it
            if store._components.get(comp.key) is comp:
                del store._components[comp.key]
            comp.key = id(component)
            comp.ref = ref = KeyedRef(component, store._on_wrapper_collected)
            ref.key = comp.key
            store._components[comp.key] = comp
            return comp
    return None


def add_locked(store: ResourceStore, component: object, cid: str, ctype: str) -> Component:
    """Register ``component``: weakly held (by C++ address too for a QObject), else held."""
    key = id(component)
    comp = Component(key, cid, ctype, time.monotonic())
    if store._qt.is_qobject(component):
        comp.ref = ref = KeyedRef(component, store._on_wrapper_collected)
        ref.key = key
        comp.qaddr = store._qt.watch(component)
        store._qcomponents[comp.qaddr] = comp
    else:
        try:
            comp.ref = ref = KeyedRef(component, store._on_component_collected)
            ref.key = key
        except TypeError:  # not weakly referenceable: owned until cleaned up explicitly
            comp.strong = component
            comp.ref = Strong(component)
    store._components[key] = comp
    return comp


def register_component(store: ResourceStore, component: object, component_id: str,
                       component_type: str = "component") -> None:
    """Start tracking ``component`` as an owner (re-registering renames it)."""
    with store._lock:
        comp = find_locked(store, component)
        if comp is not None:
            comp.cid = component_id
            comp.ctype = component_type
            return
        comp = add_locked(store, component, component_id, component_type)
    store._events.component(EventKind.COMPONENT_REGISTERED, comp)
    store._liveness.after()


def register_cleanup(store: ResourceStore, component: object,
                     callback: Callable[[], object], priority: int = 10) -> None:
    """Run ``callback`` when ``component`` is cleaned up (higher priority first)."""
    if not callable(callback):
        raise TypeError(f"cleanup callback must be callable, got {callback!r}")
    registered = None
    with store._lock:
        comp = find_locked(store, component)
        if comp is None:
            comp = registered = add_locked(
                store, component, default_id(component), "component")
        comp.callbacks.append(Callback(callback, priority, next(store._seq)))
    if registered is not None:
        store._events.component(EventKind.COMPONENT_REGISTERED, registered)
    store._liveness.after()


def component_id(store: ResourceStore, component: object) -> str | None:
    """The id ``component`` is registered under, or None."""
    with store._lock:
        comp = find_locked(store, component)
        return None if comp is None else comp.cid


def cleanup_component(store: ResourceStore, component: object) -> int:
    """Run the component's callbacks and release its resources; return how many."""
    with store._lock:
        comp = find_locked(store, component)
    if comp is None:
        return 0
    return cleanup.run(store, comp, reason="cleanup", unregister=False)


def cleanup_all(store: ResourceStore) -> int:
    """Clean up every registered component; return how many resources were released."""
    with store._lock:
        comps = list(store._components.values())
        deferred = list(store._deferred.values())
    return (sum(cleanup.clean_deferred(store, c) for c in deferred)
            + sum(cleanup.run(store, c, reason="cleanup_all", unregister=False)
                  for c in comps))
