"""A frame of ``top --replay``: a line saying where in the recording it is, the ``top``
frame of that snapshot, and the lifecycle markers it carries (those new since the frame
before in bold)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from cli.render.table import Cell, Col, KeyedTable, name
from cli.render.top import plain_width, render_top
from inspector.metrics.units import format_duration

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inspector.metrics.snapshot import Snapshot


def replay_frame(path: Path, frames: Sequence[Snapshot], index: int, *,
                 count: int | None = None, max_rows: int | None = None) -> RenderableType:
    """Frame ``index`` of the recording ``path``.

    ``frames`` are either every snapshot of it, or (a streamed reading that held only its
    ends) the first and the last, with ``count`` saying how many there are; the frame before
    ``index`` is then unknown and no marker is shown as new.
    """
    total = len(frames) if count is None else count
    current = frames[index] if count is None else frames[-1]
    previous = frames[index - 1] if count is None and index > 0 else None
    return Group(where_line(path, frames[0], frames[-1], index, total, current),
                 render_top(current, max_rows=max_rows), Text(""),
                 markers_table(current, previous, max_rows))


def replay_width(path: Path, first: Snapshot, last: Snapshot, count: int) -> int:
    """Columns that show the last frame with every id, marker and the path whole."""
    return max(plain_width(last), markers_table(last, None, None).required_width(),
               where_line(path, first, last, count - 1, count, last).cell_len)


def where_line(path: Path, first: Snapshot, last: Snapshot, index: int, count: int,
               current: Snapshot) -> Text:
    """``replay FILE  frame 3/40  at +2s of 39s``."""
    start = first.timestamp
    return Text.assemble(
        ("replay ", "bold magenta"), name(path, 4096), f"  frame {index + 1}/{count}",
        f"  at +{format_duration(current.timestamp - start)}"
        f" of {format_duration(last.timestamp - start)}")


def markers_table(snap: Snapshot, previous: Snapshot | None, max_rows: int | None
                  ) -> KeyedTable:
    """The snapshot's lifecycle markers, newest last; those new since ``previous`` in bold."""
    seen = {(m.t, m.kind, m.component_id) for m in previous.markers} if previous else set()
    markers = list(snap.markers)
    hidden = 0
    if max_rows is not None and len(markers) > max_rows:
        hidden = len(markers) - max_rows
        markers = markers[-max_rows:]
    styles = {"registered": "green", "cleaned_up": "yellow", "destroyed": "red"}
    rows: list[list[Cell]] = []
    for m in markers:
        new = previous is not None and (m.t, m.kind, m.component_id) not in seen
        rows.append([Text(m.component_id, style="bold" if new else ""),
                     Text(m.kind, style=styles.get(m.kind, "")),
                     f"up {format_duration(m.t)}",
                     f"{format_duration(max(0.0, snap.uptime_s - m.t))} ago"])
    return KeyedTable(
        "Lifecycle markers", [Col("Component"), Col("Event"), Col("At", "right"),
                              Col("When", "right")], rows,
        empty="none recorded", footer=f"... and {hidden} earlier" if hidden else "")
