"""The holding area for workers that outlived their owners' cleanup.

Deleting a QThread that still runs aborts the process, so a worker that will not stop within
its coordinator's timeout is held here, not dropped, until it finishes. The inspector reports
such a worker as an ``orphan_worker``; the periodic cleanup and every read let go of the ones
that have finished.

Each service has a holding area (``service.orphans``): by default the process's ``ORPHANS``,
which the module functions below read, or one passed to it (prometheus_client's default
registry pattern), so a test or an embedder can keep its orphans apart. Whether a thread was
ever terminated stays process-wide: it is a fact about the interpreter, not a service.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from .bridge import is_running

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


class OrphanHold:
    """Workers held until they finish, with what each was tracked as."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[Any] = []
        self._about: dict[int, OrphanInfo] = {}  # id(worker) -> what it was, while held

    def hand_over(self, worker: Any, info: OrphanInfo | None = None) -> None:
        """Hold ``worker`` until it finishes; ``info`` says what it was tracked as."""
        with self._lock:
            self._prune_locked()
            if not any(w is worker for w in self._held):
                self._held.append(worker)
            if info is not None:
                self._about[id(worker)] = replace(info, type_name=type(worker).__name__)

    def workers(self) -> list[Any]:
        """Held workers that still run (finished ones are let go first)."""
        with self._lock:
            self._prune_locked()
            return list(self._held)

    def infos(self) -> list[OrphanInfo]:
        """What each held, still running worker was tracked as (those handed over with it)."""
        with self._lock:
            self._prune_locked()
            return [self._about[id(w)] for w in self._held if id(w) in self._about]

    def prune(self) -> None:
        """Let go of the held workers that have finished."""
        with self._lock:
            self._prune_locked()

    def _prune_locked(self) -> None:
        kept = [w for w in self._held if is_running(w)]
        if len(kept) != len(self._held):
            alive = {id(w) for w in kept}
            for key in [k for k in self._about if k not in alive]:
                del self._about[key]
            self._held[:] = kept


#: The process's default holding area (services use it unless given their own).
ORPHANS = OrphanHold()


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
    """Workers in the default holding area whose owners were cleaned up while they still
    ran, and that run still."""
    return ORPHANS.workers()


def orphans() -> list[OrphanInfo]:
    """What each worker in the default holding area was tracked as."""
    return ORPHANS.infos()


def hand_over(worker: Any, info: OrphanInfo | None = None) -> None:
    """Hold ``worker`` in the default holding area until it finishes."""
    ORPHANS.hand_over(worker, info)


def holding_area(service: object) -> OrphanHold:
    """The holding area of ``service`` (its ``orphans``), else the default one."""
    hold = getattr(service, "orphans", None)
    return hold if isinstance(hold, OrphanHold) else ORPHANS


def orphan_info(component_id: str, resource_id: str, service: Any) -> OrphanInfo:
    """An :class:`OrphanInfo` for a resource the service still tracks (name and site)."""
    found = None
    store = getattr(service, "store", None)
    if store is not None:
        found = store.find_resource(resource_id)
    name, site = (found[2], found[3]) if found is not None else ("", "")
    del found
    return OrphanInfo(component_id, resource_id, name, site, time.monotonic())
