"""Metrics sources for a panel that is not inside the inspected application.

The dock reads ``snapshot()``, ``history()`` and ``resources()`` on the GUI thread at every
refresh, so these sources answer from values they already hold and never wait on a socket
there: :class:`RemoteSource` keeps the newest snapshot a subscription pushed (on a thread of
its own) and builds the history from the pushes; :class:`RecordingSource` replays a recording
at its recorded pace. Both are Qt-free.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ResinspectError
from .metrics.history import HistoryRings
from .metrics.snapshot import History, Marker, ResourcePage, Snapshot
from .server.client import InspectorClient

log = logging.getLogger("inspector.sources")


def _sample(rings: HistoryRings, snap: Snapshot) -> None:
    rings.append(
        {"t": snap.uptime_s, "rss_bytes": snap.rss_bytes, "tracked_bytes": snap.tracked_bytes,
         "live_resources": snap.live_resources, "active_workers": snap.active_workers,
         "cache_bytes": snap.cache_bytes, "event_loop_lag_ms": snap.event_loop_lag_ms},
        {name: stats.live for name, stats in snap.by_type.items()})


def _markers(rings: HistoryRings, seen: set[tuple[float, str, str]],
             markers: Sequence[Marker]) -> None:
    for m in markers:
        key = (m.t, m.kind, m.component_id)
        if key not in seen:
            seen.add(key)
            rings.mark(m)


class RemoteSource:
    """A live application's metrics, read over its socket.

    ``error`` holds the one-line reason once the application is gone; the last snapshot and
    the history stay readable.
    """

    def __init__(self, socket_path: Path | str, *, interval: float = 1.0,
                 history_size: int = 600, timeout: float = 5.0) -> None:
        self.path = Path(socket_path)
        self.interval = interval
        self.error: str | None = None
        self._timeout = timeout
        self._rings = HistoryRings(history_size)
        self._seen: set[tuple[float, str, str]] = set()
        self._lock = threading.Lock()
        self._rpc = InspectorClient(self.path, timeout)  # raises a one-line error if refused
        self._rpc_lock = threading.Lock()
        self.app = str(self._rpc.hello_info.get("app", "?"))
        history = self._rpc.history()
        for i, t in enumerate(history.t):
            self._rings.append(
                {"t": t, "rss_bytes": history.rss_bytes[i],
                 "tracked_bytes": history.tracked_bytes[i],
                 "live_resources": history.live_resources[i],
                 "active_workers": history.active_workers[i],
                 "cache_bytes": history.cache_bytes[i],
                 "event_loop_lag_ms": history.event_loop_lag_ms[i]},
                {name: col[i] for name, col in history.live_by_type.items()})
        _markers(self._rings, self._seen, history.markers)
        self._latest = self._rpc.snapshot()
        self._stop = threading.Event()
        self._feed: InspectorClient | None = None
        self._thread = threading.Thread(target=self._follow, name="resinspect-remote",
                                        daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            self._feed = InspectorClient(self.path, self._timeout)
            for snap in self._feed.subscribe(self.interval):
                if self._stop.is_set():
                    break
                with self._lock:
                    self._latest = snap
                    _sample(self._rings, snap)
                    _markers(self._rings, self._seen, snap.markers)
        except ResinspectError as exc:
            if not self._stop.is_set():
                self.error = str(exc)
                log.warning("%s", exc)
        finally:
            if self._feed is not None:
                self._feed.close()

    def snapshot(self) -> Snapshot:
        """The newest snapshot pushed."""
        with self._lock:
            return self._latest

    def history(self) -> History:
        """The application's history when attached, extended by every push since."""
        return self._rings.to_history()

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        """A page of the application's resources (one short request; empty once it is gone)."""
        if self.error is None:
            try:
                with self._rpc_lock:
                    return self._rpc.resources(offset, limit, component_id)
            except ResinspectError as exc:
                self.error = str(exc)
        return ResourcePage(total=0, offset=offset, items=[])

    def clear_history(self) -> None:
        """Forget the local history (the application's own is untouched)."""
        self._rings.clear()

    def close(self) -> None:
        """Stop following; idempotent."""
        self._stop.set()
        if self._feed is not None:
            self._feed.close()
        self._rpc.close()
        self._thread.join(timeout=self._timeout)


class RecordingSource:
    """A recording (a list of snapshots) played back at its recorded pace.

    ``speed`` scales time (2.0 plays twice as fast). Once played through it stays on the
    last frame. Recordings hold no resource listings, so ``resources()`` is empty.
    """

    def __init__(self, snapshots: Sequence[Snapshot], *, speed: float = 1.0,
                 clock: Callable[[], float] | None = None) -> None:
        if not snapshots:
            raise ResinspectError("the recording holds no snapshots")
        self._frames = list(snapshots)
        self._speed = max(speed, 1e-6)
        self._clock = clock or time.monotonic
        self._started = self._clock()
        self._shown = 0
        self._rings = HistoryRings(max(600, len(self._frames)))
        self._seen: set[tuple[float, str, str]] = set()
        self._advance()

    @property
    def finished(self) -> bool:
        """Whether the last frame is showing."""
        return self._shown >= len(self._frames)

    def _advance(self) -> Snapshot:
        start = self._frames[0].timestamp
        elapsed = (self._clock() - self._started) * self._speed
        while self._shown < len(self._frames) and (
                self._shown == 0 or self._frames[self._shown].timestamp - start <= elapsed):
            frame = self._frames[self._shown]
            _sample(self._rings, frame)
            _markers(self._rings, self._seen, frame.markers)
            self._shown += 1
        return self._frames[self._shown - 1]

    def snapshot(self) -> Snapshot:
        """The frame due now."""
        return self._advance()

    def history(self) -> History:
        """The frames played so far."""
        self._advance()
        return self._rings.to_history()

    def resources(self, offset: int = 0, limit: int = 500,
                  component_id: str | None = None) -> ResourcePage:
        """Empty: a recording holds snapshots, not resource listings."""
        return ResourcePage(total=0, offset=offset, items=[])

    def close(self) -> None:
        """Nothing to release."""
