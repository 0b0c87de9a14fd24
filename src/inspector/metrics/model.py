"""``MetricsModel``: what the dock, the socket server and the exporters all read.

The model adds nothing to the service's hot paths. The service's store already keeps exact
counters under its own lock; the model reads them when it samples or snapshots, and listens
only to component-level events (registrations, cleanups, deaths), which are rare. So tracking
costs the same with or without an inspector attached, and created - destroyed = live holds
in every snapshot because all counters are copied under one lock.

Nothing here needs the GUI thread: a sampler thread fills the history, and lag and the GUI
stack are read from the event-loop probe, so a frozen application still answers. The probe's
hang monitor keeps the log of past stalls (``metrics/hangs``).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from inspector._appname import default_app_name
from inspector.resources import (
    IResourceManagementService,
    ResourceManagementService,
    ResourceType,
    process_memory,
)
from inspector.resources.orphans import orphaned_workers, orphans, thread_was_terminated
from inspector.resources.types import EventKind, LifecycleEvent

from . import own
from .gcwatch import WATCH
from .hangs.watchdog import StallWatchdog
from .history import HistoryRings
from .probe import LoopProbe
from .snapshot import (
    ORPHAN_WORKER,
    CallbackAudit,
    ComponentStats,
    History,
    LeakSuspect,
    Marker,
    ResourceEntry,
    ResourcePage,
    Snapshot,
    TeardownAudit,
    TypeStats,
    WhyResult,
    WorkerInfo,
)
from .suspects import GrowthDetector, SuspectPolicy, group_suspects, watched_suspects
from .why import explain

__all__ = ["MetricsModel", "default_app_name"]

log = logging.getLogger("inspector.metrics")

_CACHE_TYPES = (ResourceType.CACHE, ResourceType.THUMBNAIL)
_MARKER_KIND = {
    EventKind.COMPONENT_REGISTERED: "registered",
    EventKind.CLEANUP_PERFORMED: "cleaned_up",
    EventKind.COMPONENT_UNREGISTERED: "destroyed",
}


class MetricsModel:
    """The inspector's view of one service: counters, history, lag, suspects and audits.

    ``service`` is passed in (tests build their own). Call :meth:`start` to run the
    sampler thread and the GUI heartbeat; :meth:`sample` takes one sample now. Stalls of the
    GUI thread longer than ``hang_threshold_ms`` go to the hang log (:meth:`hangs`).
    """

    def __init__(
        self,
        service: IResourceManagementService,
        *,
        app: str | None = None,
        sample_interval_s: float = 1.0,
        history_size: int = 600,
        probe_interval_ms: int = 50,
        lag_threshold_ms: float = 500.0,
        policy: SuspectPolicy | None = None,
        audit_size: int = 100,
        hang_threshold_ms: float = 200.0,
    ) -> None:
        if not isinstance(service, ResourceManagementService):
            raise TypeError("MetricsModel reads a ResourceManagementService's counters; "
                            f"got {type(service).__name__}")
        self.service = service
        self.app = app or default_app_name()
        self.pid = os.getpid()
        self._policy = policy or SuspectPolicy()
        self.sample_interval_s = sample_interval_s
        self.probe = LoopProbe(probe_interval_ms, lag_threshold_ms, hang_threshold_ms)
        self._watchdog_lock = threading.Lock()
        self._started_mono = time.monotonic()
        self._started_wall = time.time()
        self._history = HistoryRings(history_size)
        self._growth = GrowthDetector(self._policy)
        self._growth_lock = threading.Lock()
        self._audits: deque[TeardownAudit] = deque(maxlen=audit_size)
        # Failing teardowns are kept apart: routine ones must not push them out of sight.
        self._failed_audits: deque[TeardownAudit] = deque(maxlen=audit_size)
        self._departed: dict[str, tuple[str, float]] = {}
        self._seq = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._parts: list[Callable[[float], dict[str, Any]]] = []
        self._suspect_filters: list[Callable[[list[LeakSuspect], float],
                                             list[LeakSuspect]]] = []
        service.add_listener(self._on_event)

    @property
    def policy(self) -> SuspectPolicy:
        """The leak detector's thresholds; assigning one resets the growth windows."""
        return self._policy

    @policy.setter
    def policy(self, policy: SuspectPolicy) -> None:
        with self._growth_lock:
            self._policy = policy
            self._growth = GrowthDetector(policy)

    def extend(self, *, part: Callable[[float], dict[str, Any]] | None = None,
               suspects: Callable[[list[LeakSuspect], float], list[LeakSuspect]] | None = None
               ) -> None:
        """Add to what snapshots hold (``resinspect run``'s Qt objects and census).

        ``part(now)`` returns extra Snapshot fields; ``suspects(found, now)`` returns the
        suspect list with its own added. Both are called from any thread and must not need
        the GUI thread.
        """
        if part is not None:
            self._parts.append(part)
        if suspects is not None:
            self._suspect_filters.append(suspects)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the sampler thread and, on the GUI thread, the event-loop heartbeat."""
        self.probe.start()
        if self._thread is None:
            stop = self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(stop,),
                                            name="resinspect-sampler", daemon=True)
            self._thread.start()

    @property
    def sampling(self) -> bool:
        """Whether the sampler thread runs (``start()`` was called and not ``stop()``)."""
        return self._thread is not None

    def stop(self) -> None:
        """Stop the sampler and the heartbeat, keep listening; ``start()`` resumes."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.unwatch_stalls()
        self.probe.stop()

    def close(self) -> None:
        """Stop sampling and stop listening to the service."""
        self.stop()
        self.service.remove_listener(self._on_event)

    # -- freezes --------------------------------------------------------------------------------

    @property
    def hang_threshold_ms(self) -> float:
        """Stalls of the GUI thread longer than this go to the hang log."""
        return self.probe.hangs.threshold_ms

    def hangs(self) -> dict[str, Any]:
        """The hang log: ``{"hangs": [...] newest last, "count", "total_ms", "max_ms",
        "threshold_ms", "by_function": [{"frame", "count", "ms"}], "stalled_ms"}``.

        ``count``, ``total_ms``, ``max_ms`` and ``by_function`` cover the whole run;
        ``stalled_ms`` is how long the GUI thread has been stalled now (0 if it is not).
        """
        monitor = self.probe.hangs
        monitor.finish()
        count, total, longest = monitor.log.totals()
        return {"hangs": monitor.log.recent(), "count": count, "total_ms": total,
                "max_ms": longest, "threshold_ms": monitor.threshold_ms,
                "by_function": monitor.log.by_function(),
                "stalled_ms": round(monitor.current_stall_s() * 1000.0, 1)}

    def watch_stalls(self, path: Path) -> bool:
        """Keep a stall file at ``path`` (0600) that tells, without the GIL, where the GUI
        thread is stuck; the hang monitor's thread re-arms its watchdog, which therefore fires
        only when no Python thread can run. False when there is no heartbeat (no GUI thread
        yet) or the file cannot be made."""
        ident = self.probe.gui_ident
        if not self.probe.running or ident is None:
            return False
        thread = next((t for t in threading.enumerate() if t.ident == ident), None)
        name = thread.name if thread is not None else "GUI thread"
        native = thread.native_id if thread is not None else None
        with self._watchdog_lock:
            if self.probe.hangs.watchdog is not None:
                return True
            try:
                watchdog = StallWatchdog(path, ident, name, native,
                                         threads_unsafe=thread_was_terminated)
            except OSError as exc:
                log.warning("resinspect: no stall file at %s: %s", path, exc)
                return False
            # Armed once the loop has turned: freezes are of a running event loop, and start-up
            # (the loop not yet turning, threads starting) is when walking threads is riskiest.
            self.probe.hangs.set_watchdog(watchdog)
        return watchdog.active

    def unwatch_stalls(self) -> None:
        """Stop the stall watchdog and remove its file (idempotent)."""
        with self._watchdog_lock:
            watchdog = self.probe.hangs.watchdog
            self.probe.hangs.set_watchdog(None)
        if watchdog is not None:
            watchdog.close()

    def inspector_bytes(self) -> int:
        """The inspector's own share of the RSS: see ``inspector.metrics.own``."""
        return own.total() + self._history.estimated_bytes()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.sample_interval_s):
            try:
                self.sample()
            except Exception:  # the sampler must outlive one bad sample
                log.exception("metrics sample failed")

    # -- reading ------------------------------------------------------------------------------

    def uptime_s(self) -> float:
        """Seconds since the model started."""
        return time.monotonic() - self._started_mono

    def sample(self) -> None:
        """Append one sample to the history and close a growth window when one is due."""
        agg = self.service.aggregate()
        now = time.monotonic()
        rss, _ = process_memory()
        workers = self.service.workers()
        tracked = {w.resource_id for w in workers}
        active = (sum(1 for w in workers if w.running)
                  + sum(1 for o in orphans() if o.resource_id not in tracked))
        cache_bytes = sum(agg.by_type[t].bytes for t in _CACHE_TYPES)
        self._history.append(
            {"t": round(now - self._started_mono, 3), "rss_bytes": rss,
             "tracked_bytes": agg.tracked_bytes, "live_resources": agg.live_total,
             "active_workers": active, "cache_bytes": cache_bytes,
             "event_loop_lag_ms": round(self.probe.lag_ms(now), 1),
             "inspector_bytes": self.inspector_bytes()},
            {t.value: c.live for t, c in agg.by_type.items() if c.created})
        with self._growth_lock:
            self._growth.observe(agg, now, self.service.store.newest_resource)
        self._confirm_pending(now)

    def _confirm_pending(self, now: float) -> None:
        """Run a full collection when a retained resource has waited ``confirm_after_s`` for
        one Python did not run (rate-limited by the watch); on the sampler thread only."""
        wait = self._policy.confirm_after_s
        if any(now - w.released_at >= wait and not w.running
               and not WATCH.confirmed(w.released_at) for w in self.service.watched()):
            WATCH.maybe_collect(now)

    def snapshot(self) -> Snapshot:
        """The application now. Costs O(types + components + workers), never O(resources)."""
        agg = self.service.aggregate()
        now = time.monotonic()
        rss, peak_rss = process_memory()
        workers = self.service.workers()
        tracked = {w.resource_id for w in workers}
        held = [o for o in orphans() if o.resource_id not in tracked]
        lag, blocked, stack = self.probe.read()
        suspects = self.leak_suspects(now)
        by_type = {t.value: TypeStats(live=c.live, created=c.created, destroyed=c.destroyed,
                                      bytes=c.bytes)
                   for t, c in agg.by_type.items() if c.created}
        components = [
            ComponentStats(id=c.component_id, type=c.component_type, live=c.live, bytes=c.bytes,
                           alive=True, created=c.created, destroyed=c.destroyed,
                           age_s=round(now - c.registered_at, 3))
            for c in agg.components]
        alive_ids = {c.component_id for c in agg.components}
        for cid in sorted({s.component_id for s in suspects} - alive_ids - {"*"}):
            ctype, gone_at = self._departed.get(cid, ("component", now))
            components.append(ComponentStats(id=cid, type=ctype, live=0, bytes=0, alive=False,
                                             age_s=round(now - gone_at, 3)))
        components.sort(key=lambda c: (-c.bytes, -c.live, c.id))
        cache = [agg.by_type[t] for t in _CACHE_TYPES]
        extra: dict[str, Any] = {}
        for part in self._parts:
            extra.update(part(now))
        return Snapshot(
            pid=self.pid, app=self.app, timestamp=time.time(),
            uptime_s=round(now - self._started_mono, 3),
            created_total=agg.created_total, destroyed_total=agg.destroyed_total,
            live_resources=agg.live_total, tracked_bytes=agg.tracked_bytes,
            peak_tracked_bytes=agg.peak_tracked_bytes, rss_bytes=rss, peak_rss_bytes=peak_rss,
            active_workers=sum(1 for w in workers if w.running) + len(held),
            cache_bytes=sum(c.bytes for c in cache), cache_entries=sum(c.live for c in cache),
            event_loop_lag_ms=round(lag, 1), gui_stack=stack, by_type=by_type,
            components=components, leak_suspects=suspects, seq=next(self._seq),
            event_loop_blocked=blocked, lag_threshold_ms=self.probe.threshold_ms,
            workers=[WorkerInfo(resource_id=w.resource_id, component_id=w.component_id,
                                running=w.running, age_s=round(now - w.tracked_at, 3),
                                type_name=w.type_name) for w in workers]
            + [WorkerInfo(resource_id=o.resource_id, component_id=o.component_id, running=True,
                          age_s=round(now - o.handed_at, 3), type_name=o.type_name)
               for o in held],
            markers=self._history.markers(50),
            audits=self._audit_list(),
            **self._hang_fields(),
            **extra,
            inspector_bytes=self.inspector_bytes(),
        )

    def _audit_list(self) -> list[TeardownAudit]:
        """The recent teardowns, plus every kept failing one they no longer include."""
        recent = list(self._audits)
        shown = {id(a) for a in recent}
        older = [a for a in list(self._failed_audits) if id(a) not in shown]
        return older + recent

    def _hang_fields(self) -> dict[str, Any]:
        monitor = self.probe.hangs
        monitor.finish()
        count, total, longest = monitor.log.totals()
        return {"hangs": monitor.log.recent(), "hang_count": count, "hang_total_ms": total,
                "hang_max_ms": longest, "hang_threshold_ms": monitor.threshold_ms}

    def leak_suspects(self, now: float | None = None) -> list[LeakSuspect]:
        """Every current suspect: retained, orphaned, growing. Never forces a collection."""
        now = time.monotonic() if now is None else now
        if (self._thread is None and math.isfinite(now)
                and now - self._growth.last_observed >= self.sample_interval_s):
            # Nobody started the sampler (a bare model under a dock or a test): growth is
            # still judged, from the samples reads like this one take.
            agg = self.service.aggregate()
            with self._growth_lock:
                self._growth.observe(agg, now, self.service.store.newest_resource)
        # A held orphan that has finished is let go first, or it would read as retained.
        orphaned_workers()
        found = watched_suspects(self.service.watched(), now, self.policy, WATCH.confirmed)
        # Workers whose owner went without a cleanup (deleted with its tab, or dropped after
        # deleteLater): the service released them, the holding area still runs them.
        reported = {s.resource_id for s in found}
        for orphan in orphans():
            age = now - orphan.handed_at
            if orphan.resource_id not in reported and age >= self.policy.orphan_grace_s:
                found.append(LeakSuspect(
                    component_id=orphan.component_id, resource_type=ResourceType.WORKER.value,
                    resource_id=orphan.resource_id, reason=ORPHAN_WORKER,
                    age_s=round(age, 3), detail="still running after its owner was deleted",
                    name=orphan.name, site=orphan.site))
        with self._growth_lock:
            found.extend(self._growth.suspects(now))
        for extend in self._suspect_filters:
            found = extend(found, now)
        return group_suspects(found)

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        """A page of the full resource listing (the one O(resources) call)."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        total, items = self.service.store.resource_rows(offset, limit, component_id,
                                                        ResourceEntry)
        return ResourcePage(total=total, offset=offset, items=self._with_thread_names(items))

    def _with_thread_names(self, items: list[ResourceEntry]) -> list[ResourceEntry]:
        """Name each row's thread: a worker's own, else the one that tracked it."""
        if not items:
            return items
        names = {t.ident: t.name for t in threading.enumerate()}
        workers = self.service.store.worker_objects(
            [e.resource_id for e in items if e.resource_type == ResourceType.WORKER.value])
        out = []
        for e in items:
            worker = workers.get(e.resource_id)
            name = _own_thread_name(worker) if worker is not None else names.get(
                e.thread_id, "")
            out.append(msgspec.structs.replace(e, thread_name=name) if name else e)
        return out

    def why(self, resource_id: str, *, budget_s: float = 2.0) -> WhyResult:
        """The shortest chain of references from a root that keeps a resource alive.

        Walks the heap in slices (see :mod:`inspector.metrics.why`): call it off the GUI
        thread. ``LookupError`` when the id is unknown or its object is gone.
        """
        found = self.service.store.find_resource(resource_id)
        if found is None:
            raise LookupError(f"no live resource {resource_id!r} (unknown, or already gone)")
        box: list[object] = [found[0]]
        _, _, name, site = found
        del found  # the box is the one reference the search starts from
        return explain(box, resource_id, name, site, budget_s=budget_s)

    def history(self) -> History:
        """The ring buffers, oldest first, with lifecycle markers."""
        return self._history.to_history()

    def clear_history(self) -> None:
        """Forget the history and markers (counters are untouched)."""
        self._history.clear()

    # -- events ---------------------------------------------------------------------------------

    def _on_event(self, event: LifecycleEvent) -> None:
        kind = _MARKER_KIND.get(event.kind)
        if kind is None:
            return
        t = round(event.time - self._started_mono, 3)
        if event.kind is EventKind.CLEANUP_PERFORMED:
            if event.reason in ("destroyed", "collected"):
                kind = ""  # the unregistration that follows marks it as destroyed
            audit = TeardownAudit(
                component_id=event.component_id, reason=event.reason, t=t,
                released=event.released,
                callbacks=[CallbackAudit(name=c.name, priority=c.priority, order=c.order,
                                         duration_ms=round(c.duration_ms, 3), error=c.error)
                           for c in event.callbacks])
            self._audits.append(audit)
            if any(c.error for c in event.callbacks):
                self._failed_audits.append(audit)
        elif event.kind is EventKind.COMPONENT_UNREGISTERED:
            self._departed[event.component_id] = (event.component_type or "component",
                                                  event.time)
            if len(self._departed) > 1024:  # bounded: forget the oldest departures
                for cid in list(self._departed)[:256]:
                    del self._departed[cid]
        if kind:
            self._history.mark(Marker(t=t, kind=kind, component_id=event.component_id))


def _own_thread_name(worker: object) -> str:
    """A worker's own thread's name: a QThread's objectName (else its class), a
    ``threading.Thread``'s name, else the worker's class."""
    try:
        object_name = getattr(worker, "objectName", None)
        if callable(object_name):
            return str(object_name()) or type(worker).__name__
        name = getattr(worker, "name", None)
        if isinstance(name, str) and name:
            return name
    except RuntimeError:  # a QThread whose C++ object is gone
        return ""
    return type(worker).__name__
