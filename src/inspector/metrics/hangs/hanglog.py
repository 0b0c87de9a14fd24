"""The bounded hang log: the last stalls, and whole-run totals by the function they were in."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from ..snapshot import Hang
from .frames import parse_frame
from .merge import UNOBSERVED

#: Stalls kept in the log (newest last); counts and totals cover the whole run.
HANG_LOG_SIZE = 100
#: Distinct top functions whose whole-run totals are kept.
TOP_FUNCTIONS = 256


class HangLog:
    """The last :data:`HANG_LOG_SIZE` stalls, and whole-run count, total, maximum and totals
    by top function (the innermost frame of a stall's most-seen stack). Thread-safe."""

    def __init__(self, size: int = HANG_LOG_SIZE) -> None:
        self._lock = threading.Lock()
        self._recent: deque[Hang] = deque(maxlen=size)
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self._by_top: dict[str, list[float]] = {}  # top function -> [count, ms]

    def add(self, hang: Hang) -> None:
        """Record one stall."""
        top = _top_function(hang)
        with self._lock:
            self._recent.append(hang)
            self.count += 1
            self.total_ms += hang.duration_ms
            self.max_ms = max(self.max_ms, hang.duration_ms)
            entry = self._by_top.get(top)
            if entry is None:
                if len(self._by_top) >= TOP_FUNCTIONS:  # bounded: the least time gives way
                    del self._by_top[min(self._by_top, key=lambda k: self._by_top[k][1])]
                entry = self._by_top[top] = [0, 0.0]
            entry[0] += 1
            entry[1] += hang.duration_ms

    def recent(self) -> list[Hang]:
        """The kept stalls, oldest first."""
        with self._lock:
            return list(self._recent)

    def totals(self) -> tuple[int, float, float]:
        """Whole run: (count, total ms, longest ms)."""
        with self._lock:
            return self.count, round(self.total_ms, 1), self.max_ms

    def by_function(self) -> list[dict[str, Any]]:
        """Whole run, by top function: ``{"frame", "count", "ms"}``, most time first."""
        with self._lock:
            items = [(k, int(v[0]), round(v[1], 1)) for k, v in self._by_top.items()]
        items.sort(key=lambda i: (-i[2], i[0]))
        return [{"frame": k, "count": c, "ms": ms} for k, c, ms in items]


def _top_function(hang: Hang) -> str:
    if hang.stack:
        name, filename, _line = parse_frame(hang.stack[-1])
        return f"{name} ({filename})" if filename else name
    return UNOBSERVED
