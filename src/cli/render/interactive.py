"""The interactive ``top``'s frame for a terminal of a given height: the parts of
:mod:`cli.render.top`, the components (or one component's resources) as the user scrolled
them, the grouped suspects and a line of keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cli.render.suspects import grouped_suspects_table
from cli.render.top import (
    by_type_line,
    census_line,
    qt_objects_table,
    render_blocked_banner,
    summary_grid,
    title_line,
)
from inspector.metrics.text import clip, safe
from inspector.metrics.units import format_age, format_bytes

if TYPE_CHECKING:
    from cli.topstate import TopState
    from inspector.metrics.snapshot import ComponentStats, ResourcePage, Snapshot


def render_tui(snapshot: Snapshot, state: TopState, height: int, width: int,
               page: ResourcePage | None = None) -> RenderableType:
    """One frame for a terminal ``height`` rows high: header, summary, then the components
    (or the selected component's resources), the grouped suspects and a key line."""
    parts: list[RenderableType] = [title_line(snapshot)]
    if snapshot.blocked:
        parts.append(render_blocked_banner(snapshot))
    parts += [summary_grid(snapshot), by_type_line(snapshot)]
    fixed = 8 + (len(snapshot.gui_stack) + 4 if snapshot.blocked else 0)
    suspects = grouped_suspects_table(snapshot, width, full=state.details,
                                      max_rows=None if state.details else 5)
    suspect_lines = 0 if suspects is None else suspects.row_count + 4
    # Under `resinspect run`: the program's threads, timers and windows, a few rows of them.
    reached = snapshot.qt_objects or snapshot.census is not None
    reached_lines = min(5, len(snapshot.qt_objects)) + 5 if reached else 0
    state.rows = max(3, height - fixed - suspect_lines - reached_lines - 4)
    comps = state.follow(snapshot)
    if state.view == "resources":
        parts.append(_resources_table(state, page, width))
    else:
        parts.append(_components_table(comps, state, width))
    if suspects is not None:
        parts.append(suspects)
    if reached:
        parts += [qt_objects_table(snapshot, 5), census_line(snapshot)]
    parts.append(_keys_line(state))
    return Group(*parts)


def _components_table(comps: list[ComponentStats], state: TopState, width: int) -> Table:
    shown = comps[state.offset:state.offset + state.rows]
    arrow = "↑" if state.reverse else "↓"
    first = state.offset + 1 if comps else 0
    title = (f"Components by {state.sort} {arrow}  {first}-{state.offset + len(shown)} "
             f"of {len(comps)}")
    table = Table(title=title, title_justify="left", title_style="bold", box=None,
                  pad_edge=False, show_edge=False, header_style="bold", expand=False)
    id_width = max(12, width - 46)
    table.add_column("Component", no_wrap=True, max_width=id_width)
    table.add_column("Type", no_wrap=True, max_width=14)
    table.add_column("Live", justify="right", no_wrap=True)
    table.add_column("Bytes", justify="right", no_wrap=True)
    table.add_column("Age", justify="right", no_wrap=True)
    table.add_column("State", no_wrap=True)
    for index, c in enumerate(shown, start=state.offset):
        style = "reverse" if index == state.selected else ""
        table.add_row(clip(safe(c.id), id_width), clip(safe(c.type), 14), str(c.live),
                      format_bytes(c.bytes), format_age(c.age_s),
                      Text("alive", style="green") if c.alive else Text("gone", style="red"),
                      style=style)
    return table


def _resources_table(state: TopState, page: ResourcePage | None, width: int) -> Table:
    total = page.total if page is not None else 0
    items = list(page.items) if page is not None else []
    title = (f"Resources of {clip(safe(state.component), max(10, width - 40))}  "
             f"{state.resource_offset + 1 if items else 0}-"
             f"{state.resource_offset + len(items)} of {total}  (Esc: back)")
    table = Table(title=title, title_justify="left", title_style="bold", box=None,
                  pad_edge=False, show_edge=False, header_style="bold")
    name_width = max(12, width - 52)
    table.add_column("Name", no_wrap=True, max_width=name_width)
    table.add_column("Type", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Age", justify="right", no_wrap=True)
    table.add_column("Thread", no_wrap=True, max_width=18)
    table.add_column("Alive", no_wrap=True)
    for entry in items[:state.rows]:
        # The name the application gave, where it gave one; else the id.
        name = getattr(entry, "name", "") or entry.resource_id
        thread = getattr(entry, "thread_name", "") or str(entry.thread_id)
        table.add_row(clip(safe(name), name_width), safe(entry.resource_type),
                      format_bytes(entry.size_bytes), format_age(entry.age_s),
                      clip(safe(thread), 18), "yes" if entry.alive else "no")
    return table


def _keys_line(state: TopState) -> Text:
    if state.view == "resources":
        keys = "↑↓ scroll  Esc back  d details  q quit"
    else:
        keys = "b/l/n/a sort  ↑↓ PgUp PgDn move  Enter resources  d details  q quit"
    return Text(keys, style="dim")
