"""The history a source builds from the snapshots it is given (pushed, or replayed): one
sample and the new markers per snapshot, markers kept once however often they are seen."""

from __future__ import annotations

from ..metrics.history import COLUMNS, HistoryRings, HistorySample
from ..metrics.snapshot import History, Snapshot

#: The gauges a snapshot carries under the history's own column names (all but ``t``, which
#: a snapshot calls ``uptime_s``).
_GAUGES = tuple(c for c in COLUMNS if c != "t")


class HistoryFeed:
    """Ring buffers fed snapshot by snapshot (or with a whole history at first)."""

    def __init__(self, size: int = 600) -> None:
        self._rings = HistoryRings(size)
        self._seen: set[tuple[float, str, str]] = set()

    def add(self, snap: Snapshot) -> None:
        """One sample of ``snap``, and the markers it carries that are new."""
        self._rings.add(HistorySample(
            t=snap.uptime_s, **{c: getattr(snap, c) for c in _GAUGES},
            live_by_type={name: stats.live for name, stats in snap.by_type.items()}))
        self._mark(snap)

    def add_history(self, history: History) -> None:
        """Every sample and marker of ``history`` (an application's own, when attaching)."""
        columns: dict[str, list[float]] = {c: getattr(history, c) for c in COLUMNS}
        for i in range(len(history.t)):
            # A column the sender did not fill (``inspector_bytes`` from an older
            # application) is left to the rings' zero.
            self._rings.append(
                {c: col[i] for c, col in columns.items() if i < len(col)},
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
