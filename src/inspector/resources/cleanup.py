"""Running an owner's cleanup: its callbacks, then the release of what it still owns.

No user code runs under the store's lock: the callbacks are copied out under it, run after
it is released, and the releases and the watch list are updated under it again. What a
cleanup released is watched afterwards for leaks (inspector.resources.watchlist).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .records import QOBJECT_FLAG, Callback, Component, Record
from .types import CallbackRun, EventKind

if TYPE_CHECKING:
    from .store import ResourceStore

log = logging.getLogger("inspector.resources")


@dataclass(frozen=True, slots=True)
class _Begun:
    """What a cleanup took from its owner under the lock, before any callback runs."""

    callbacks: list[Callback]
    owned: list[Record]
    qaddrs: dict[str, int]
    created_before: int
    live_before: int


def run(store: ResourceStore, comp: Component, *, reason: str, unregister: bool) -> int:
    """Run ``comp``'s callbacks once each, release its resources, return how many were
    released (by its callbacks or here); ``unregister`` forgets the owner afterwards."""
    begun = _begin(store, comp, unregister=unregister)
    if begun is None:
        return 0
    try:
        runs = _run_callbacks(comp, begun.callbacks)
    finally:
        # Even when a callback raised past the one-bad-callback guard (KeyboardInterrupt,
        # say): the owner must not stay marked as cleaning, nor its resources unreleased.
        released, count = _release_rest(store, comp, begun, unregister=unregister)
    _announce(store, comp, released, count, runs, reason=reason, unregister=unregister)
    store._liveness.after()
    return count


def _begin(store: ResourceStore, comp: Component, *, unregister: bool) -> _Begun | None:
    """Mark ``comp`` as cleaning and take its callbacks, under the lock; None if it is
    being cleaned already (it is still unregistered, when asked)."""
    with store._lock:
        if comp.cleaning:  # a callback re-entered, or another thread is cleaning it
            if unregister:
                unregister_locked(store, comp)
            return None
        comp.cleaning = True
        # Whoever releases them during this cleanup (a coordinator's callback, or the
        # release of the rest), these are watched afterwards for leaks.
        owned = [store._records[rid] for rid in comp.rids if rid in store._records]
        # Their C++ addresses now: a release drops the address from the index, and the
        # watch needs it to tell a live QObject from a wrapper whose object is deleted.
        qaddrs = {rec.rid: store._qaddress.get(rec.rid, 0) for rec in owned
                  if rec.flags & QOBJECT_FLAG}
        # One-shot: each callback runs at one cleanup. What registers during this
        # cleanup (a coordinator re-arming) runs at the next one.
        callbacks = sorted(comp.callbacks, key=lambda c: (-c.priority, c.seq))
        comp.callbacks = []
        return _Begun(callbacks=callbacks, owned=owned, qaddrs=qaddrs,
                      created_before=comp.created, live_before=len(comp.rids))


def _run_callbacks(comp: Component, callbacks: list[Callback]) -> list[CallbackRun]:
    """Run each callback whose target is alive, outside the lock; how each went."""
    runs: list[CallbackRun] = []
    for cb in callbacks:
        fn = cb.resolve()
        if fn is None:  # its owner was collected: nothing left to clean
            continue
        started = time.perf_counter()
        error = None
        try:
            fn()
        except Exception as exc:  # one bad callback must not stop the others
            error = f"{type(exc).__name__}: {exc}"
            log.exception("cleanup callback %s of %s raised", cb.name, comp.cid)
        runs.append(CallbackRun(cb.name, cb.priority, len(runs),
                                (time.perf_counter() - started) * 1000.0, error))
    return runs


def _release_rest(store: ResourceStore, comp: Component, begun: _Begun, *,
                  unregister: bool) -> tuple[list[Record], int]:
    """Release what ``comp`` still owns and watch what it owned, under the lock; what was
    released here, and how many were released during the whole cleanup."""
    released: list[Record] = []
    with store._lock:
        now = time.monotonic()
        for rid in list(comp.rids):
            rec = store._release_locked(rid)
            if rec is not None:
                released.append(rec)
        for rec in begun.owned:
            if rec.rid not in store._records:
                store._watch.add_locked(rec, now, owner_dead=unregister,
                                        qaddr=begun.qaddrs.get(rec.rid, 0))
        # Released during this cleanup, by callbacks or here, counting any tracked
        # while the callbacks ran.
        count = comp.created - begun.created_before + begun.live_before - len(comp.rids)
        comp.cleaning = False
        if unregister:
            unregister_locked(store, comp)
    return released, count


def _announce(store: ResourceStore, comp: Component, released: list[Record], count: int,
              runs: list[CallbackRun], *, reason: str, unregister: bool) -> None:
    """The events of a finished cleanup, sent outside the lock."""
    if store._resource_events:
        for rec in released:
            store._events.resource(EventKind.RESOURCE_RELEASED, rec, "cleanup")
    store._events.component(EventKind.CLEANUP_PERFORMED, comp, reason=reason,
                            released=count, callbacks=tuple(runs))
    if unregister:
        store._events.component(EventKind.COMPONENT_UNREGISTERED, comp, reason=reason)


def unregister_locked(store: ResourceStore, comp: Component) -> None:
    """Forget an owner: its ids, its callbacks, and any strong hold on it."""
    comp.gone = True
    if store._components.get(comp.key) is comp:
        del store._components[comp.key]
    if comp.qaddr and store._qcomponents.get(comp.qaddr) is comp:
        del store._qcomponents[comp.qaddr]
    comp.callbacks.clear()
    if comp.strong is not None:
        comp.strong = None
        comp.ref = None
    store._watch.owner_gone_locked(comp)


def clean_collected(store: ResourceStore, comp: Component, reason: str = "collected") -> None:
    """Clean up a garbage-collected owner later, on the thread that registered it.

    Called from a finaliser, which may interrupt any frame: here the owner is only recorded
    in the store's deferred table and its home thread's event loop woken (the bridge's
    ``call_at_home``). Its callbacks stop timers and close widgets at the loop's next turn;
    until then ``cleanup_all()`` (at exit, say) may run it instead; once either way.
    """
    with store._lock:
        comp.ended = reason
        store._deferred[id(comp)] = comp
    store._qt.call_at_home(comp.home, lambda: clean_deferred(store, comp))


def clean_destroyed(store: ResourceStore, comp: Component) -> None:
    """Clean up a QObject owner whose C++ object is being destroyed, as a collected one.

    ``destroyed`` runs in whatever frame deleted the object: usually the event loop
    processing a ``deleteLater()``, but also the collection of a Python-owned QObject or a
    parent's deletion inside other code. The owner leaves the id and address tables now,
    so that a new object at the same address is not taken for it; its cleanup is deferred.
    """
    with store._lock:
        if store._components.get(comp.key) is comp:
            del store._components[comp.key]
        if comp.qaddr and store._qcomponents.get(comp.qaddr) is comp:
            del store._qcomponents[comp.qaddr]
    clean_collected(store, comp, "destroyed")


def clean_deferred(store: ResourceStore, comp: Component) -> int:
    """Run a collected owner's deferred cleanup, unless it ran already."""
    with store._lock:
        if store._deferred.pop(id(comp), None) is None:
            return 0
    return run(store, comp, reason=comp.ended, unregister=True)
