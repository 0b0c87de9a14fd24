"""Rich renderables for ``resinspect``: they build what to show and never print.

Names come from the application (or from a recording someone sent): every one is shown
through :func:`name`, which escapes control and bidi characters (``inspector.metrics.text``)
and cuts a name longer than :data:`MAX_NAME` characters - on display only, JSON keeps it whole.

The one layout rule that matters: a component id (or a socket path) is never cut and never
broken across lines when the width allows it. Tables are therefore :class:`KeyedTable`s,
which measure their rows at render time and, if the id column would have to shrink, show
each row as the id on a line of its own followed by the other fields - rather than let rich
fold or ellipsise the id.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from inspector.metrics.text import clip, safe
from inspector.metrics.units import format_bytes, format_duration, format_ms

if TYPE_CHECKING:
    from rich.console import JustifyMethod

    from cli.reader import AppDescription
    from inspector.metrics.snapshot import Snapshot, WhyResult

#: Table layout: one space of padding each side of a column, a one-cell separator.
_CELL_OVERHEAD = 3

#: Longest name shown whole. Real ids are far shorter; a 10,000-character one padded every
#: line of ``top --once`` to 10,000 columns.
MAX_NAME = 200


# -- formatting ----------------------------------------------------------------------------


def name(text: object, width: int = MAX_NAME) -> str:
    """An untrusted name as text output shows it: escaped (``\\x1b``) and cut to ``width``."""
    return clip(safe(text), width)


def clock(timestamp: float, fmt: str = "%H:%M:%S") -> str:
    """A recorded time as local time; one no clock can show (``1e308`` or ``nan`` from a
    hostile file) as the number it is, rather than an OverflowError."""
    try:
        if not math.isfinite(timestamp):
            raise ValueError(timestamp)
        return time.strftime(fmt, time.localtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return f"t={timestamp:g}"


def safe_text(cell: Text) -> Text:
    """``cell`` with its text shown through :func:`name`; unchanged (spans kept) if clean."""
    shown = name(cell.plain)
    if shown == cell.plain:
        return cell
    return Text(shown, style=cell.style, justify=cell.justify, overflow=cell.overflow,
                no_wrap=cell.no_wrap)


# -- a table that never breaks its key column ------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A column of a :class:`KeyedTable`. Only ``wrap`` columns (free text) may wrap."""

    header: str
    justify: JustifyMethod = "left"
    wrap: bool = False
    style: str = ""


Cell = str | Text


