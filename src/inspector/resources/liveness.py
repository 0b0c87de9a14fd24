"""Liveness: hearing that a resource or an owner died, and applying it to the store.

Deaths arrive as weak-reference callbacks (plain objects) and as QObject ``destroyed``
notifications (through the store's Qt bridge). One that arrives while this thread holds the
store's lock (a garbage collection triggered inside a tracked call) only records what
happened, as a typed entry (inspector.resources.pending), applied as soon as the lock is
released; from any other context it is applied at once. Applying an owner's death runs no
user code either: its cleanup is recorded and handed to the owner's home thread's event loop
(inspector.resources.cleanup.clean_collected; docs/architecture.md, "The interrupted-frame
rule").

``Liveness`` holds its store weakly: the store holds it (and every record holds one of its
bound methods), and nothing the store owns may refer back to it strongly, so a store and
its service die by reference count in the thread that drops them (see ResourceStore).
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING, assert_never

from . import cleanup
from .pending import (
    OwnerCollected,
    OwnerRegistered,
    Pending,
    QObjectDestroyed,
    ResourceCollected,
)
from .records import Component, KeyedRef, Resource
from .types import EventKind

if TYPE_CHECKING:
    from .store import ResourceStore


class Liveness:
    """The store's receiver of deaths and its queue of those that must wait."""

    __slots__ = ("__weakref__", "_draining", "_store", "pending")

    def __init__(self, store: ResourceStore) -> None:
        self._store = weakref.ref(store)
        self.pending: deque[Pending] = deque()
        self._draining = threading.local()

    def queue(self, store: ResourceStore, entry: Pending) -> None:
        """Record ``entry`` for later; every append goes through here so the hot paths'
        one flag (``store._slow``) sees it."""
        self.pending.append(entry)
        store._slow = True

    # -- notifications (they may interrupt any frame, our own locked sections included) --

    def resource_collected(self, rec: Resource) -> None:
        """A tracked resource was garbage collected."""
        store = self._store()
        # No id: its track was interrupted before the record went in (a bad type, or a
        # KeyboardInterrupt as the lock was taken), so there is nothing to release.
        rid = getattr(rec, "rid", "")
        if store is None or not rid:
            return
        if store._owned():
            self.queue(store, ResourceCollected(rid))
            return
        self._release(store, rid, "collected")

    def component_collected(self, ref: KeyedRef) -> None:
        """An owner was garbage collected: have it cleaned up later, on its home thread."""
        store = self._store()
        if store is None:
            return
        comp = self._forget_owner(store, ref)
        if comp is None:
            return
        if store._owned():  # a collection inside one of our own calls: clean up after it
            self.queue(store, OwnerCollected(comp))
        else:
            cleanup.clean_collected(store, comp)

    def wrapper_collected(self, ref: KeyedRef) -> None:
        """A QObject owner's Python wrapper went; its C++ object may live on (a Qt parent
        owns it) and is still known by address. Only its id is freed."""
        store = self._store()
        if store is not None:
            self._forget_owner(store, ref)

    def qobject_destroyed(self, address: int) -> None:
        """A watched QObject is being destroyed (called in the destroying thread)."""
        store = self._store()
        if store is None:
            return
        if store._owned():
            # Resolve the address now, while it still names the dying object: malloc may
            # hand it to a new QObject, tracked before the queue is applied. We hold the
            # lock already (re-entrantly), and nothing iterates these tables.
            self.queue(store, self._forget_address_locked(store, address))
            return
        with store._lock:
            dead = self._forget_address_locked(store, address)
        self._qobject_gone(store, dead)

    # -- applying ------------------------------------------------------------------------

    def after(self) -> None:
        """Apply what is queued, if anything (called after the lock is released)."""
        if self.pending:
            self.drain()

    def drain(self) -> None:
        """Apply the deaths that arrived while this thread held the lock.

        Not re-entered on one thread: a cleanup applied here ends by draining again, and
        a chain of collections would otherwise recurse one level per owner (a
        RecursionError in a finaliser, which loses that owner's cleanup). The outer loop
        takes what the inner call would have.
        """
        state = self._draining
        if getattr(state, "active", False):
            return
        state.active = True
        try:
            self._drain_queue()
        finally:
            state.active = False

    def _drain_queue(self) -> None:
        store = self._store()
        if store is None:
            return
        while True:
            try:
                entry = self.pending.popleft()
            except IndexError:
                store._slow = store._resource_events or bool(self.pending)
                return
            if isinstance(entry, ResourceCollected):
                self._release(store, entry.rid, "collected")
            elif isinstance(entry, OwnerRegistered):
                store._events.component(EventKind.COMPONENT_REGISTERED, entry.comp)
            elif isinstance(entry, OwnerCollected):
                cleanup.clean_collected(store, entry.comp)
            elif isinstance(entry, QObjectDestroyed):
                self._qobject_gone(store, entry)
            else:
                assert_never(entry)

    @staticmethod
    def _release(store: ResourceStore, rid: str, reason: str) -> None:
        with store._lock:
            released = store._release_locked(rid)
        if released is not None and store._resource_events:
            store._events.resource(EventKind.RESOURCE_RELEASED, released, reason)

    @staticmethod
    def _forget_owner(store: ResourceStore, ref: KeyedRef) -> Component | None:
        """Drop a dead owner's id at once, so every id in the table is a live object's.

        That invariant lets the hot path trust an id hit without calling the reference.
        Popping one entry is safe even inside this thread's own locked section (nothing
        iterates the live table; readers copy it first).
        """
        if store._owned():
            return _pop_owner(store, ref)
        with store._lock:
            return _pop_owner(store, ref)

    @staticmethod
    def _forget_address_locked(store: ResourceStore, address: int) -> QObjectDestroyed:
        store._watch.destroyed_locked(address)
        return QObjectDestroyed(store._qresources.get(address), store._qcomponents.get(address))

    @staticmethod
    def _qobject_gone(store: ResourceStore, dead: QObjectDestroyed) -> None:
        if dead.rid is not None:
            Liveness._release(store, dead.rid, "destroyed")
        if dead.comp is not None:  # user callbacks: deferred, as a collected owner's
            cleanup.clean_destroyed(store, dead.comp)


def _pop_owner(store: ResourceStore, ref: KeyedRef) -> Component | None:
    key = ref.key
    comp = store._components.get(key)
    if comp is None or comp.ref is not ref:
        return None
    del store._components[key]
    return comp
