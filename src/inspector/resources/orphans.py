"""The holding area for workers that outlived their owners' cleanup.

Deleting a QThread that still runs aborts the process, so a worker that will not stop within
its coordinator's timeout is held here, not dropped, until it finishes. The inspector reports
such a worker as an ``orphan_worker``; the periodic cleanup and every read let go of the ones
that have finished.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from .bridge import is_running

_lock = threading.Lock()
_held: list[Any] = []
_about: dict[int, OrphanInfo] = {}  # id(worker) -> what it was, while it is held
_terminated = threading.Event()


@dataclass(frozen=True, slots=True)
class OrphanInfo:
    """What a held worker was tracked as, so the inspector can still report it."""

    component_id: str
    resource_id: str
    name: str
    site: str
    handed_at: float
    type_name: str = ""


def note_terminated() -> None:
    """Remember that a thread was terminated: its Python thread state may dangle now."""
    _terminated.set()


def thread_was_terminated() -> bool:
    """Whether any worker was ``terminate()``-d in this process.

    After that, walking other threads' frames can crash CPython, so the inspector stops
    reading them (see inspector.metrics.stacks).
    """
    return _terminated.is_set()


def orphaned_workers() -> list[Any]:
    """Workers whose owners were cleaned up while they still ran, and that run still."""
    with _lock:
        _prune_locked()
        return list(_held)


def orphans() -> list[OrphanInfo]:
    """What each held, still running worker was tracked as (those handed over with it)."""
    with _lock:
        _prune_locked()
        return [_about[id(w)] for w in _held if id(w) in _about]


def hand_over(worker: Any, info: OrphanInfo | None = None) -> None:
    """Hold ``worker`` until it finishes; ``info`` says what it was tracked as."""
    with _lock:
        _prune_locked()
        if not any(w is worker for w in _held):
            _held.append(worker)
        if info is not None:
            _about[id(worker)] = replace(info, type_name=type(worker).__name__)


def orphan_info(component_id: str, resource_id: str, service: Any) -> OrphanInfo:
    """An :class:`OrphanInfo` for a resource the service still tracks (name and site)."""
    found = None
    store = getattr(service, "store", None)
    if store is not None:
        found = store.find_resource(resource_id)
    name, site = (found[2], found[3]) if found is not None else ("", "")
    del found
    return OrphanInfo(component_id, resource_id, name, site, time.monotonic())


def _prune_locked() -> None:
    kept = [w for w in _held if is_running(w)]
    if len(kept) != len(_held):
        alive = {id(w) for w in kept}
        for key in [k for k in _about if k not in alive]:
            del _about[key]
        _held[:] = kept
