"""Lifecycle markers on the plots: nearby markers merged into one group, drawn as pooled
thin vertical lines whose label is their tooltip (labels drawn on the plot covered the
curves)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyqtgraph as pg

from inspector.metrics.snapshot import Marker
from inspector.metrics.text import safe

from .labels import plain_tooltip
from .plot_style import marker_colour, pen

#: Most recent marker lines drawn per plot; older ones fall off instead of piling up items.
MAX_MARKERS = 20
#: Markers closer than this many pixels share one line: a burst of registrations at
#: start-up is one event to the eye, one item to paint, and one tooltip to read.
MARKER_GAP_PX = 8
#: Which kind colours a shared line, most telling first.
_KIND_RANK = {"destroyed": 0, "cleaned_up": 1, "registered": 2}
_MAX_LABEL = 28


@dataclass(frozen=True)
class MarkerGroup:
    """Markers drawn as one line: at ``t`` (the first one's time), coloured by ``kind``."""

    t: float
    kind: str
    component_id: str
    count: int

    @property
    def label(self) -> str:
        """``destroyed ResultsTab#3 +2``: the id cut to a readable length, escaped."""
        cid = safe(self.component_id)
        if len(cid) > _MAX_LABEL:
            cid = cid[: _MAX_LABEL - 1] + "…"
        more = f" +{self.count - 1}" if self.count > 1 else ""
        return f"{self.kind} {cid}{more}"

    @property
    def tooltip(self) -> str:
        """The hover text of the line: what happened, to whom, and when."""
        more = f" and {self.count - 1} more" if self.count > 1 else ""
        return f"{self.kind}: {safe(self.component_id)}{more}\nat {self.t:.1f} s"


def group_markers(markers: Sequence[Marker], gap: float) -> list[MarkerGroup]:
    """Merge markers less than ``gap`` seconds after the group's first one (input sorted
    by time); a group takes the most telling kind among its markers and that kind's first
    component."""
    groups: list[MarkerGroup] = []
    start = 0
    n = len(markers)
    while start < n:
        end = start + 1
        t0 = markers[start].t
        while end < n and markers[end].t - t0 < gap:
            end += 1
        lead = min(markers[start:end], key=lambda m: _KIND_RANK.get(m.kind, 3))
        groups.append(MarkerGroup(t=t0, kind=lead.kind, component_id=lead.component_id,
                                  count=end - start))
        start = end
    return groups


def groups_in_view(markers: Sequence[Marker], lo: float, span: float, width_px: float
                   ) -> list[MarkerGroup]:
    """The newest :data:`MAX_MARKERS` groups of the markers from time ``lo`` on, for a plot
    ``width_px`` wide showing ``span`` seconds (markers closer than ``MARKER_GAP_PX`` merge).
    """
    gap = span * MARKER_GAP_PX / max(50.0, width_px)
    # Markers are in time order: find the first one in view by bisection.
    first = bisect.bisect_left(markers, lo, key=lambda m: m.t)
    # Only the newest few thousand can end up among the MAX_MARKERS lines shown.
    first = max(first, len(markers) - 50 * MAX_MARKERS)
    return group_markers(markers[first:], gap)[-MAX_MARKERS:]


@dataclass
class MarkerLayer:
    """A pool of thin vertical lines on one plot, reused refresh after refresh."""

    plot: Any
    lines: list[Any] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def show(self, groups: Sequence[MarkerGroup]) -> None:
        """Draw ``groups``, one line each; lines left over are hidden, not deleted."""
        for i, group in enumerate(groups):
            if i == len(self.lines):
                self._add_line(marker_colour(group.kind))
            line = self.lines[i]
            if self.kinds[i] != group.kind:
                line.setPen(pen(marker_colour(group.kind)))
                self.kinds[i] = group.kind
            line.setValue(group.t)
            tip = plain_tooltip(group.tooltip)
            if line.toolTip() != tip:
                line.setToolTip(tip)
            line.setVisible(True)
        for line in self.lines[len(groups) :]:
            line.setVisible(False)

    def _add_line(self, colour: str) -> None:
        line = pg.InfiniteLine(angle=90, movable=False, pen=pen(colour))
        # Markers must not widen the autorange: the data decides the view.
        self.plot.addItem(line, ignoreBounds=True)
        self.lines.append(line)
        self.kinds.append("")

    @property
    def visible_count(self) -> int:
        """How many of the lines are shown."""
        return sum(1 for line in self.lines if line.isVisible())
