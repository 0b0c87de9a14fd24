"""``SourceFeed``: one refresh of the panel, from reading the source to every view.

The dock decides when to refresh (``dock.py``); the feed does it: reads the snapshot and the
history, hands them to the summary, plots, tables and Freezes tab, fetches the selected
component's resources when they may have changed, and turns every failure of the source
into a line on the status line instead of an exception in the event loop. It also keeps
what the views need between refreshes: the last snapshot, and the time before which a
*clear history* hides samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from .refresh_policy import PlotThrottle, ResourceFeed
from .source import ClearableSource, ExplainingSource, FailingSource, MetricsSource

if TYPE_CHECKING:
    from inspector.metrics.snapshot import History, Snapshot

    from .panel import Panel
    from .status import StatusLine
    from .why import WhySource

T = TypeVar("T")

#: How many resources of the selected component are listed.
RESOURCE_PAGE = 500


def explainer(source: MetricsSource | None) -> WhySource | None:
    """What the *why* view asks, for a source that can explain (None for one that cannot)."""
    return source.why if isinstance(source, ExplainingSource) else None


class SourceFeed:
    """Reads ``source`` into a ``Panel``'s views (``panel`` is set once it is built)."""

    def __init__(self, source: MetricsSource | None, status: StatusLine) -> None:
        self.source = source
        self.panel: Panel | None = None
        self.last_snapshot: Snapshot | None = None
        self._status = status
        self._last_t: float | None = None
        self._t_floor: float | None = None
        self._plot_throttle = PlotThrottle()
        self._resources = ResourceFeed()

    def set_source(self, source: MetricsSource | None) -> None:
        """Read ``source`` from now on; the views start empty."""
        self.source = source
        self.last_snapshot = None
        self._last_t = None
        self._t_floor = None
        self._resources.forget()
        panel = self.panel
        if panel is not None:
            panel.tables.set_why_source(explainer(source))
            panel.summary.clear()
            panel.tables.clear_rows()
            if panel.plots is not None:
                panel.plots.clear_view()
        self._status.set("")

    def refresh(self, panel: Panel, *, timed: bool) -> None:
        """Read the source once and update whatever changed (a timed refresh skips idle
        plots)."""
        source = self.source
        if source is None:
            return
        read = self._ask("source", lambda: (source.snapshot(), source.history()))
        if read is None:
            return
        self._apply(panel, *read, timed=timed)
        # A remote source keeps its last snapshot once the application is gone, and says so.
        gone = source.error if isinstance(source, FailingSource) else None
        if gone:
            self._status.set(f"application gone: {gone}")
        else:
            self._status.clear_source()

    def plot_now(self) -> None:
        """Plot the source's history at once (the plots were just built)."""
        panel, source = self.panel, self.source
        if panel is None or panel.plots is None or source is None or self.last_snapshot is None:
            return
        history = self._ask("source", source.history)
        if history is None:
            return
        panel.plots.set_threshold(self.last_snapshot.lag_threshold_ms)
        panel.plots.set_history(history, self._t_floor)

    def clear_history(self) -> None:
        """Hide the samples taken so far (and have the source forget them, if it can)."""
        if isinstance(self.source, ClearableSource):
            self._ask("clear history", self.source.clear_history)
        self._t_floor = self._last_t
        if self.panel is not None and self.panel.plots is not None:
            self.panel.plots.clear_view()

    def _ask(self, what: str, call: Callable[[], T]) -> T | None:
        """``call()``'s answer, or None when it failed: a failure of any source (a closed
        socket, a model mid-shutdown, a bug) is shown on the status line, never raised into
        the event loop."""
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - shown on the status line
            self._status.set(f"{what} failed: {exc}")
            return None

    def _apply(self, panel: Panel, snapshot: Snapshot, history: History, *,
               timed: bool) -> None:
        self.last_snapshot = snapshot
        if history.t:
            self._last_t = history.t[-1]
        panel.summary.set_snapshot(snapshot)
        plots = panel.plots
        if plots is not None and (
            not timed or self._plot_throttle.due(history, snapshot.lag_threshold_ms)
        ):
            plots.set_threshold(snapshot.lag_threshold_ms)
            plots.set_history(history, self._t_floor)
        panel.tables.set_snapshot(snapshot)
        panel.freezes.set_snapshot(snapshot)
        self.update_resources(force=False)

    def update_resources(self, *, force: bool) -> None:
        """List the selected component's resources, fetched again only when they may have
        changed (or when ``force``)."""
        panel, source = self.panel, self.source
        if panel is None:
            return
        tables = panel.tables
        component_id = tables.selected_component()
        if not component_id or source is None:
            self._resources.forget()
            tables.set_resources(None, "")
            return
        key = self._resources.key_of(component_id, self.last_snapshot)
        if not self._resources.due(key, on_screen=tables.currentIndex() == 0, force=force):
            return
        page = self._ask("resources", lambda: source.resources(0, RESOURCE_PAGE, component_id))
        if page is None:
            return
        self._resources.fetched(key)
        tables.set_resources(page, component_id)
