"""Fixed-size ring buffers of the main gauges: bounded memory however long the app runs.

:class:`HistorySample` is one sample; its fields name the rings, the columns of
:class:`~inspector.metrics.snapshot.History` and of the CSV export, so a new gauge is added
in one place.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import msgspec

from .snapshot import History, Marker


class HistorySample(msgspec.Struct, frozen=True, kw_only=True):
    """The gauges at one moment, as the history keeps them (``t``: seconds since start)."""

    t: float
    rss_bytes: int = 0
    tracked_bytes: int = 0
    live_resources: int = 0
    active_workers: int = 0
    cache_bytes: int = 0
    event_loop_lag_ms: float = 0.0
    #: The inspector's own share of ``rss_bytes``.
    inspector_bytes: int = 0
    #: Live resources by type (a ring per type ever seen).
    live_by_type: dict[str, int] = msgspec.field(default_factory=dict)


#: The gauges' columns, in order: every field of a sample but the per-type counts.
COLUMNS: tuple[str, ...] = tuple(f for f in HistorySample.__struct_fields__
                                 if f != "live_by_type")
#: Columns kept as integers (the rings hold what was appended, maybe floats).
_INTEGERS = frozenset(f.name for f in msgspec.structs.fields(HistorySample) if f.type is int)
#: Bytes one sampled value costs in a ring: the deque slot and a boxed int or float.
_VALUE_BYTES = 40
#: Bytes one lifecycle marker costs (the struct, its strings, the deque slot).
_MARKER_BYTES = 160


class HistoryRings:
    """One ring per gauge and per resource type, plus a ring of lifecycle markers."""

    def __init__(self, size: int = 600, marker_size: int = 500) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._cols: dict[str, deque[float]] = {c: deque(maxlen=size) for c in COLUMNS}
        self._by_type: dict[str, deque[int]] = {}
        self._markers: deque[Marker] = deque(maxlen=marker_size)

    def add(self, sample: HistorySample) -> None:
        """Add one sample (see :meth:`append`)."""
        self.append({c: getattr(sample, c) for c in COLUMNS}, sample.live_by_type)

    def append(self, values: dict[str, float], live_by_type: dict[str, int]) -> None:
        """Add one sample; a type seen for the first time is back-filled with zeros."""
        with self._lock:
            n = len(self._cols["t"])
            for name, ring in self._cols.items():
                ring.append(values.get(name, 0))
            for type_name, live in live_by_type.items():
                ring_t = self._by_type.get(type_name)
                if ring_t is None:
                    ring_t = self._by_type[type_name] = deque([0] * n, maxlen=self.size)
                ring_t.append(live)
            for type_name, ring_t in self._by_type.items():
                if type_name not in live_by_type:
                    ring_t.append(0)

    def mark(self, marker: Marker) -> None:
        """Record a lifecycle moment (thread-safe: a deque append)."""
        self._markers.append(marker)

    def markers(self, last: int | None = None) -> list[Marker]:
        """The newest ``last`` markers (all when None), oldest first."""
        markers = list(self._markers)
        return markers if last is None else markers[-last:]

    def clear(self) -> None:
        """Forget every sample and marker."""
        with self._lock:
            for ring in self._cols.values():
                ring.clear()
            self._by_type.clear()
            self._markers.clear()

    def estimated_bytes(self) -> int:
        """What the rings hold, estimated from their lengths (no walk over the values)."""
        n = len(self._cols["t"])
        return (n * (len(self._cols) + len(self._by_type)) * _VALUE_BYTES
                + len(self._markers) * _MARKER_BYTES)

    def __len__(self) -> int:
        return len(self._cols["t"])

    def to_history(self) -> History:
        """A consistent copy of the rings, oldest first."""
        with self._lock:
            cols = {name: list(ring) for name, ring in self._cols.items()}
            by_type = {name: list(ring) for name, ring in self._by_type.items()}
            markers = list(self._markers)
        columns: dict[str, Any] = {name: [int(v) for v in values] if name in _INTEGERS
                                   else values for name, values in cols.items()}
        return History(**columns, live_by_type=by_type, markers=markers)
