"""What the dock reads: any object with the metrics model's read API.

The in-process ``inspector.metrics.MetricsModel`` is one such source; a remote source over
the application's socket (``resinspect view``) and a recording player are others. The dock
calls these methods on the GUI thread once per refresh, so they must return quickly: a
remote source should answer from the latest values it was pushed, not make a round trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: a panel not yet built needs no snapshot types
    from inspector.metrics.snapshot import History, ResourcePage, Snapshot


@runtime_checkable
class MetricsSource(Protocol):
    """The read API the dock needs: a snapshot, the history columns, a resource page."""

    def snapshot(self) -> Snapshot:
        """The application's resources now."""
        ...

    def history(self) -> History:
        """The sampled history, oldest first, as parallel columns."""
        ...

    def resources(
        self, offset: int = 0, limit: int = 500, component_id: str | None = None
    ) -> ResourcePage:
        """A page of the resource listing, optionally of one component only."""
        ...


@runtime_checkable
class ClearableSource(Protocol):
    """A source that can drop its own history (the dock's *clear history* button)."""

    def clear_history(self) -> None:
        """Forget every history sample and marker taken so far."""
        ...
