"""``MetricsModel``: what the dock, the socket server and the exporters all read.

The model adds nothing to the service's hot paths. The service's store already keeps exact
counters under its own lock; the model reads them when it samples or snapshots, and listens
only to component-level events (registrations, cleanups, deaths), which are rare. So tracking
costs the same with or without an inspector attached, and created - destroyed = live holds
in every snapshot because all counters are copied under one lock.

Nothing here needs the GUI thread: a sampler thread fills the history (``sampling.py``), and
lag and the GUI stack are read from the event-loop probe, so a frozen application still
answers. The model puts together parts that each have a module: the hang log and the stall
file (``freezes.py``), leak suspects (``leaks.py``), teardown audits and markers
(``teardowns.py``), the resource listing (``listing.py``) and ``why`` (``metrics/why``).
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector._appname import default_app_name
from inspector.resources import InspectedService, process_memory

from .freezes import Freezes
from .history import HistoryRings
from .leaks import LeakFinder, SuspectFilter
from .listing import resource_page
from .probe import LoopProbe
from .sampling import CACHE_TYPES, HistorySampler, held_orphans
from .snapshot import (
    ComponentStats,
    History,
    LeakSuspect,
    ResourcePage,
    Snapshot,
    TypeStats,
    WhyResult,
    WorkerInfo,
)
from .suspects import SuspectPolicy
from .teardowns import TeardownLog
from .why.search import explain

__all__ = ["MetricsModel", "default_app_name"]


class MetricsModel:
    """The inspector's view of one service: counters, history, lag, suspects and audits.

    ``service`` is passed in (tests build their own): a ``ResourceManagementService`` or
    anything else that is an ``InspectedService``, the only members the model reads. Call
    :meth:`start` to run the sampler thread and the GUI heartbeat; :meth:`sample` takes one
    sample now. Stalls of the GUI thread longer than ``hang_threshold_ms`` go to the hang
    log (:meth:`hangs`).
    """

    def __init__(
        self,
        service: InspectedService,
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
        if not isinstance(service, InspectedService):
            raise TypeError("MetricsModel reads an InspectedService's counters (a "
                            f"ResourceManagementService is one); got {type(service).__name__}")
        self.service = service
        self.app = app or default_app_name()
        self.pid = os.getpid()
        self.probe = LoopProbe(probe_interval_ms, lag_threshold_ms, hang_threshold_ms)
        self._started_mono = time.monotonic()
        self._history = HistoryRings(history_size)
        self._leaks = LeakFinder(service, policy or SuspectPolicy())
        self._sampler = HistorySampler(service, self.probe, self._history, self._leaks,
                                       self._started_mono, sample_interval_s)
        self._freezes = Freezes(self.probe)
        self._teardowns = TeardownLog(self._history, self._started_mono, audit_size)
        self._seq = itertools.count(1)
        self._parts: list[Callable[[float], dict[str, Any]]] = []
        service.add_listener(self._teardowns.on_event)

    @property
    def sample_interval_s(self) -> float:
        """Seconds between two history samples (and two growth observations)."""
        return self._sampler.interval_s

    @sample_interval_s.setter
    def sample_interval_s(self, seconds: float) -> None:
        self._sampler.interval_s = seconds

    @property
    def policy(self) -> SuspectPolicy:
        """The leak detector's thresholds; assigning one resets the growth windows."""
        return self._leaks.policy

    @policy.setter
    def policy(self, policy: SuspectPolicy) -> None:
        self._leaks.policy = policy

    def extend(self, *, part: Callable[[float], dict[str, Any]] | None = None,
               suspects: SuspectFilter | None = None) -> None:
        """Add to what snapshots hold (``resinspect run``'s Qt objects and census).

        ``part(now)`` returns extra Snapshot fields; ``suspects(found, now)`` returns the
        suspect list with its own added. Both are called from any thread and must not need
        the GUI thread.
        """
        if part is not None:
            self._parts.append(part)
        if suspects is not None:
            self._leaks.add_filter(suspects)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the sampler thread and, on the GUI thread, the event-loop heartbeat."""
        self.probe.start()
        self._sampler.start()

    @property
    def sampling(self) -> bool:
        """Whether the sampler thread runs (``start()`` was called and not ``stop()``)."""
        return self._sampler.running

    def stop(self) -> None:
        """Stop the sampler and the heartbeat, keep listening; ``start()`` resumes."""
        self._sampler.stop()
        self.unwatch_stalls()
        self.probe.stop()

    def close(self) -> None:
        """Stop sampling and stop listening to the service."""
        self.stop()
        self.service.remove_listener(self._teardowns.on_event)

    # -- freezes --------------------------------------------------------------------------------

    @property
    def hang_threshold_ms(self) -> float:
        """Stalls of the GUI thread longer than this go to the hang log."""
        return self._freezes.threshold_ms

    def hangs(self) -> dict[str, Any]:
        """The hang log: ``{"hangs": [...] newest last, "count", "total_ms", "max_ms",
        "threshold_ms", "by_function": [{"frame", "count", "ms"}], "stalled_ms"}``.

        ``count``, ``total_ms``, ``max_ms`` and ``by_function`` cover the whole run;
        ``stalled_ms`` is how long the GUI thread has been stalled now (0 if it is not).
        """
        return self._freezes.report()

    def watch_stalls(self, path: Path) -> bool:
        """Keep a stall file at ``path`` (0600) that tells, without the GIL, where the GUI
        thread is stuck; the hang monitor's thread re-arms its watchdog, which therefore fires
        only when no Python thread can run. False when there is no heartbeat (no GUI thread
        yet) or the file cannot be made."""
        return self._freezes.watch(path)

    def unwatch_stalls(self) -> None:
        """Stop the stall watchdog and remove its file (idempotent)."""
        self._freezes.unwatch()

    def inspector_bytes(self) -> int:
        """The inspector's own share of the RSS: see ``inspector.metrics.own``."""
        return self._sampler.inspector_bytes()

    # -- reading ------------------------------------------------------------------------------

    def uptime_s(self) -> float:
        """Seconds since the model started."""
        return time.monotonic() - self._started_mono

    def sample(self) -> None:
        """Append one sample to the history and close a growth window when one is due."""
        self._sampler.sample()

    def snapshot(self) -> Snapshot:
        """The application now. Costs O(types + components + workers), never O(resources)."""
        agg = self.service.aggregate()
        now = time.monotonic()
        rss, peak_rss = process_memory()
        workers = self.service.workers()
        held = held_orphans(self.service, workers)
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
            ctype, gone_at = self._teardowns.departed(cid, now)
            components.append(ComponentStats(id=cid, type=ctype, live=0, bytes=0, alive=False,
                                             age_s=round(now - gone_at, 3)))
        components.sort(key=lambda c: (-c.bytes, -c.live, c.id))
        cache = [agg.by_type[t] for t in CACHE_TYPES]
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
            audits=self._teardowns.audits(),
            **self._freezes.snapshot_fields(),
            **extra,
            inspector_bytes=self.inspector_bytes(),
        )

    def leak_suspects(self, now: float | None = None) -> list[LeakSuspect]:
        """Every current suspect: retained, orphaned, growing. Never forces a collection."""
        now = time.monotonic() if now is None else now
        if (not self._sampler.running and math.isfinite(now)
                and self._leaks.observe_due(now, self.sample_interval_s)):
            # Nobody started the sampler (a bare model under a dock or a test): growth is
            # still judged, from the samples reads like this one take.
            self._leaks.observe(self.service.aggregate(), now)
        return self._leaks.suspects(now)

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        """A page of the full resource listing (the one O(resources) call)."""
        return resource_page(self.service, offset, limit, component_id)

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
