"""Full garbage collections, watched: what confirms a retained leak suspect.

An object released by its owner's cleanup may still be alive only because it sits in a
reference cycle the collector has not reached yet; that is not a leak. A suspect is
*confirmed* once it has survived a full (generation 2) collection that began after its
release (LeakCanary's rule). ``gc.callbacks`` tells when each full collection began and how
long it took; the callback only records those two numbers (it runs inside the collector, in
whatever thread triggered it). When Python runs none for a while, the sampler thread asks
for one through :meth:`CollectionWatch.maybe_collect`, rarely and never on a heap where a
collection is known to be slow.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

_monotonic = time.monotonic


class CollectionWatch:
    """When the last full collection began and how long it took; forced ones, rate-limited.

    ``min_interval_s``: at most one forced collection that often. ``max_pause_s``: none
    when the last full collection took longer (it holds the GIL, so every thread waits).
    """

    def __init__(self, min_interval_s: float = 10.0, max_pause_s: float = 0.1) -> None:
        self.min_interval_s = min_interval_s
        self.max_pause_s = max_pause_s
        self._running_since = 0.0
        #: Start (monotonic) of the last full collection that has completed; -inf: none yet.
        self.last_started = float("-inf")
        self.last_duration_s = 0.0
        self.last_forced = float("-inf")
        self.forced = 0
        self._force_lock = threading.Lock()
        #: Called when a full collection starts (see :meth:`on_full_start`).
        self._at_full_start: tuple[Callable[[], None], ...] = ()

    def on_full_start(self, fn: Callable[[], None], *, remove: bool = False) -> None:
        """Call ``fn()`` whenever a full collection starts (``remove``: stop calling it).

        It runs inside the collector, in whatever frame triggered it: it may only record
        or make one C call. One callback of ours in ``gc.callbacks`` serves every such
        listener, because each callback there costs every collection, of any generation,
        about 2 µs (a gen-0 collection of an empty young generation: 0.1 µs bare, 2.1 µs
        with one callback more).
        """
        with self._force_lock:
            listeners = self._at_full_start
            if remove:
                self._at_full_start = tuple(f for f in listeners if f != fn)
            elif fn not in listeners:
                self._at_full_start = (*listeners, fn)

    def callback(self, phase: str, info: dict[str, Any]) -> None:
        """The ``gc.callbacks`` hook: records, nothing more (it runs inside the collector)."""
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._running_since = _monotonic()
            for fn in self._at_full_start:
                fn()
        else:
            now = _monotonic()
            self.last_duration_s = now - self._running_since
            self.last_started = self._running_since

    def confirmed(self, released_at: float) -> bool:
        """Whether a full collection began (and ended) after ``released_at``."""
        return self.last_started > released_at

    def maybe_collect(self, now: float | None = None) -> bool:
        """Run one full collection now unless one ran less than ``min_interval_s`` ago (forced
        by us) or the last one took over ``max_pause_s``; True when it ran.

        Call it from the sampler thread, never from the GUI thread.
        """
        now = _monotonic() if now is None else now
        with self._force_lock:
            if now - self.last_forced < self.min_interval_s:
                return False
            if self.last_duration_s > self.max_pause_s:
                return False
            self.last_forced = now
            self.forced += 1
        gc.collect()
        return True


#: The process's one watch, installed once: gc.callbacks is process-wide.
WATCH = CollectionWatch()
if WATCH.callback not in gc.callbacks:
    gc.callbacks.append(WATCH.callback)
