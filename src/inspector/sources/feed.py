"""The history a source builds from the snapshots it is given (pushed, or replayed): one
sample and the new markers per snapshot, markers kept once however often they are seen."""

from __future__ import annotations

from ..metrics.history import HistoryRings
from ..metrics.snapshot import History, Snapshot


class HistoryFeed:
    """Ring buffers fed snapshot by snapshot (or with a whole history at first)."""

    def __init__(self, size: int = 600) -> None:
        self._rings = HistoryRings(size)
        self._seen: set[tuple[float, str, str]] = set()

    def add(self, snap: Snapshot) -> None:
        """One sample of ``snap``, and the markers it carries that are new."""
        self._rings.append(
            {"t": snap.uptime_s, "rss_bytes": snap.rss_bytes,
             "tracked_bytes": snap.tracked_bytes, "live_resources": snap.live_resources,
             "active_workers": snap.active_workers, "cache_bytes": snap.cache_bytes,
             "event_loop_lag_ms": snap.event_loop_lag_ms},
            {name: stats.live for name, stats in snap.by_type.items()})
        self._mark(snap)

    def add_history(self, history: History) -> None:
        """Every sample and marker of ``history`` (an application's own, when attaching)."""
        for i, t in enumerate(history.t):
            self._rings.append(
                {"t": t, "rss_bytes": history.rss_bytes[i],
                 "tracked_bytes": history.tracked_bytes[i],
                 "live_resources": history.live_resources[i],
                 "active_workers": history.active_workers[i],
                 "cache_bytes": history.cache_bytes[i],
                 "event_loop_lag_ms": history.event_loop_lag_ms[i]},
                {name: col[i] for name, col in history.live_by_type.items()})
        self._mark(history)

    def _mark(self, source: Snapshot | History) -> None:
        for m in source.markers:
            key = (m.t, m.kind, m.component_id)
            if key not in self._seen:
                self._seen.add(key)
                self._rings.mark(m)

    def to_history(self) -> History:
        """The samples so far as parallel columns."""
        return self._rings.to_history()

    def clear(self) -> None:
        """Forget every sample and marker."""
        self._rings.clear()