class KeyedTable:
    """A titled table whose ``key`` column (an id) is never cut or folded while it fits.

    If the console is too narrow for the table with the key whole, every row is drawn as
    the key on its own line and the other fields, labelled, on the next. A key longer than
    the whole console is folded onto several lines, never cut.
    """

    #: Space a wrapping column is assumed to need when deciding whether the table fits.
    WRAP_BUDGET = 12

    def __init__(
        self,
        title: str,
        columns: Sequence[Col],
        rows: Iterable[Sequence[Cell]],
        *,
        key: int = 0,
        empty: str = "",
        footer: str = "",
    ) -> None:
        self.title = title
        self.columns = list(columns)
        # Every cell through the one sanitiser: callers pass names as they came.
        self.rows = [[safe_text(c) if isinstance(c, Text) else Text(name(c)) for c in row]
                     for row in rows]
        self.key = key
        self.empty = empty
        self.footer = footer

    def required_width(self) -> int:
        """Columns the table needs to show every key whole on one line."""
        total = 0
        for index, col in enumerate(self.columns):
            widest = max([cell_len(col.header), *(row[index].cell_len for row in self.rows)])
            total += min(widest, self.WRAP_BUDGET) if col.wrap else widest
        return total + _CELL_OVERHEAD * len(self.columns)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.rows:
            yield Text(self.title, style="bold")
            if self.empty:
                yield Text("  " + self.empty, style="dim")
            return
        if self.required_width() <= options.max_width:
            yield self._table()
        else:
            yield from self._stacked()
        if self.footer:
            yield Text(self.footer, style="dim")

    def _table(self) -> Table:
        table = Table(
            title=self.title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for index, col in enumerate(self.columns):
            if index == self.key:
                # Fold rather than ellipsis should the width change under us: never cut.
                table.add_column(col.header, justify=col.justify, style=col.style or None,
                                 no_wrap=True, overflow="fold")
            else:
                table.add_column(col.header, justify=col.justify, style=col.style or None,
                                 no_wrap=not col.wrap, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def _stacked(self) -> Iterable[RenderableType]:
        yield Text(self.title, style="bold")
        for row in self.rows:
            key = row[self.key].copy()
            key.stylize("bold")
            key.overflow = "fold"
            key.no_wrap = False
            yield key
            fields = Text(overflow="fold")
            for index, (col, cell) in enumerate(zip(self.columns, row, strict=True)):
                if index == self.key or not cell.plain:
                    continue
                if fields.plain:
                    fields.append("  ")
                fields.append(f"{col.header.lower()} ", style="dim")
                fields.append_text(cell)
            # Padding, not leading spaces: a wrapped line stays under its row.
            yield Padding(fields, (0, 0, 0, 4))


def plain_width(snapshot: Snapshot) -> int:
    """Columns that show every table of ``snapshot`` as a table, each id whole on its row.

    Output that is not a terminal has no width of its own: widening it to this gives
    ``grep`` and ``awk`` one line per component, and the reader whole ids.
    """
    tables = (_by_type(snapshot), _components(snapshot, None), _suspects(snapshot),
              _qt_objects(snapshot, None))
    return max(t.required_width() for t in tables)


# -- top -----------------------------------------------------------------------------------


def render_top(snapshot: Snapshot, *, max_rows: int | None = None) -> RenderableType:
    """One frame of ``resinspect top``.

    Header, the red banner with the GUI thread's stack while the event loop is blocked,
    resources by type, components by live bytes (the first ``max_rows`` when given) and
    leak suspects.
    """
    parts: list[RenderableType] = [_title(snapshot)]
    if snapshot.blocked:
        parts.append(render_blocked_banner(snapshot))
    parts += [
        _summary(snapshot),
        _freezes(snapshot),
        Text(""),
        _by_type(snapshot),
        Text(""),
        _components(snapshot, max_rows),
        Text(""),
        _suspects(snapshot),
    ]
    if snapshot.qt_objects or snapshot.census is not None:  # under `resinspect run`
        parts += [Text(""), _qt_objects(snapshot, max_rows), _census_line(snapshot)]
    return Group(*parts)


def _title(s: Snapshot) -> Text:
    return Text.assemble(
        (name(s.app), "bold cyan"), "  pid ", (str(s.pid), "bold"),
        "  up ", format_duration(s.uptime_s), "  at ", clock(s.timestamp),
    )


def _summary(s: Snapshot) -> Table:
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


def _freezes(s: Snapshot) -> RenderableType:
    """The "Freezes" section: stalls of the GUI thread recorded since start (hang log)."""
    from cli.freezes import freezes_section  # it builds on this module's tables

    return Group(Text(""), freezes_section(s))


def _by_type(s: Snapshot) -> KeyedTable:
    items = sorted(((name, t) for name, t in s.by_type.items() if t.created or t.live),
                   key=lambda item: (-item[1].bytes, -item[1].live, item[0]))
    return KeyedTable(
        "Resources by type",
        [Col("Type"), Col("Live", "right"), Col("Created", "right"),
         Col("Destroyed", "right"), Col("Bytes", "right")],
        [[name, str(t.live), str(t.created), str(t.destroyed), format_bytes(t.bytes)]
         for name, t in items],
        empty="nothing tracked yet",
    )


def _components(s: Snapshot, max_rows: int | None) -> KeyedTable:
    from cli.tui import natural_key

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


#: Width of a suspect's one-line detail in a table (the full text is one key away in
#: ``top``, and whole in ``snapshot``'s JSON).
DETAIL_WIDTH = 36


@dataclass(frozen=True)
class SuspectGroup:
    """Leak suspects with the same owner class, type, reason and site: one row."""

    owner: str
    resource_type: str
    reason: str
    site: str
    count: int
    oldest_s: float
    example: str
    detail: str
    confirmed: bool = True

    @property
    def reason_text(self) -> str:
        """The reason, marked ``(pending)`` until a full collection has confirmed it."""
        return self.reason if self.confirmed else f"{self.reason} (pending)"


def owner_class(component_id: str) -> str:
    """``ResultsTab#3`` → ``ResultsTab``: the class part of a component id."""
    head, sep, tail = component_id.rpartition("#")
    return head if sep and tail.isdigit() and head else component_id


def group_suspects(snapshot: Snapshot) -> list[SuspectGroup]:
    """The snapshot's suspects grouped (LeakCanary's fingerprint), most members first."""
    groups: dict[tuple[str, str, str, str], list[Any]] = {}
    for x in snapshot.leak_suspects:
        key = (owner_class(x.component_id), x.resource_type, x.reason,
               str(getattr(x, "site", "") or ""))
        groups.setdefault(key, []).append(x)
    out = []
    for (owner, rtype, reason, site), members in groups.items():
        newest = min(members, key=lambda m: m.age_s)
        detail = next((m.detail for m in members if m.detail), "")
        out.append(SuspectGroup(
            owner=owner, resource_type=rtype, reason=reason, site=site,
            count=sum(int(getattr(m, "count", 1) or 1) for m in members),
            oldest_s=max(m.age_s for m in members),
            example=(" ".join(p for p in (getattr(newest, "name", ""), newest.resource_id) if p)
                     or newest.component_id),
            detail=detail,
            confirmed=all(getattr(m, "confirmed", True) for m in members)))
    out.sort(key=lambda g: (-g.count, -g.oldest_s, g.owner, g.reason))
    return out


def _suspects(s: Snapshot) -> KeyedTable:
    groups = group_suspects(s)
    columns = [Col("Owner"), Col("Type"), Col("Reason", style="yellow"), Col("Count", "right"),
               Col("Oldest", "right"), Col("Example")]
    with_site = any(g.site for g in groups)
    if with_site:
        columns.append(Col("Site"))
    with_detail = any(g.detail for g in groups)
    if with_detail:
        columns.append(Col("Detail"))
    rows: list[list[Cell]] = []
    for g in groups:
        row: list[Cell] = [g.owner, g.resource_type, g.reason_text, str(g.count),
                           format_duration(g.oldest_s), g.example]
        if with_site:
            row.append(g.site)
        if with_detail:
            row.append(_one_line(g.detail, DETAIL_WIDTH))
        rows.append(row)
    total = sum(g.count for g in groups)
    return KeyedTable(f"Leak suspects ({total} in {len(groups)} groups)", columns, rows,
                      empty="no leak suspects")


_KIND_ORDER = {"window": 0, "thread": 1, "timer": 2}


def _qt_objects(s: Snapshot, max_rows: int | None) -> KeyedTable:
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


def _census_line(s: Snapshot) -> Text:
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
def _one_line(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` cells with an ellipsis."""
    return clip(" ".join(text.split()), width)


def grouped_suspects_table(snapshot: Snapshot, width: int, *, full: bool,
                           max_rows: int | None) -> Table | None:
    """The grouped suspects for a terminal ``width`` wide: details cut to one line, or in
    full (wrapped) with ``full``; None when there are none."""
    groups = group_suspects(snapshot)
    if not groups:
        return None
    total = sum(g.count for g in groups)
    shown = groups if max_rows is None else groups[:max_rows]
    more = f", {len(groups) - len(shown)} more groups: d" if len(shown) < len(groups) else ""
    table = Table(title=f"Leak suspects ({total} in {len(groups)} groups{more})",
                  title_justify="left", title_style="bold", box=None, pad_edge=False,
                  show_edge=False, header_style="bold")
    for header, justify in (("Owner", "left"), ("Type", "left"), ("Reason", "left"),
                            ("Count", "right"), ("Oldest", "right")):
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("Detail", no_wrap=not full, overflow="fold" if full else "ellipsis",
                     ratio=1)
    detail_width = max(10, width - 60)
    for g in shown:
        detail = safe(g.detail or g.site or g.example)
        table.add_row(clip(safe(g.owner), 24), safe(g.resource_type), safe(g.reason_text),
                      str(g.count), format_duration(g.oldest_s),
                      detail if full else _one_line(detail, detail_width))
    return table


def _by_type_line(s: Snapshot) -> Text:
    """Resources by type on one line: ``cache 3 (2.9 KiB) · worker 2``."""
    items = sorted(((name, t) for name, t in s.by_type.items() if t.live),
                   key=lambda item: (-item[1].bytes, -item[1].live, item[0]))
    text = Text("By type  ", style="dim")
    for index, (name, t) in enumerate(items):
        if index:
            text.append(" · ", style="dim")
        text.append(f"{name} {t.live}")
        if t.bytes:
            text.append(f" ({format_bytes(t.bytes)})", style="dim")
    if not items:
        text.append("nothing live", style="dim")
    return text


# -- why -----------------------------------------------------------------------------------


def render_why(result: WhyResult) -> KeyedTable:
    """The table of ``resinspect why``: the chain from a root to the resource, root first.

    Names and sites come from the application: shown escaped (by KeyedTable, and here for
    the title).
    """
    title = f"Why {safe(result.resource_id)} is alive (root first)"
    if not result.complete:
        title += ": no root reached within the time budget, the longest chain found"
    rows: list[list[Cell]] = [
        [str(n), link.kind, link.name, link.site or "-"]  # KeyedTable escapes every cell
        for n, link in enumerate(result.chain, start=1)]
    return KeyedTable(title, [Col("#", "right"), Col("Held by"), Col("Name"),
                              Col("Site")], rows, key=2, empty="no chain")


# -- ls ------------------------------------------------------------------------------------


def render_ls(apps: Sequence[AppDescription], *, now: float | None = None) -> KeyedTable:
    """The table of ``resinspect ls``: pid, app, uptime and socket of each live application."""
    now = time.time() if now is None else now
    rows: list[list[Cell]] = [
        [str(a.pid), name(a.app) if a.app else "?",
         format_duration(now - a.started_at) if a.started_at > 0 else "?", str(a.socket)]
        for a in sorted(apps, key=lambda a: a.pid)
    ]
    return KeyedTable(
        "Live applications",
        [Col("PID", "right"), Col("App"), Col("Uptime", "right"), Col("Socket")],
        rows,
        key=3,  # the socket path is what one copies into --socket: keep it whole
        empty="none",
    )
