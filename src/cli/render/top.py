"""One frame of ``resinspect top``: the header, the blocked banner, the summary, the freezes,
resources by type, components, leak suspects and (under ``resinspect run``) the program's
threads, timers and windows. The pieces are public: the interactive view
(:mod:`cli.render.interactive`) lays out the same ones for a terminal's height.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.render.freezes import freezes_section
from cli.render.suspects import suspects_table
from cli.render.table import MAX_NAME, Cell, Col, KeyedTable, clock, name, natural_key
from inspector.metrics.units import format_bytes, format_duration, format_ms

if TYPE_CHECKING:
    from inspector.metrics.snapshot import Snapshot


def render_top(snapshot: Snapshot, *, max_rows: int | None = None) -> RenderableType:
    """One frame of ``resinspect top``.

    Header, the red banner with the GUI thread's stack while the event loop is blocked,
    resources by type, components by live bytes (the first ``max_rows`` when given) and
    leak suspects.
    """
    parts: list[RenderableType] = [title_line(snapshot)]
    if snapshot.blocked:
        parts.append(render_blocked_banner(snapshot))
    parts += [
        summary_grid(snapshot),
        Group(Text(""), freezes_section(snapshot)),
        Text(""),
        by_type_table(snapshot),
        Text(""),
        components_table(snapshot, max_rows),
        Text(""),
        suspects_table(snapshot),
    ]
    if snapshot.qt_objects or snapshot.census is not None:  # under `resinspect run`
        parts += [Text(""), qt_objects_table(snapshot, max_rows), census_line(snapshot)]
    return Group(*parts)


def plain_width(snapshot: Snapshot) -> int:
    """Columns that show every table of ``snapshot`` as a table, each id whole on its row.

    Output that is not a terminal has no width of its own: widening it to this gives
    ``grep`` and ``awk`` one line per component, and the reader whole ids.
    """
    tables = (by_type_table(snapshot), components_table(snapshot, None),
              suspects_table(snapshot), qt_objects_table(snapshot, None))
    return max(t.required_width() for t in tables)


def title_line(s: Snapshot) -> Text:
    """``app  pid N  up 3m  at 12:00:00``."""
    return Text.assemble(
        (name(s.app), "bold cyan"), "  pid ", (str(s.pid), "bold"),
        "  up ", format_duration(s.uptime_s), "  at ", clock(s.timestamp),
    )


def summary_grid(s: Snapshot) -> Table:
    """RSS, tracked bytes, resources, workers, caches and the event loop, two to a row."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row(
        "RSS", f"{format_bytes(s.rss_bytes)} (peak {format_bytes(s.peak_rss_bytes)})",
        "Tracked",
        f"{format_bytes(s.tracked_bytes)} (peak {format_bytes(s.peak_tracked_bytes)})",
    )
    grid.add_row(
        "Resources",
        f"{s.live_resources} live / {s.created_total} created / {s.destroyed_total} destroyed",
        "Workers", f"{s.active_workers} active",
    )
    grid.add_row(
        "Caches", f"{format_bytes(s.cache_bytes)} in {s.cache_entries} entries",
        "Event loop", _lag(s),
    )
    return grid


def _lag(s: Snapshot) -> Text:
    if s.blocked:
        return Text(f"BLOCKED, lag {format_ms(s.event_loop_lag_ms)}", style="bold red")
    if s.event_loop_lag_ms > 0:
        return Text(f"lag {format_ms(s.event_loop_lag_ms)}", style="yellow")
    return Text("ok, lag 0 ms", style="green")


def render_blocked_banner(snapshot: Snapshot) -> Panel:
    """The red panel shown while the GUI thread is stuck: for how long, and where."""
    lines: list[RenderableType] = [
        Text(f"The GUI thread has not turned its event loop for "
             f"{format_ms(snapshot.event_loop_lag_ms)} "
             f"(threshold {format_ms(snapshot.lag_threshold_ms)})."),
        Text("GUI thread stack, innermost last:", style="bold"),
    ]
    if snapshot.gui_stack:
        lines += [Text("  " + name(frame, 4 * MAX_NAME), overflow="fold")
                  for frame in snapshot.gui_stack]
    else:
        lines.append(Text("  (no stack captured yet)", style="dim"))
    return Panel(Group(*lines), title="EVENT LOOP BLOCKED", title_align="left",
                 border_style="bold red")


