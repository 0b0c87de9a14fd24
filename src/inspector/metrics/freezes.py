"""The GUI thread's freezes as the model reports them: the hang log, and the stall file.

The hang monitor (``metrics/hangs``) records stalls on its own thread; this reads its log for
the ``hangs`` request and for snapshots, and keeps the stall watchdog whose file the CLI reads
when the application does not answer.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from inspector.resources.orphans import thread_was_terminated

from .hangs.watchdog import StallWatchdog
from .probe import LoopProbe

log = logging.getLogger("inspector.metrics")


class Freezes:
    """The probe's hang log read out, and the stall watchdog started and stopped."""

    def __init__(self, probe: LoopProbe) -> None:
        self.probe = probe
        self._watchdog_lock = threading.Lock()

    @property
    def threshold_ms(self) -> float:
        """Stalls of the GUI thread longer than this go to the hang log."""
        return self.probe.hangs.threshold_ms

    def _totals(self) -> tuple[int, float, float]:
        monitor = self.probe.hangs
        monitor.finish()  # stalls that ended since the monitor's last look are logged first
        return monitor.log.totals()

    def report(self) -> dict[str, Any]:
        """The ``hangs`` reply (see ``MetricsModel.hangs``)."""
        count, total, longest = self._totals()
        monitor = self.probe.hangs
        return {"hangs": monitor.log.recent(), "count": count, "total_ms": total,
                "max_ms": longest, "threshold_ms": monitor.threshold_ms,
                "by_function": monitor.log.by_function(),
                "stalled_ms": round(monitor.current_stall_s() * 1000.0, 1)}

    def snapshot_fields(self) -> dict[str, Any]:
        """The hang fields of a snapshot."""
        count, total, longest = self._totals()
        monitor = self.probe.hangs
        return {"hangs": monitor.log.recent(), "hang_count": count, "hang_total_ms": total,
                "hang_max_ms": longest, "hang_threshold_ms": monitor.threshold_ms}

    def watch(self, path: Path) -> bool:
        """Keep a stall file at ``path`` (see ``MetricsModel.watch_stalls``)."""
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

    def unwatch(self) -> None:
        """Stop the stall watchdog and remove its file (idempotent)."""
        with self._watchdog_lock:
            watchdog = self.probe.hangs.watchdog
            self.probe.hangs.set_watchdog(None)
        if watchdog is not None:
            watchdog.close()
