"""What a refresh may skip: redrawing idle plots, refetching an unchanged resource list.

Drawing four plots is most of a refresh's cost, and a remote source pays a round trip per
resource fetch; in an idle application only time moves on. Both decisions live here, apart
from the widgets, so they can be read and tested alone.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not at run time: the dock is added before the program's first turn,
    # and msgspec, which the snapshot module loads, costs that turn 16 ms
    from inspector.metrics.snapshot import History, Snapshot

#: While nothing but time moves on, the timer redraws the plots this often (seconds).
PLOT_IDLE_S = 10.0
#: Ages in the resources table are refetched at least this often while it is on screen.
RESOURCE_MAX_AGE_S = 5.0


class PlotThrottle:
    """Whether a timed refresh redraws the plots: when a count, tracked bytes, the markers
    or a freeze changed what they show, and otherwise every ``PLOT_IDLE_S`` (RSS and a few
    ms of lag drift a little all the time)."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._drawn_at = 0.0

    def due(self, history: History, lag_threshold_ms: float) -> bool:
        """Whether to redraw for ``history``; a True answer counts as drawn."""
        lag = history.event_loop_lag_ms
        key = (
            history.live_resources[-1:], history.tracked_bytes[-1:],
            history.active_workers[-1:], history.cache_bytes[-1:],
            tuple(col[-1] if col else 0 for col in history.live_by_type.values()),
            len(history.markers), history.markers[-1] if history.markers else None,
            bool(lag and lag[-1] >= lag_threshold_ms),
        )
        now = time.monotonic()
        if key != self._key or now - self._drawn_at >= PLOT_IDLE_S:
            self._key = key
            self._drawn_at = now
            return True
        return False


class ResourceFeed:
    """When the selected component's resources are fetched again: when its counts moved,
    or (while the list is on screen) when the ages shown have grown stale."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._fetched_at = 0.0

    @staticmethod
    def key_of(component_id: str, snapshot: Snapshot | None) -> tuple[object, ...]:
        """What about ``component_id`` in ``snapshot`` changes its resource list."""
        stats = None
        if snapshot is not None:
            stats = next((c for c in snapshot.components if c.id == component_id), None)
        if stats is None:
            return (component_id,)
        return (component_id, stats.live, stats.bytes, stats.created, stats.destroyed)

    def due(self, key: tuple[object, ...], *, on_screen: bool, force: bool) -> bool:
        """Whether to fetch the list of ``key``'s component now."""
        stale = on_screen and time.monotonic() - self._fetched_at > RESOURCE_MAX_AGE_S
        return force or key != self._key or stale

    def fetched(self, key: tuple[object, ...]) -> None:
        """Note that the list of ``key`` was fetched now."""
        self._key = key
        self._fetched_at = time.monotonic()

    def forget(self) -> None:
        """No list is shown: the next one is fetched whatever its key."""
        self._key = None