def by_type_table(s: Snapshot) -> KeyedTable:
    """Resources by type, largest first."""
    items = sorted(((n, t) for n, t in s.by_type.items() if t.created or t.live),
                   key=lambda item: (-item[1].bytes, -item[1].live, item[0]))
    return KeyedTable(
        "Resources by type",
        [Col("Type"), Col("Live", "right"), Col("Created", "right"),
         Col("Destroyed", "right"), Col("Bytes", "right")],
        [[n, str(t.live), str(t.created), str(t.destroyed), format_bytes(t.bytes)]
         for n, t in items],
        empty="nothing tracked yet",
    )


def by_type_line(s: Snapshot) -> Text:
    """Resources by type on one line: ``cache 3 (2.9 KiB) · worker 2``."""
    items = sorted(((n, t) for n, t in s.by_type.items() if t.live),
                   key=lambda item: (-item[1].bytes, -item[1].live, item[0]))
    text = Text("By type  ", style="dim")
    for index, (type_name, t) in enumerate(items):
        if index:
            text.append(" · ", style="dim")
        text.append(f"{type_name} {t.live}")
        if t.bytes:
            text.append(f" ({format_bytes(t.bytes)})", style="dim")
    if not items:
        text.append("nothing live", style="dim")
    return text


def components_table(s: Snapshot, max_rows: int | None) -> KeyedTable:
    """Components by live bytes, the first ``max_rows`` when given."""
    # Natural order among equals: Tab#2 before Tab#10.
    comps = sorted(s.components, key=lambda c: (-c.bytes, -c.live, natural_key(c.id)))
    hidden = 0
    if max_rows is not None and len(comps) > max_rows:
        hidden = len(comps) - max_rows
        comps = comps[:max_rows]
    return KeyedTable(
        "Components by live bytes",
        [Col("Component"), Col("Type"), Col("Live", "right"), Col("Bytes", "right"),
         Col("State")],
        [[c.id, c.type, str(c.live), format_bytes(c.bytes),
          Text("alive", style="green") if c.alive else Text("gone", style="red")]
         for c in comps],
        empty="no components registered",
        footer=f"... and {hidden} more components" if hidden else "",
    )


_KIND_ORDER = {"window": 0, "thread": 1, "timer": 2}


def qt_objects_table(s: Snapshot, max_rows: int | None) -> KeyedTable:
    """Threads, timers and windows seen under ``resinspect run``, grouped by owner."""
    items = sorted(s.qt_objects, key=lambda o: (o.component_id, _KIND_ORDER.get(o.kind, 9),
                                                o.resource_id))
    hidden = 0
    if max_rows is not None and len(items) > max_rows:
        hidden = len(items) - max_rows
        items = items[:max_rows]
    rows: list[list[Cell]] = []
    for o in items:
        state = Text(o.state, style="green" if o.state in ("running", "active", "shown")
                     else "yellow" if o.state == "closed" else "dim")
        # Raw names: KeyedTable passes every cell through the one sanitiser.
        # The kind leads the object's cell: a separate column cost the width that keeps a
        # row (and its site) on one line of a 100-column pipe.
        what = (f"{o.kind} {o.class_name} '{o.name}'" if o.name and o.name != o.class_name
                else f"{o.kind} {o.class_name}")
        if o.kind == "timer" and o.interval_ms:
            what += f" every {o.interval_ms} ms"
        rows.append([o.component_id, what, state, _short_site(o.site)])
    return KeyedTable(
        f"Threads, timers and windows ({len(s.qt_objects)})",
        [Col("Owner"), Col("Object"), Col("State"), Col("Started at")],
        rows, empty="none seen yet",
        footer=f"... and {hidden} more" if hidden else "")


def _short_site(site: str) -> str:
    """``function (file:line)`` with the file's directory left out (JSON keeps it whole)."""
    if not site:
        return "-"
    head, sep, rest = site.partition(" (")
    if sep and rest.endswith(")"):
        return f"{head} ({rest[:-1].rsplit('/', 1)[-1]})"
    return site


def census_line(s: Snapshot) -> Text:
    """QObjects live, dangling wrappers, and the largest classes, on one line."""
    census = s.census
    if census is None:
        return Text("QObjects: no census yet", style="dim")
    top = ", ".join(f"{name(c.class_name)} {c.live}" for c in census.classes[:6] if c.live)
    line = Text(f"QObjects: {census.live} live")
    if census.dangling:
        line.append(f", {census.dangling} dangling wrappers", style="yellow")
    line.append(f" (census {format_ms(census.duration_ms)})", style="dim")
    if top:
        line.append(f"  largest: {top}", style="dim")
    return line
