"""The resource management service: the interface controllers use, over the lock-and-counter store.

``ResourceManagementService`` is a QObject because Qt code connects to its lifecycle signals;
its state lives in a plain :class:`~inspector.resources.store.ResourceStore`. A signal is
emitted only while something is connected to it (an emit with no receiver still costs about
1 µs), and plain-Python listeners get the same events without a Qt signal's cost.
"""

from __future__ import annotations

import logging
import resource as _rusage
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QMetaMethod, QObject, Signal

from ._qt import QtBridge, run_deferred
from ._qt import prepare as prepare_main_loop_calls
from .counts import StoreAggregate, WorkerState
from .exits import EXIT_CLEANUPS, ExitCleanups
from .janitor import JANITOR, Janitor
from .orphans import ORPHANS, OrphanHold
from .records import weak_callable
from .shutdown import after_loop
from .store import ResourceStore
from .types import EventKind, LifecycleEvent, ResourceType, WatchedResource

log = logging.getLogger("inspector.resources")

_RESOURCE_KINDS = (EventKind.RESOURCE_TRACKED, EventKind.RESOURCE_RELEASED)


class ResourceManagementService(QObject):
    """Thread-safe registry of components and the resources they own; satisfies the
    :class:`~inspector.resources.interfaces.IResourceManagementService` protocol.

    Lifecycle signals carry one :class:`~inspector.resources.types.LifecycleEvent` each
    (component id, resource id, type, size, time). ``memory_threshold_bytes`` arms
    ``memory_warning`` when the process's resident memory passes it. ``capture_sites``
    records where each resource was tracked (``store.capture_sites`` switches it later).

    Process-wide helpers are the defaults, and each can be passed instead (prometheus_client's
    pattern): ``janitor`` runs the periodic cleanup (``JANITOR``), ``exits`` runs the exit
    cleanup (``EXIT_CLEANUPS``), ``orphans`` holds workers that outlive their owners
    (``ORPHANS``), ``ids`` numbers resources (the store's ``IDS``).
    """

    component_registered = Signal(object)
    component_unregistered = Signal(object)
    resource_tracked = Signal(object)
    resource_released = Signal(object)
    cleanup_performed = Signal(object)
    memory_warning = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        memory_threshold_bytes: int | None = None,
        cleanup_interval_ms: int = 5000,
        capture_sites: bool = True,
        janitor: Janitor | None = None,
        exits: ExitCleanups | None = None,
        orphans: OrphanHold | None = None,
        ids: Iterator[int] | None = None,
    ) -> None:
        super().__init__(parent)
        #: The holding area of the workers this service's coordinators orphan.
        self.orphans = ORPHANS if orphans is None else orphans
        self._connected: dict[str, bool] = {k.value: False for k in EventKind}
        self._listeners: list[tuple[Callable[[], Callable[[LifecycleEvent], None] | None],
                                    bool]] = []
        self._store = store = ResourceStore(self._dispatch, bridge=QtBridge, ids=ids)
        store.capture_sites = capture_sites
        self._exit_lock = threading.Lock()
        self._exited = False
        self._threshold = memory_threshold_bytes
        self._warning_armed = True
        self._stale_connections = False
        self._hooked = False
        self._bind_fast_path()
        (EXIT_CLEANUPS if exits is None else exits).add(self._exit_cleanup)
        self.hook_application()
        # The periodic cleanup runs on the janitor's thread, not on a QTimer (see janitor.py).
        (JANITOR if janitor is None else janitor).add(self, cleanup_interval_ms / 1000.0)

    #: The hot calls, served by the store's own bound methods (see _bind_fast_path).
    FAST_PATH = ("track_resource", "release_resource", "register_component")

    def _bind_fast_path(self) -> None:
        """Make each hot call the store's bound method, unless a subclass overrides it.

        A call through a method of a QObject subclass costs 305 ns before it reaches the
        store; through an instance attribute bound to the plain store, 97 ns. A subclass
        that defines one of these methods keeps its own: it is called, and it reaches the
        store through ``super()``.
        """
        for name in self.FAST_PATH:
            if getattr(type(self), name) is getattr(ResourceManagementService, name):
                setattr(self, name, getattr(self._store, name))

    @property
    def fast_path_bound(self) -> frozenset[str]:
        """The hot calls this instance serves straight from its store."""
        return frozenset(n for n in self.FAST_PATH if n in self.__dict__)

    # -- the interface ---------------------------------------------------------------------

    def register_component(
        self, component: object, component_id: str, component_type: str = "component"
    ) -> None:
        """Start tracking an owner; it is cleaned up when it is destroyed or collected."""
        self._store.register_component(component, component_id, component_type)

    def register_cleanup(
        self, component: object, callback: Callable[[], object], priority: int = 10
    ) -> None:
        """Run ``callback`` at the component's next cleanup: higher priority first, ties in
        registration order; each callback runs once.

        A bound method is held weakly; an exception in one callback is logged and the rest
        still run.
        """
        self._store.register_cleanup(component, callback, priority)

    def track_resource(self, component: object, resource_type: ResourceType, resource: object,
                       size_bytes: int | None = None, metadata: dict[str, Any] | None = None,
                       *, name: str | None = None, site: str | None = None) -> str:
        """Track ``resource``; a collected (or destroyed QObject) resource releases itself.

        ``name`` is shown instead of the id (default: the object's class name); ``site`` is
        where it was made (default: the innermost frame outside the inspector package).
        """
        return self._store.track_resource(component, resource_type, resource, size_bytes,
                                          metadata, name=name, site=site)

    def release_resource(self, component: object, resource_id: str) -> bool:
        """Stop tracking a resource; False for an unknown id, never an exception."""
        return self._store.release_resource(component, resource_id)

    def update_resource_size(self, resource_id: str, size_bytes: int) -> bool:
        """Change a tracked resource's size in bytes; False for an unknown id."""
        return self._store.update_size(resource_id, size_bytes)

    def cleanup_component(self, component: object) -> int:
        """Run the component's callbacks, release its resources, return how many."""
        return self._store.cleanup_component(component)

    def cleanup_all(self) -> int:
        """Clean up every component; return how many resources were released."""
        return self._store.cleanup_all()

    def component_id(self, component: object) -> str | None:
        """The id ``component`` is registered under, or None."""
        return self._store.component_id(component)

    def is_tracked(self, resource_id: str) -> bool:
        """Whether ``resource_id`` is tracked now."""
        return self._store.is_tracked(resource_id)

    def get_statistics(self) -> dict[str, Any]:
        """Counts by type and component, bytes, peaks: a plain dict, safe to serialise."""
        agg = self._store.aggregate()
        rss, peak_rss = process_memory()
        return {
            "components": len(agg.components),
            "live_resources": agg.live_total,
            "created_total": agg.created_total,
            "destroyed_total": agg.destroyed_total,
            "tracked_bytes": agg.tracked_bytes,
            "peak_tracked_bytes": agg.peak_tracked_bytes,
            "rss_bytes": rss,
            "peak_rss_bytes": peak_rss,
            "by_type": {t.value: {"live": c.live, "created": c.created,
                                  "destroyed": c.destroyed, "bytes": c.bytes}
                        for t, c in agg.by_type.items() if c.created},
            "by_component": {c.component_id: {"type": c.component_type, "live": c.live,
                                              "bytes": c.bytes}
                             for c in agg.components},
        }

    # -- what the inspector reads ------------------------------------------------------------

    def aggregate(self) -> StoreAggregate:
        """Every counter, taken consistently under one lock."""
        return self._store.aggregate()

    def workers(self) -> list[WorkerState]:
        """Tracked workers and whether each runs."""
        return self._store.workers()

    def watched(self) -> list[WatchedResource]:
        """Resources released by a cleanup that are still alive."""
        return self._store.watched()

    @property
    def store(self) -> ResourceStore:
        """The plain-Python store behind this service (listings, pruning)."""
        return self._store

    def add_listener(
        self, listener: Callable[[LifecycleEvent], None], *, resource_events: bool = False
    ) -> None:
        """Call ``listener`` (in the thread of the change) for every lifecycle event.

        Component events are rare and always delivered; per-resource events only with
        ``resource_events=True``, since building them costs on the hot path.
        """
        # A bound method is held weakly: a model listening to a service it also holds must
        # not form a cycle (a QObject in a cycle is freed by the garbage collector in any
        # thread, which Qt does not survive). Plain functions are held strongly.
        ref = weak_callable(listener)
        self._listeners = [*self._listeners, (ref, resource_events)]
        self._update_resource_events()

    def remove_listener(self, listener: Callable[[LifecycleEvent], None]) -> None:
        """Stop calling ``listener``."""
        kept = []
        for ref, wants_resources in self._listeners:
            fn = ref()  # a bound method compares equal to another of the same object
            if fn is not None and fn != listener:
                kept.append((ref, wants_resources))
        self._listeners = kept
        self._update_resource_events()

    # -- application hooks ----------------------------------------------------------------

    def hook_application(self) -> bool:
        """Clean up when the application's event loop ends, once an application exists;
        True once hooked.

        Not inside ``aboutToQuit`` itself: Qt emits it within ``quit()``, which a signal
        handler may call from any interrupted frame (see ``shutdown.after_loop``).
        """
        if not self._hooked:
            self._hooked = after_loop(self._exit_cleanup)
            if self._hooked:  # an application now exists: make the main loop's receiver here
                prepare_main_loop_calls()
        return self._hooked

    def periodic_cleanup(self) -> None:
        """Prune dead references, re-check signal receivers and sample memory."""
        self._store.prune()
        self.orphans.prune()
        if self._stale_connections:
            self._stale_connections = False
            self._refresh_connected()
        rss, _ = process_memory()
        threshold = self._threshold
        if threshold is None:
            return
        if rss > threshold and self._warning_armed:
            self._warning_armed = False
            self._dispatch(LifecycleEvent(EventKind.MEMORY_WARNING, "", time.monotonic(),
                                          size_bytes=rss, reason="rss_over_threshold"))
        elif rss < threshold * 0.9:
            self._warning_armed = True

    def _exit_cleanup(self) -> int:
        with self._exit_lock:
            if self._exited:
                return 0
            self._exited = True
        try:
            # First what finalisers handed to the main loop and the loop never ran (this
            # store's collected owners among them, and dropped coordinators' cleanups, which
            # release through their services); each runs once, whoever gets to it first.
            run_deferred()
            return self._store.cleanup_all()
        except Exception:  # at exit, logging is all that is left to do
            log.exception("cleanup at exit failed")
            return 0

    @property
    def exit_cleanup_done(self) -> bool:
        """Whether the once-only cleanup at quit or interpreter exit has run."""
        return self._exited

    # -- signals and listeners ------------------------------------------------------------

    def _dispatch(self, event: LifecycleEvent) -> None:
        for ref, wants_resources in self._listeners:
            if wants_resources or event.kind not in _RESOURCE_KINDS:
                listener = ref()
                if listener is None:
                    continue
                try:
                    listener(event)
                except Exception:
                    log.exception("lifecycle listener %r raised", listener)
        if self._connected[event.kind.value]:
            getattr(self, event.kind.value).emit(event)

    def connectNotify(self, signal: QMetaMethod) -> None:
        name = bytes(signal.name().data()).decode()
        if name in self._connected:
            self._connected[name] = True
            self._update_resource_events()

    def disconnectNotify(self, signal: QMetaMethod) -> None:
        # isSignalConnected() here deadlocks (docs/architecture.md, "Measured facts"); the periodic
        # cleanup re-checks.
        # Until then a stale "connected" flag costs an emit with no receiver, never an event.
        name = bytes(signal.name().data()).decode()
        if name in self._connected:
            self._stale_connections = True

    def _refresh_connected(self) -> None:
        meta = self.metaObject()
        for name in self._connected:
            index = meta.indexOfSignal(f"{name}(PyObject)")
            if index >= 0:
                self._connected[name] = self.isSignalConnected(meta.method(index))
        self._update_resource_events()

    def _update_resource_events(self) -> None:
        self._store.resource_events = (
            self._connected[EventKind.RESOURCE_TRACKED.value]
            or self._connected[EventKind.RESOURCE_RELEASED.value]
            or any(r for _, r in self._listeners))


def process_memory() -> tuple[int, int]:
    """(resident bytes now, peak resident bytes) of this process.

    The peak comes from ``getrusage`` (0.5 µs, and exact: no polling misses a spike).
    """
    peak = _rusage.getrusage(_rusage.RUSAGE_SELF).ru_maxrss
    if sys.platform != "darwin":
        peak *= 1024  # kilobytes on Linux, bytes on macOS
    try:
        with open("/proc/self/statm", "rb") as f:
            rss = int(f.read().split()[1]) * _PAGE
    except OSError:
        import psutil

        rss = int(psutil.Process().memory_info().rss)
    return rss, max(peak, rss)


try:
    import os as _os

    _PAGE = _os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
    _PAGE = 4096
