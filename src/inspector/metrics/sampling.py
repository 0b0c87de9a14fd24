"""History sampling: the gauges appended to the rings once a sample interval, on a thread
of its own (the GUI thread may be frozen; the history must go on)."""

from __future__ import annotations

import logging
import threading
import time

from inspector.resources import (
    InspectedService,
    ResourceType,
    WorkerState,
    process_memory,
)
from inspector.resources.orphans import OrphanInfo

from . import own
from .history import HistoryRings, HistorySample
from .leaks import LeakFinder
from .probe import LoopProbe

log = logging.getLogger("inspector.metrics")

#: The types whose bytes are a snapshot's and the history's ``cache_bytes``.
CACHE_TYPES = (ResourceType.CACHE, ResourceType.THUMBNAIL)


def held_orphans(service: InspectedService, workers: list[WorkerState]
                 ) -> list[OrphanInfo]:
    """Workers the service's orphan holding area still runs that are not among ``workers``
    (tracked): they count as active workers in the history and in snapshots alike."""
    tracked = {w.resource_id for w in workers}
    return [o for o in service.orphans.infos() if o.resource_id not in tracked]


class HistorySampler:
    """Takes one sample of the gauges into the rings; :meth:`start` does it periodically."""

    def __init__(self, service: InspectedService, probe: LoopProbe,
                 rings: HistoryRings, leaks: LeakFinder, started_mono: float,
                 interval_s: float = 1.0) -> None:
        self.service = service
        self.probe = probe
        self.rings = rings
        self.leaks = leaks
        self.started_mono = started_mono
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the sampler thread runs (started and not stopped)."""
        return self._thread is not None

    def start(self) -> None:
        """Start the sampler thread (idempotent)."""
        if self._thread is None:
            stop = self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(stop,),
                                            name="resinspect-sampler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the sampler thread (waits for a sample in progress)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def inspector_bytes(self) -> int:
        """The inspector's own share of the RSS: see ``inspector.metrics.own``."""
        return own.total() + self.rings.estimated_bytes()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception:  # the sampler must outlive one bad sample
                log.exception("metrics sample failed")

    def sample(self) -> None:
        """Append one sample to the history and close a growth window when one is due."""
        agg = self.service.aggregate()
        now = time.monotonic()
        rss, _ = process_memory()
        workers = self.service.workers()
        active = sum(1 for w in workers if w.running) + len(held_orphans(self.service, workers))
        cache_bytes = sum(agg.by_type[t].bytes for t in CACHE_TYPES)
        self.rings.add(HistorySample(
            t=round(now - self.started_mono, 3), rss_bytes=rss,
            tracked_bytes=agg.tracked_bytes, live_resources=agg.live_total,
            active_workers=active, cache_bytes=cache_bytes,
            event_loop_lag_ms=round(self.probe.lag_ms(now), 1),
            inspector_bytes=self.inspector_bytes(),
            live_by_type={t.value: c.live for t, c in agg.by_type.items() if c.created}))
        self.leaks.observe(agg, now)
        self.leaks.confirm_pending(now)
