"""The store's owner table: finding an owner's record and adding one.

Owners are keyed by ``id()`` for the hot path's one dict hit; a QObject owner also by its
C++ address, because PySide6 may hand out a new Python wrapper for the same object.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .records import Component, KeyedRef, Strong

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
