"""What the server needs from a metrics model, and nothing more.

``inspector.metrics.MetricsModel`` satisfies it; tests and benchmarks can pass any object
with these members. Every method is called from the server's own thread, so each must be
thread-safe and must never need the GUI thread (a frozen GUI is exactly when a user asks).
"""

from __future__ import annotations

from typing import Protocol

from ..metrics.snapshot import History, ResourcePage, Snapshot


class SnapshotSource(Protocol):
    """The read side of a metrics model."""

    @property
    def app(self) -> str:
        """The application's name, as hello and snapshots report it."""
        ...

    def snapshot(self) -> Snapshot:
        """A snapshot of now; thread-safe, never waits for the GUI thread."""
        ...

    def resources(self, offset: int = 0, limit: int = 500, component_id: str | None = None
                  ) -> ResourcePage:
        """A page of the full resource listing."""
        ...

    def history(self) -> History:
        """The model's ring buffers."""
        ...
