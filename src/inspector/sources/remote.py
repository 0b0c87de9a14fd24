"""A live application's metrics read over its socket, for a panel outside the application.

The dock reads the source on the GUI thread at every refresh, so it answers from values it
already holds and never waits on the socket there: the newest snapshot a subscription pushed
(on a thread of its own), and the history built from the pushes.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..errors import ResinspectError
from ..metrics.snapshot import History, ResourcePage, Snapshot
from ..server.client import InspectorClient
from .feed import HistoryFeed

log = logging.getLogger("inspector.sources")


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
        self._history = HistoryFeed(history_size)
        self._lock = threading.Lock()
        self._rpc = InspectorClient(self.path, timeout)  # raises a one-line error if refused
        self._rpc_lock = threading.Lock()
        self.app = str(self._rpc.hello_info.get("app", "?"))
        self._history.add_history(self._rpc.history())
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
                    self._history.add(snap)
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
        return self._history.to_history()

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
        self._history.clear()

    def close(self) -> None:
        """Stop following; idempotent."""
        self._stop.set()
        if self._feed is not None:
            self._feed.close()
        self._rpc.close()
        self._thread.join(timeout=self._timeout)
